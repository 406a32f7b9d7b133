#!/usr/bin/env python3
"""Writes docs/reference.md, urine's API reference, from the module interface units.

Every name a module exports (outside `detail` namespaces) is listed with its declaration and its
doc comment (`///` lines before it, or `///<` after it on the same line); classes with their
public members; operations (urine::ops) with their opcode, first kernel, compile-time
requirements and fields; then the std::errc name of every errno, the names completions and
errors compare against.

  tools/reference.py [--check] [--cxx clang++-19]

writes docs/reference.md; with --check it writes nothing and fails (exit 1) when the file is not
what the sources give, or when an exported name has no doc comment, naming each.
"""
import argparse
import errno
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULES = ROOT / "modules"
OUTPUT = ROOT / "docs" / "reference.md"
BASELINE = pathlib.Path(__file__).resolve().parent / "reference_undocumented.txt"


# --- reading a module unit ------------------------------------------------------------------

def strip_code(text):
    """The unit with comments other than doc comments, strings and the global module fragment
    blanked out (same length, so offsets still match the original)."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        if text.startswith("///", i):
            i = text.find("\n", i) if text.find("\n", i) != -1 else n
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            for k in range(i, end):
                out[k] = " "
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i) + 2
            for k in range(i, end):
                out[k] = " " if text[k] != "\n" else "\n"
            i = end
        elif text[i] in "\"'" and not (text[i] == "'" and i > 0 and text[i - 1].isalnum()):
            quote, k = text[i], i + 1
            while k < n and text[k] != quote:
                k += 2 if text[k] == "\\" else 1
            for j in range(i + 1, k):
                out[j] = "x"
            i = k + 1
        else:
            i += 1
    code = "".join(out)
    # Preprocessor lines (X-macro tables), continuations included.
    code = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group(0)), code, flags=re.M)
    start = re.search(r"^export module [\w.:]+;", code, re.M)
    if start:
        code = " " * start.end() + code[start.end():]
        code = re.sub(r"[^\n]", " ", code[: start.end()]) + code[start.end():]
    return code


def matching(code, i, open_="{", close="}"):
    """Index just past the bracket that closes the one at i."""
    depth = 0
    for k in range(i, len(code)):
        if code[k] == open_:
            depth += 1
        elif code[k] == close:
            depth -= 1
            if depth == 0:
                return k + 1
    raise ValueError("unbalanced")


def doc_comment(original, start):
    """The `///` lines right above offset `start`, joined."""
    lines = original[:start].rstrip(" ").split("\n")[:-1] if "\n" in original[:start] else []
    docs = []
    for line in reversed(lines):
        s = line.strip()
        if s.startswith("///") and not s.startswith("///<"):
            docs.append(s[3:].strip())
        elif s.startswith(("[[", "template")) and not s.endswith((";", "}")):
            continue  # the declaration's own attributes or template head, not one before it
        else:
            break
    return " ".join(reversed(docs)).strip()


def trailing_doc(original, end):
    line_end = original.find("\n", end)
    rest = original[end:line_end if line_end != -1 else len(original)]
    m = re.search(r"///<\s*(.*)", rest)
    return m.group(1).strip() if m else ""


def squash(text):
    text = re.sub(r"///.*", "", text)
    return re.sub(r"\s+", " ", text).strip()


class Decl:
    def __init__(self, kind, name, signature, doc, members=(), body=""):
        self.kind, self.name, self.signature, self.doc = kind, name, signature, doc
        self.members, self.body = list(members), body


NAME_PATTERNS = [
    ("concept", re.compile(r"\bconcept\s+(\w+)")),
    ("alias", re.compile(r"^(?:template\s*<.*?>\s*)?using\s+(\w+)\s*=")),
    ("enum", re.compile(r"\benum\s+(?:class\s+|struct\s+)?(\w+)")),
    ("class", re.compile(r"^(?:template\s*<.*>\s*)?(?:struct|class|union)\s+(?:\[\[.*?\]\]\s*)?(\w+)")),
]


def classify(head):
    """(kind, name) of a declaration from its text up to its body."""
    h = squash(head)
    h = re.sub(r"^export\s+", "", h)
    for kind, pattern in NAME_PATTERNS:
        m = pattern.search(h)
        if m and (kind != "class" or "(" not in h.split("{")[0].split(m.group(1))[0]):
            return kind, m.group(1)
    without_template = re.sub(r"^template\s*<.*?>\s*(requires .*?\s)?(?=[\w\[])", "", h)
    m = re.search(r"(operator\s*[^\s(]+|~?\w+)\s*\(", without_template)
    if m and "=" not in re.sub(r"operator\s*[^\s(]+", "", without_template).split("(")[0]:
        return "function", m.group(1).replace(" ", "")
    m = re.search(r"(\w+)\s*(?:\[[^\]]*\])?\s*(?:=|\{|;|$)", without_template)
    return "variable", m.group(1) if m else h


def is_initializer(head):
    """Whether a `{` after `head` starts a variable's initializer rather than a body."""
    h = re.sub(r"\([^()]*\)", "()", squash(head))
    h = re.sub(r"^template\s*<.*?>\s*(?=[\w\[])", "", h)
    h = re.sub(r"operator\s*\S+?\s*\(", "operator(", h)
    if re.search(r"\b(struct|class|union|enum|namespace|concept|extern)\b", h):
        return False
    return "=" in h or (re.search(r"\w\s*$", h) is not None and "(" not in h)


