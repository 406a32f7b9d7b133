#!/usr/bin/env bash
# Every C++ source of the project is laid out as .clang-format says: clang-format changes nothing.
# Lists each file it would change; exit 1 if any.
#   format_check.sh CLANG_FORMAT SOURCE_DIR
set -euo pipefail
clang_format=${1:?usage: format_check.sh CLANG_FORMAT SOURCE_DIR}
root=${2:?usage: format_check.sh CLANG_FORMAT SOURCE_DIR}
cd "$root"
bad=0
while IFS= read -r -d '' f; do
  if ! "$clang_format" --style=file --dry-run --Werror "$f" 2>/dev/null; then
    echo "not formatted: $f (clang-format-19 -i $f)"
    bad=1
  fi
done < <(find modules tests examples bench tools -path tests/style/fixtures -prune -o -type f \
           \( -name '*.cpp' -o -name '*.cppm' -o -name '*.hpp' -o -name '*.inc' \) -print0 2>/dev/null | sort -z)
exit "$bad"
