#!/usr/bin/env python3
"""The C++ code blocks of README.md and docs/*.md, sorted into what each claims to be.

A block with a `main` is a whole program a reader may copy: it must be one of examples/*.cpp
included verbatim (built and run as an example), or it is written out here to be compiled.
A block without `main` shows code in the context the text gives it (a declaration, a few calls)
and cannot compile alone; so can a block with `main` preceded by `<!-- fragment -->`, which says
so. Both are listed, not compiled.

  snippets.py <source dir> <output dir>   write each program to compile as <output dir>/*.cpp
                                          (and nothing else there), print what each block is
"""
import pathlib
import re
import sys

FENCE = re.compile(r"^(?P<marker><!-- fragment -->\n)?```cpp\n(?P<body>.*?)^```$", re.M | re.S)
MAIN = re.compile(r"^\s*(int|auto)\s+main\s*\(", re.M)


def blocks(source):
    """(markdown path, line, body, marked fragment) for every ```cpp block."""
    docs = [source / "README.md", *sorted((source / "docs").glob("*.md"))]
    for doc in docs:
        text = doc.read_text()
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start("body"))
            yield doc.relative_to(source), line, m.group("body"), bool(m.group("marker"))


def main(source, out):
    examples = {p.read_text(): p.relative_to(source) for p in (source / "examples").glob("*.cpp")}
    out.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for doc, line, body, marked in blocks(source):
        where = f"{doc}:{line}"
        if body in examples:
            print(f"{where}: examples/{examples[body].name}, verbatim")
        elif marked or not MAIN.search(body):
            print(f"{where}: fragment{' (marked)' if marked else ''}, not compiled")
        else:
            name = re.sub(r"[^A-Za-z0-9]+", "_", f"{doc.with_suffix('')}_{line}") + ".cpp"
            target = out / name
            wanted.add(name)
            if not target.exists() or target.read_text() != body:
                target.write_text(body)
            print(f"{where}: a program, compiled as {name}")
    for stale in out.glob("*.cpp"):
        if stale.name not in wanted:
            stale.unlink()


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