def statements(code, original, begin, end):
    """The declarations between offsets begin and end (one brace level): (start, head end,
    statement end, body start or None)."""
    i = begin
    while i < end:
        while i < end and code[i] in " \n\t;":
            i += 1
        if i >= end:
            break
        if code.startswith("///", i):
            i = code.find("\n", i) + 1
            continue
        start = i
        depth_paren = depth_angle = 0
        body = None
        while i < end:
            c = code[i]
            if code.startswith("///", i):
                i = code.find("\n", i)
                continue
            if c in "([":
                depth_paren += 1
            elif c in ")]":
                depth_paren -= 1
            elif c == "{" and depth_paren == 0:
                if is_initializer(code[start:i]):
                    i = matching(code, i)
                    continue
                body = i
                i = matching(code, i)
                if re.match(r"\s*;", code[i:]):
                    i = code.index(";", i) + 1
                break
            elif c == ";" and depth_paren == 0:
                i += 1
                break
            elif c == ":" and depth_paren == 0 and re.search(r"\b(public|private|protected)\s*$", code[start:i]):
                i += 1
                break
            i += 1
        yield start, (body if body is not None else i), i, body


def members_of(code, original, body, is_struct):
    """The public members of the class whose body starts at `body`."""
    end = matching(code, body) - 1
    public = is_struct
    out = []
    for start, head_end, stmt_end, inner in statements(code, original, body + 1, end):
        head = code[start:head_end]
        access = re.match(r"\s*(public|private|protected)\s*:", head)
        if access:
            public = access.group(1) == "public"
            continue
        if not public:
            continue
        h = squash(head)
        if re.match(r"(friend\s+class|static_assert|using\s+\w+::|template\s*<[^>]*>\s*friend\s+class)", h):
            continue
        kind, name = classify(head)
        doc = doc_comment(original, start) or trailing_doc(original, stmt_end if inner is None else head_end)
        # A constructor's member initializers are the implementation, not the interface.
        signature = re.sub(r"(\)\s*(?:noexcept)?)\s*:\s*[\w:]+\s*[({].*$", r"\1", h.rstrip(";").strip())
        nested = []
        if inner is not None and kind == "class":
            nested = members_of(code, original, inner, re.search(r"\b(struct|union)\b", h) is not None)
            signature = squash(code[start:inner])
        out.append(Decl(kind, name, signature.rstrip(" {"), doc, nested))
    return out


