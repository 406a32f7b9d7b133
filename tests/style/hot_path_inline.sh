#!/usr/bin/env bash
# Hot-path functions of urine's module interfaces must inline across the module boundary: clang
# does not inline a plain non-template function defined in another module unit, and a member
# function defined inside a class of a named module is not implicitly inline (unlike in a header).
#
# The rule this check keeps: in every module interface unit (modules/**/*.cppm), a function
# defined with a body inside an exported namespace or class must be `inline`, `constexpr`,
# `consteval` or a template (declared with `template <...>`, or a member of a class template),
# unless its unit is cold. `= default` and `= delete` have no body and pass.
#
# Cold units run once per ring or per registration, never per operation: everything under
# modules/registration/ and the ring's setup unit (modules/ring/setup.cppm). Their functions
# may be plain.
#
# Usage: hot_path_inline.sh <modules directory>. Prints each offending definition as
# file:line: text, and exits 1 if there is one.
set -euo pipefail
modules=${1:?usage: hot_path_inline.sh <modules directory>}

is_cold() {
  case "$1" in
    */registration/*.cppm | */ring/setup.cppm) return 0 ;;
    *) return 1 ;;
  esac
}

status=0
while IFS= read -r unit; do
  is_cold "$unit" && continue
  awk -v file="${unit#"${modules%/}/"}" '
    # Text of a line without comments, strings and character literals, so braces in them do not
    # count.
    function code_of(line) {
      gsub(/\\./, "", line)
      gsub(/"[^"]*"/, "\"\"", line)
      gsub(/'"'"'[^'"'"']*'"'"'/, "0", line)
      sub(/\/\/.*/, "", line)
      return line
    }
    BEGIN { depth = 0; decl = ""; in_block_comment = 0 }
    {
      line = $0
      if (in_block_comment) {
        if (line !~ /\*\//) next
        sub(/.*\*\//, "", line); in_block_comment = 0
      }
      gsub(/\/\*[^*]*\*\//, "", line)
      if (line ~ /\/\*/) { sub(/\/\*.*/, "", line); in_block_comment = 1 }
      if (line ~ /^[ \t]*#/) next
      line = code_of(line)
      # At declaration level (namespace or class scope, not inside a body or initializer), read
      # declarations character by character; deeper, only count braces.
      for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (c == "{") {
          kind = "other"
          if (depth == 0 || scope[depth] == "namespace" || scope[depth] == "class") {
            if (decl ~ /(^|[^a-z_])namespace([^a-z_]|$)/ && decl !~ /\(/) kind = "namespace"
            else if (decl ~ /(^|[^a-z_])(class|struct|union)[ \t]/ && decl !~ /\)[ \t]*(const|noexcept|->|$)/ && decl !~ /=/) kind = "class"
            else if (decl ~ /(^|[^a-z_])enum([^a-z_]|$)/) kind = "enum"
            else if (decl ~ /\)/ && decl !~ /=[ \t]*$/ && decl !~ /(^|[^a-z_])(requires)[ \t]*\(/ || decl ~ /\)[^=]*$/) kind = "function"
          }
          depth++
          scope[depth] = kind
          exported[depth] = exported[depth - 1] || (decl ~ /(^|[^a-z_])export([^a-z_]|$)/)
          templated[depth] = templated[depth - 1] || (kind == "class" && decl ~ /template[ \t]*</)
          if (kind == "function" && exported[depth - 1] && !templated[depth - 1] &&
              decl !~ /(^|[^a-z_])(inline|constexpr|consteval)([^a-z_]|$)/ &&
              decl !~ /template[ \t]*</) {
            gsub(/[ \t]+/, " ", decl)
            printf "%s:%d: not inline: %s\n", file, NR, decl
            found = 1
          }
          decl = ""
        } else if (c == "}") {
          if (depth > 0) depth--
          decl = ""
        } else if (c == ";") {
          if (depth == 0 || scope[depth] == "namespace" || scope[depth] == "class") decl = ""
        } else if (depth == 0 || scope[depth] == "namespace" || scope[depth] == "class") {
          decl = decl c
          if (decl ~ /(public|private|protected)[ \t]*:$/) decl = ""
        }
      }
      if (depth == 0 || scope[depth] == "namespace" || scope[depth] == "class") decl = decl " "
    }
    END { exit found ? 1 : 0 }
  ' "$unit" || status=1
done < <(find "$modules" -name '*.cppm' | sort)
exit $status
