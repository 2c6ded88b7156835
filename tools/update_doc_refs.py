"""Move the line references in docs/*.md to follow edits of the code they cite.

    python tools/update_doc_refs.py REV     # REV: a commit where the references were right

Each reference looks like [lstm.py:139-141](../minirnn/functional/lstm.py#L139-L141) (or
[lstm.py:139](../minirnn/functional/lstm.py#L139) for one line). For
every cited file, the lines at REV are matched to the lines now (difflib), and each range is
moved to where its lines went. Lines that were rewritten are not moved: `pytest
tests/test_docs.py` then names them, and they are fixed by hand.
"""
import difflib
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = re.compile(r"\[([\w./]+):(\d+)(?:-(\d+))?\]\(\.\./([\w./]+)#L(\d+)(?:-L(\d+))?\)")


def line_map(path, rev):
    """old line number -> new line number, for lines unchanged since ``rev``."""
    old = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    new = open(os.path.join(ROOT, path), encoding="utf-8").read().splitlines()
    mapping = {}
    for tag, i1, i2, j1, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                mapping[i1 + k + 1] = j1 + k + 1
    return mapping


def main(rev):
    maps = {}
    for doc in glob.glob(os.path.join(ROOT, "docs", "*.md")):
        text = open(doc, encoding="utf-8").read()

        def move(m):
            label, a, path = m.group(1), int(m.group(2)), m.group(4)
            b = int(m.group(3)) if m.group(3) else a
            if path not in maps:
                maps[path] = line_map(path, rev)
            na, nb = maps[path].get(a), maps[path].get(b)
            if na is None or nb is None or nb - na != b - a:
                print(f"{os.path.basename(doc)}: {label}:{a}-{b} changed; fix by hand")
                return m.group(0)
            if m.group(3) is None:
                return f"[{label}:{na}](../{path}#L{na})"
            return f"[{label}:{na}-{nb}](../{path}#L{na}-L{nb})"

        new_text = REF.sub(move, text)
        if new_text != text:
            open(doc, "w", encoding="utf-8").write(new_text)
            print(f"updated {os.path.relpath(doc, ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "HEAD")