def exported(path):
    """The declarations a unit exports, outside detail namespaces: (namespace, Decl)."""
    original = path.read_text()
    code = strip_code(original)
    found = []

    previous = {"end": 0, "doc": ""}

    def walk(begin, end, namespace, exporting):
        for start, head_end, stmt_end, body in statements(code, original, begin, end):
            head = code[start:head_end]
            h = squash(head)
            is_export = exporting or h.startswith("export")
            ns = re.match(r"(?:export\s+)?namespace\s+([\w:]+)\s*$", h)
            if ns and body is not None:
                walk(body + 1, matching(code, body) - 1, f"{namespace}::{ns.group(1)}".strip(":"), is_export)
                continue
            if re.match(r"export\s*$", h) and body is not None:
                walk(body + 1, matching(code, body) - 1, namespace, True)
                continue
            if not is_export or "detail" in namespace.split("::") or re.match(
                    r"(export\s+)?(import|module|static_assert|using\s+namespace|using\s+[\w:]+::\w+\s*;?$)", h):
                continue
            if re.match(r"(export\s+)?template\s*<\s*>", h) or body is None and re.match(r"(template\s*<.*>\s*)?(class|struct)\s+\w+\s*;?$", h):
                continue  # a specialisation or forward declaration: the primary is what is listed
            kind, name = classify(head)
            if re.fullmatch(r"[A-Z0-9_]+", name):
                continue  # an X-macro's expansion: the declarations it makes are listed by name
            doc = doc_comment(original, start) or trailing_doc(original, stmt_end)
            # A doc comment covers the declarations that follow it without a blank line (an
            # overload set, a family of operators).
            if not doc and "\n\n" not in original[previous["end"]:start].replace(" ", ""):
                doc = previous["doc"]
            previous.update(end=stmt_end, doc=doc)
            members = []
            text = original[start:stmt_end]
            if kind == "class" and body is not None:
                members = members_of(code, original, body, re.search(r"\b(struct|union)\b", h.split(name)[0]) is not None)
            if kind == "enum" and body is not None:
                text = original[start:stmt_end]
            signature = re.sub(r"^export\s+", "", h if body is None else squash(code[start:body]))
            found.append((namespace, Decl(kind, name, signature.rstrip(";").strip(), doc, members, text)))

    walk(0, len(code), "", False)
    return found


# --- what the abi says about opcodes -------------------------------------------------------

def opcode_table():
    """enumerator -> (kernel name, first kernel, iopoll-capable) from urine.abi's opcode list."""
    text = (MODULES / "abi" / "opcodes.cppm").read_text()
    table = {}
    for m in re.finditer(r"X\((\w+),\s*(\w+),\s*(\d+),\s*(\d+),\s*(\w+)\)", text):
        table[m.group(1)] = (m.group(2), f"{m.group(3)}.{m.group(4)}", m.group(5) == "iopoll")
    return table


def errc_names(cxx):
    """errno name -> std::errc enumerator, from the standard library the toolchain compiles with."""
    preprocessed = subprocess.run([cxx, "-std=c++23", "-E", "-P", "-x", "c++", "-"],
                                  input="#include <system_error>\n", capture_output=True,
                                  text=True, check=True).stdout
    body = re.search(r"enum class errc\s*\{(.*?)\}", preprocessed, re.S).group(1)
    names = {}
    for m in re.finditer(r"(\w+)\s*=\s*(\d+)", body):
        value = int(m.group(2))
        names[errno.errorcode.get(value, str(value))] = m.group(1)
    return names


# --- writing -------------------------------------------------------------------------------

MODULE_ORDER = ["abi", "ring", "ops", "registration", "async"]


def units():
    folders = [f for f in MODULE_ORDER if (MODULES / f).is_dir()]
    folders += sorted(p.name for p in MODULES.iterdir() if p.is_dir() and p.name not in folders)
    for folder in folders:
        for path in sorted((MODULES / folder).glob("*.cppm")):
            yield folder, path


def cell(text):
    """Text inside a markdown table cell: its pipes escaped."""
    return text.replace("|", "\\|")


def member_table(members):
    if not members:
        return []
    rows = [f"| `{cell(m.signature)}` | {m.doc} |" for m in members]
    return ["| member | |", "|---|---|", *rows, ""]


def operation(decl, opcodes):
    """The reference entry of an operation: opcode, first kernel, requirements, fields."""
    statics = {}
    fields = []
    for m in decl.members:
        s = m.signature
        st = re.match(r"static constexpr \w+ (\w+) = (.+)", s)
        if st:
            statics[st.group(1)] = st.group(2)
        elif m.kind == "variable" and not s.startswith("static") and "using " not in s:
            field = re.match(r"(.+?)\s+(\w+)(?:\s*=\s*(.+)|\s*\{(.*)\})?$", s)
            if field:
                default = field.group(3) or (field.group(4) if field.group(4) is not None else None)
                fields.append((field.group(2), field.group(1), default, m.doc))
    code = re.search(r"opcode::(\w+)", statics.get("code", ""))
    if not code:
        return None
    kernel_name, first, iopoll_column = opcodes.get(code.group(1), (code.group(1), "?", False))
    iopoll = statics.get("iopoll_capable", "false")
    iopoll = iopoll_column if "accepts_iopoll" in iopoll else iopoll == "true"
    needs = [n for n in ("needs_sqe128", "needs_big_cqe") if statics.get(n) == "true"]
    if iopoll:
        needs.append("iopoll")
    lines = [f"### `ops::{decl.name}` — `IORING_OP_{kernel_name}`", "",
             f"`{decl.signature}` · first kernel **{first}** · "
             + (", ".join(f"`{n}`" for n in needs) if needs else "no compile-time requirement"), ""]
    if decl.doc:
        lines += [decl.doc, ""]
    if fields:
        lines += ["| field | type | default | |", "|---|---|---|---|"]
        for name, type_, default, doc in fields:
            shown = f"`{default}`" if default is not None else "required"
            lines.append(f"| `.{name}` | `{type_}` | {shown} | {doc} |")
        lines.append("")
    return lines


def render(cxx):
    opcodes = opcode_table()
    undocumented = []
    out = ["# API reference", "",
           "Generated by `tools/reference.py` from the module interface units; do not edit (the",
           "`docs.reference` test fails when this file and the sources disagree). Each name is listed",
           "with its declaration and its doc comment; operations with their opcode, the first kernel",
           "that has it and what they need of a ring at compile time (`needs_sqe128`: a `ring<sqe128>`;",
           "`needs_big_cqe`: a `cqe32` or `cqe_mixed` ring; `iopoll`: accepted on an IOPOLL ring).",
           "Fields without a default must be given.", ""]
    operations = []
    for folder, path in units():
        entries = exported(path)
        if not entries:
            continue
        rel = path.relative_to(ROOT)
        section = [f"## `{rel}`", ""]
        for namespace, decl in entries:
            where = f"{rel}: {namespace}::{decl.name}"
            if not decl.doc:
                undocumented.append(where)
            if namespace.endswith("ops") and decl.kind == "class":
                op = operation(decl, opcodes)
                if op:
                    operations.append((decl.name, op))
                    continue
            section += [f"### `{namespace}::{decl.name}`", "", "```cpp", decl.signature, "```", ""]
            if decl.doc:
                section += [decl.doc, ""]
            section += member_table(decl.members)
            for nested in (m for m in decl.members if m.members):
                section += [f"#### `{namespace}::{decl.name}::{nested.name}`", ""]
                if nested.doc:
                    section += [nested.doc, ""]
                section += member_table(nested.members)
        if len(section) > 2:
            out += section
    if operations:
        ops = ["## Operations (`urine.ops`)", ""]
        for _, lines in sorted(operations):
            ops += lines
        out += ops
    out += ["## errno → `std::errc`", "",
            "A completion's `error()` and an `urine::error` compare equal to these `std::errc` values.", "",
            "| errno | `std::errc` |", "|---|---|"]
    for name, errc in sorted(errc_names(cxx).items()):
        out.append(f"| `{name}` | `{errc}` |")
    out.append("")
    return "\n".join(out), undocumented


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--cxx", default="clang++-19")
    parser.add_argument("--output", type=pathlib.Path, default=OUTPUT)
    args = parser.parse_args()
    text, undocumented = render(args.cxx)
    failed = False
    # Names exported before every name had to be documented: this list may only shrink.
    known = set(BASELINE.read_text().split("\n")) - {""} if BASELINE.exists() else set()
    for where in sorted(set(undocumented) - known):
        print(f"reference: no doc comment: {where}", file=sys.stderr)
        failed = True
    for where in sorted(known - set(undocumented)):
        print(f"reference: documented now, remove it from {BASELINE.name}: {where}", file=sys.stderr)
        failed = True
    if args.check:
        if not args.output.exists() or args.output.read_text() != text:
            print(f"reference: {args.output.name} is stale: run tools/reference.py", file=sys.stderr)
            failed = True
    else:
        args.output.write_text(text)
    if failed:
        return 1
    print(f"reference: current; {len(known)} exported names await a doc comment ({BASELINE.name})"
          if known else "reference: complete and current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
