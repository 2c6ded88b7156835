"""The documents in docs/ say true things about the code, checked on every test run.

1. Code references. Every link to a line of the package has one form,
       [lstm.py:139-141](../minirnn/functional/lstm.py#L139-L141) (lstm_backward, eq. 5')
   (a single line: ``[rnn.py:89](../minirnn/functional/rnn.py#L89)``; several equations:
   ``eq. 2', 3'``; no equation: just the function's name). The file exists, the lines lie
   inside the named function or class (``inspect.getsourcelines``), and each cited tag, written
   ``(5')`` in the code, appears in those lines and in the module's docstring. The cited lines
   are the ones that compute it: the range starts and ends on code (not a blank line or a
   docstring), its first and last statements carry a cited tag on the line itself (or open or
   continue the block of one), and no statement in it is tagged only with another equation.
   A range one line off fails.
2. Names. Every `minirnn.x.y` in backticks is an importable module or attribute, every
   repository path in backticks exists, every `minirnn <subcommand> ...` shown is a command
   the CLI's parser accepts, and every link to another document (and its #anchor) resolves.
3. Code blocks. Every ```python block runs (unless marked ``<!-- no-run -->``): the blocks of
   one document in order, sharing one namespace. A ```text block marked ``<!-- output -->`` after one is what that block prints:
   the words are equal, and the numbers agree to the digits shown. (Numbers shown below 1e-7
   are rounding noise, such as a gradient check's error; they need only stay below 1e-7 and
   within a factor of 100.)
4. The worked example. Every ```text block marked ``<!-- by-hand -->`` in docs/bptt.md is a run
   of consecutive lines of what ``python -m minirnn by-hand srn --backward`` prints, and every
   number in that section's prose is a number the command prints.
5. BPTT in one page. The block a learner pastes imports only NumPy and runs alone; its
   gradients are minirnn's and agree with finite differences; the double sum over products of
   Jacobians equals the loop.
"""
import ast
import contextlib
import functools
import importlib
import inspect
import io
import os
import re
import shlex
import subprocess
import sys
import tokenize
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
DOC_IDS = [p.name for p in DOCS]

# [lstm.py:139-141](../minirnn/functional/lstm.py#L139-L141) (lstm_backward, eq. 5')
REF = re.compile(r"\[(?P<name>[\w/]+\.py):(?P<a>\d+)(?:-(?P<b>\d+))?\]"
                 r"\(\.\./(?P<path>minirnn/[\w/]+\.py)#L(?P<la>\d+)(?:-L(?P<lb>\d+))?\)"
                 r"\s+\((?P<func>[\w.]+)(?:,\s+eq\.\s+(?P<eqs>[^)]+))?\)")
LINE_LINK = re.compile(r"\]\(\.\./minirnn/[^)]*#L\d")      # any link to a line of the package
NAME = re.compile(r"`(minirnn(?:\.\w+)+)")
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


# ---- reading markdown ----------------------------------------------------------------------

def blocks(text):
    """Fenced blocks as (language, code, marker) in order; marker is the HTML comment on the
    nearest non-blank line above the fence ('output', 'by-hand', ...) or None."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        above = next((ln.strip() for ln in reversed(lines[:i]) if ln.strip()), "")
        marker = re.fullmatch(r"<!--\s*([\w-]+)\s*-->", above)
        out.append((m.group(1), "\n".join(lines[i + 1:j]), marker and marker.group(1)))
        i = j + 1
    return out


def prose(text):
    """``text`` without its fenced blocks."""
    return re.sub(r"^```.*?^```[ \t]*$", "", text, flags=re.S | re.M)


def section(text, heading_words):
    """The ``## `` section whose heading contains ``heading_words``, up to the next one."""
    m = re.search(rf"^## [^\n]*{re.escape(heading_words)}.*?(?=^## |\Z)", text, re.S | re.M)
    assert m, f"no section with {heading_words!r} in its heading"
    return m.group(0)


def numbers(text):
    return [float(t) for t in NUMBER.findall(text)]


# ---- 1. code references --------------------------------------------------------------------

def all_refs():
    for doc in DOCS:
        for m in REF.finditer(doc.read_text(encoding="utf-8")):
            yield pytest.param(doc.name, m, id=f"{doc.name}:{m.group(0).split(']')[0][1:]}")


def test_every_document_cites_code():
    for doc in DOCS:
        if doc.name in ("bptt.md", "gradient-checking.md", "architecture.md"):
            assert REF.search(doc.read_text(encoding="utf-8")), f"{doc.name} cites no code"


@pytest.mark.parametrize("doc", DOC_IDS)
def test_line_links_have_the_one_form(doc):
    """A link to package lines that is not a full reference (wrong anchor, no function) fails."""
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    full = {m.start("path") - 5 for m in REF.finditer(text)}   # where each "](../" begins
    bad = [text[max(0, k.start() - 40):k.end() + 40] for k in LINE_LINK.finditer(text)
           if k.start() not in full]
    assert not bad, f"links not in the form [f.py:a-b](../minirnn/...#La-Lb) (func, eq. N): {bad}"


@pytest.mark.parametrize("doc,m", list(all_refs()))
def test_code_reference(doc, m):
    path, func = m.group("path"), m.group("func")
    a, b = int(m.group("a")), int(m.group("b") or m.group("a"))
    assert path.endswith(m.group("name")), f"link text {m.group('name')} is not {path}"
    assert (m.group("la"), m.group("lb")) == (m.group("a"), m.group("b")), \
        f"the anchor #L{m.group('la')}-L{m.group('lb')} differs from the text's lines {a}-{b}"
    assert a <= b, f"empty line range {a}-{b}"
    file = ROOT / path
    assert file.is_file(), f"{path} does not exist"
    module = importlib.import_module(path[:-3].replace("/", "."))
    obj = module
    for part in func.split("."):
        assert hasattr(obj, part), f"{func} is not defined in {path}"
        obj = getattr(obj, part)
    source, first = inspect.getsourcelines(obj)
    last = first + len(source) - 1
    tags = [t.strip() for t in (m.group("eqs") or "").split(",") if t.strip()]
    # where the tags are now, to help whoever updates the reference after the code moved
    hint = "; ".join(f"({t}) is on lines {[first + i for i, ln in enumerate(source) if f'({t})' in ln]}"
                     for t in tags)
    assert first <= a and b <= last, \
        f"lines {a}-{b} are outside {func}, which spans lines {first}-{last} of {path}. {hint}"
    cited = "".join(file.read_text(encoding="utf-8").split("\n")[a - 1:b])
    for tag in tags:
        assert f"({tag})" in cited, f"({tag}) does not appear in {path} lines {a}-{b}. {hint}"
        assert f"({tag})" in (module.__doc__ or ""), f"({tag}) is not an equation of {path}"


TAG = re.compile(r"\(([A-Z]?\d+'?)\)")          # an equation tag in a comment: (5'), (P1)
SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
        tokenize.ENCODING, tokenize.ENDMARKER}


@functools.lru_cache(maxsize=None)
def source_lines(path):
    """What each line of a source file is: {line: (statement, tags)}, for the lines that hold
    code (not blank, not only a comment, not in a docstring). ``statement`` numbers the
    logical line the code belongs to (a statement may span several lines); ``tags`` are the
    equation tags in the comments of that whole statement."""
    text = (ROOT / path).read_text(encoding="utf-8")
    docstrings = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    statement_of, tags_of, statement = {}, {}, 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            tags_of.setdefault(statement, set()).update(TAG.findall(tok.string))
        elif tok.type == tokenize.NEWLINE:
            statement += 1
        elif tok.type not in SKIP:
            for line in range(tok.start[0], tok.end[0] + 1):
                if line not in docstrings:
                    statement_of[line] = statement
    # a comment after the NEWLINE of its statement (on the same line) belongs to it too
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT and tok.start[0] in statement_of:
            tags_of.setdefault(statement_of[tok.start[0]], set()).update(TAG.findall(tok.string))
    return {line: (s, frozenset(tags_of.get(s, ()))) for line, s in statement_of.items()}


HEADER = re.compile(r"\s*(for|if|elif|else|while|with|try|except|finally)\b[^#]*:\s*(#.*)?$")


@pytest.mark.parametrize("doc,m", list(all_refs()))
def test_a_reference_cites_the_lines_that_compute_it(doc, m):
    check_cited_lines(doc, m)


def check_cited_lines(doc, m):
    """The cited lines are the ones that compute what the reference says, not their
    neighbours. The first and the last cited line hold code, not a blank line or a docstring
    (the range may open with a comment on the code below it). With equations named, no statement in the range is tagged only with other
    equations; the first line is a statement tagged with a named equation (or the header of
    a loop or an ``if`` around it); the last is one, or continues the block a named tag opens
    (an untagged line under the tagged one, with no blank line between). A range one line
    off lands on a neighbour with another tag, on a blank line or a docstring, or past the
    block, and fails."""
    path = m.group("path")
    a, b = int(m.group("a")), int(m.group("b") or m.group("a"))
    lines, text = source_lines(path), (ROOT / path).read_text(encoding="utf-8").split("\n")
    where = f"{doc}: {m.group(0).split(']')[0]}]"
    while a < b and a not in lines and text[a - 1].strip().startswith("#"):
        a += 1                              # a comment that opens the range introduces its code
    for end in sorted({a, b}):
        assert end in lines, f"{where}: line {end} of {path} holds no code (blank, a comment " \
                             f"or a docstring)"
    named = {t.strip() for t in (m.group("eqs") or "").split(",") if t.strip()}
    if not named:
        return
    hint = "; ".join(f"({t}) is on lines {sorted(k for k, (_, g) in lines.items() if t in g)}"
                     for t in sorted(named))
    other = {k: sorted(lines[k][1]) for k in range(a, b + 1)
             if k in lines and lines[k][1] and not lines[k][1] & named}
    assert not other, f"{where}: lines {other} compute other equations. {hint}"
    first_tags = lines[a][1]
    assert first_tags & named or (not first_tags and HEADER.match(text[a - 1])), \
        f"{where}: line {a} computes {sorted(first_tags) or 'no tagged equation'}, " \
        f"not eq. {', '.join(sorted(named))}. {hint}"
    k = b                                   # the last line, or the tagged line it continues
    while not lines[k][1]:
        k -= 1
        while k >= a and k not in lines and text[k - 1].strip().startswith("#"):
            k -= 1                          # a comment between is part of the block
        assert k >= a and k in lines, \
            f"{where}: line {b} computes no tagged equation, and continues no line of " \
            f"eq. {', '.join(sorted(named))} above it in the range. {hint}"
    indent = lambda n: len(text[n - 1]) - len(text[n - 1].lstrip())
    assert lines[k][1] & named, f"{where}: line {b} continues line {k}, which computes " \
                                f"{sorted(lines[k][1])}, not eq. {', '.join(sorted(named))}. {hint}"
    assert k == b or indent(b) >= indent(k), \
        f"{where}: line {b} is outside the block of line {k}, which computes eq. " \
        f"{', '.join(sorted(lines[k][1]))}, and carries no tag. {hint}"


@pytest.mark.parametrize("doc", DOC_IDS)
def test_prose_line_numbers_match_the_reference_they_explain(doc):
    """'line 89' in prose names a line of a reference shown just before it (in the last 600
    characters): prose and link cannot disagree."""
    text = prose((ROOT / "docs" / doc).read_text(encoding="utf-8"))
    for m in re.finditer(r"\blines? (\d+)(?:-(\d+))?", text):
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        before = list(REF.finditer(text[max(0, m.start() - 600):m.start()]))
        assert before, f"{doc}: {m.group(0)!r} explains no reference shown before it"
        ref = before[-1]
        ra, rb = int(ref.group("a")), int(ref.group("b") or ref.group("a"))
        assert ra <= a <= b <= rb, \
            f"{doc}: the prose says {m.group(0)!r} about {ref.group(0).split(')')[0]})"


@pytest.mark.parametrize("doc,m", list(all_refs()))
def test_a_reference_to_tagged_lines_names_their_tags(doc, m):
    """A reference whose lines carry equation tags like (4') must name at least one of them:
    an untagged citation of the math cannot say which equation it shows."""
    path = ROOT / m.group("path")
    a, b = int(m.group("a")), int(m.group("b") or m.group("a"))
    cited = "\n".join(path.read_text(encoding="utf-8").split("\n")[a - 1:b])
    tags = set(re.findall(r"#\s*\((\d+'?)\)", cited))          # a comment that opens with a tag
    if tags:
        named = {t.strip() for t in (m.group("eqs") or "").split(",") if t.strip()}
        assert named & tags, (f"{doc}: {m.group(0).split(']')[0]}] shows equations "
                              f"{sorted(tags)} but names none of them (add ', eq. ...')")


# ---- 2. dotted names -----------------------------------------------------------------------

def resolve(dotted):
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)        # AttributeError: the name does not exist
        return obj
    raise ImportError(dotted)


@pytest.mark.parametrize("doc", DOC_IDS)
def test_dotted_names_resolve(doc):
    text = prose((ROOT / "docs" / doc).read_text(encoding="utf-8"))
    names = sorted(set(NAME.findall(text)))
    missing = []
    for name in names:
        try:
            resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
    assert not missing, f"names in {doc} that do not resolve: {missing}"


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("doc", DOC_IDS)
def test_links_between_documents_resolve(doc):
    """[text](other.md#anchor) and [text](#anchor): the file exists and has that heading."""
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([\w.-]*\.md|)(?:#([\w-]+))?\)", prose(text)):
        file = ROOT / "docs" / (target or doc)
        assert file.is_file(), f"{doc} links to {target}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", prose(file.read_text(encoding="utf-8")), re.M)
            assert anchor in {slug(h) for h in headings}, f"{doc}: no heading #{anchor} in {file.name}"


@pytest.mark.parametrize("doc", DOC_IDS)
def test_paths_exist(doc):
    """Every repository path in backticks (`minirnn/...`, `tests/...`, ...) exists."""
    text = prose((ROOT / "docs" / doc).read_text(encoding="utf-8"))
    paths = re.findall(r"`((?:minirnn|tests|docs|benchmarks)/[\w/.-]*)`", text)
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"paths in {doc} that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOC_IDS)
def test_commands_parse(doc):
    """Every `minirnn ...` command shown (in backticks or a bash block) is one the CLI accepts."""
    from minirnn.cli import build_parser
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    commands = re.findall(r"`(?:python -m )?minirnn ([^`]+)`", prose(text))
    for lang, code, _ in blocks(text):
        if lang in ("bash", "sh", "console"):
            commands += re.findall(r"^\s*(?:\$\s*)?(?:python -m )?minirnn ([^#\n]+)", code, re.M)
    for command in commands:
        try:
            build_parser().parse_args(shlex.split(command))
        except SystemExit:
            pytest.fail(f"{doc}: `minirnn {command}` is not a valid command")


# ---- 3. code blocks and their output -------------------------------------------------------

def same_number(shown, got):
    """``got`` (as printed now) agrees with ``shown`` (in the document) to the digits shown."""
    x, y = float(shown), float(got)
    if abs(x) < 1e-7:                        # rounding noise: below 1e-7, same magnitude
        return abs(y) < 1e-7 and (x == 0 or y == 0 or 1e-2 <= abs(y / x) <= 1e2)
    mantissa, _, exponent = shown.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    unit = 10.0 ** (-decimals) * 10.0 ** int(exponent or 0)
    return abs(x - y) <= unit * (1 + 1e-9)


def same_output(shown, got):
    """None if ``got`` matches ``shown`` (words equal, numbers to the digits shown), else why."""
    shown_lines = [ln.rstrip() for ln in shown.strip("\n").split("\n")]
    got_lines = [ln.rstrip() for ln in got.strip("\n").split("\n")]
    if len(shown_lines) != len(got_lines):
        return f"{len(got_lines)} lines printed, {len(shown_lines)} shown"
    for s, g in zip(shown_lines, got_lines):
        if NUMBER.sub("#", s).split() != NUMBER.sub("#", g).split():
            return f"line differs:\n  shown:   {s}\n  printed: {g}"
        for a, b in zip(NUMBER.findall(s), NUMBER.findall(g)):
            if not same_number(a, b):
                return f"number {b} printed, {a} shown:\n  shown:   {s}\n  printed: {g}"
    return None


@pytest.mark.parametrize("doc", DOC_IDS)
def test_code_blocks_run_and_print_what_is_shown(doc):
    found = blocks((ROOT / "docs" / doc).read_text(encoding="utf-8"))
    namespace = {"__name__": f"docs_{Path(doc).stem.replace('-', '_')}"}
    for k, (lang, code, marker) in enumerate(found):
        if lang != "python" or marker == "no-run":
            continue
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(code, f"{doc} block {k}", "exec"), namespace)
        nxt = found[k + 1] if k + 1 < len(found) else None
        if nxt is not None and nxt[2] == "output":
            problem = same_output(nxt[1], buf.getvalue())
            assert problem is None, f"{doc}, python block {k}: {problem}"
    outputs = [k for k, (_, _, marker) in enumerate(found) if marker == "output"]
    for k in outputs:
        assert k > 0 and found[k - 1][0] == "python", \
            f"{doc}: an <!-- output --> block (block {k}) does not follow a python block"


# ---- 4. the worked example -----------------------------------------------------------------

@pytest.fixture(scope="module")
def by_hand_output(tmp_path_factory):
    """What ``python -m minirnn by-hand srn --backward`` prints (run from an empty folder)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-m", "minirnn", "by-hand", "srn", "--backward"],
                         capture_output=True, text=True, encoding="utf-8", env=env,
                         cwd=tmp_path_factory.mktemp("by_hand"), timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_worked_example_blocks_are_printed_verbatim(by_hand_output):
    printed = [ln.rstrip() for ln in by_hand_output.split("\n")]
    text = section((ROOT / "docs" / "bptt.md").read_text(encoding="utf-8"), "worked example")
    shown = [code for lang, code, marker in blocks(text) if marker == "by-hand"]
    assert len(shown) >= 3, "the worked example shows the forward and the backward output"
    for code in shown:
        lines = [ln.rstrip() for ln in code.split("\n")]
        starts = [i for i in range(len(printed) - len(lines) + 1)
                  if printed[i:i + len(lines)] == lines]
        assert starts, ("this block is not what `minirnn by-hand srn --backward` prints:\n"
                        + code)


def test_worked_example_prose_numbers_are_printed(by_hand_output):
    text = section((ROOT / "docs" / "bptt.md").read_text(encoding="utf-8"), "worked example")
    text = REF.sub("", prose(text))
    printed = set(numbers(by_hand_output))
    missing = sorted({n for n in numbers(text)} - printed)
    assert not missing, f"numbers in the worked example that the command does not print: {missing}"
    # and the key results really are in the prose
    for value in (0.964028, 4.93056e-05, 0.283478, 0.144935):     # printed to 6 digits
        assert value in numbers(text)


# ---- 5. BPTT in one page -------------------------------------------------------------------

ONE_PAGE = ROOT / "docs" / "bptt-in-one-page.md"


@pytest.fixture(scope="module")
def one_page():
    """The namespace the one page's python blocks leave behind (srn_forward, srn_backward,
    dW_hh_double_sum), their printing swallowed."""
    namespace = {"__name__": "docs_bptt_in_one_page"}
    with contextlib.redirect_stdout(io.StringIO()):
        for lang, code, marker in blocks(ONE_PAGE.read_text(encoding="utf-8")):
            if lang == "python" and marker != "no-run":
                exec(compile(code, str(ONE_PAGE), "exec"), namespace)
    return namespace


def test_one_page_code_runs_alone_with_numpy_only(tmp_path):
    """The first block is what a learner pastes: it imports nothing but NumPy and runs in a
    bare interpreter, outside the repository, printing what the page shows."""
    found = blocks(ONE_PAGE.read_text(encoding="utf-8"))
    k, (lang, code, _) = next((k, b) for k, b in enumerate(found) if b[0] == "python")
    imported = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported == {"numpy"}, f"the pasted block imports {sorted(imported)}, not only numpy"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-I", "-"], input=code, capture_output=True,
                         text=True, encoding="utf-8", env=env, cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    assert found[k + 1][2] == "output", "the pasted block shows what it prints"
    problem = same_output(found[k + 1][1], run.stdout)
    assert problem is None, problem


def one_page_case(seed, T, D=3, H=4):
    rng = np.random.default_rng(seed)
    return dict(x=rng.standard_normal((T, D)), h0=rng.standard_normal(H),
                W_ih=rng.uniform(-1, 1, (H, D)), W_hh=rng.uniform(-1, 1, (H, H)),
                b=rng.uniform(-1, 1, H)), rng.standard_normal((T, H))


@pytest.mark.parametrize("seed,T", [(0, 1), (1, 2), (2, 5), (3, 9)])
def test_one_page_backward_is_minirnns_and_finite_differences(one_page, seed, T):
    """The page's loop gives minirnn's gradients (every weight, and dL/dh_0) and agrees with
    central differences of the loss L = Σ_t c_t·h_t, whose dL_t/dh_t = c_t."""
    from minirnn.textbook import rnn_backward, rnn_forward
    forward, backward = one_page["srn_forward"], one_page["srn_backward"]
    p, c = one_page_case(seed, T)
    hs = forward(**p)
    dW_ih, dW_hh, db, dh0 = backward(c, p["x"], hs, p["W_ih"], p["W_hh"])
    H = len(p["b"])
    _, _, caches = rnn_forward(p["x"][:, None], p["h0"][None], p["W_ih"], p["W_hh"], p["b"],
                               np.zeros(H))
    _, dh0_ref, grads = rnn_backward(c[:, None], np.zeros((1, H)), caches)
    for name, mine, ref in [("W_ih", dW_ih, grads["W_ih"]), ("W_hh", dW_hh, grads["W_hh"]),
                            ("b", db, grads["b_ih"]), ("h0", dh0, dh0_ref[0])]:
        np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-14, err_msg=name)
    loss = lambda q: float((c * forward(**q)[1:]).sum())
    for name, mine in [("W_ih", dW_ih), ("W_hh", dW_hh), ("b", db), ("h0", dh0)]:
        fd = np.zeros_like(mine)
        for idx in np.ndindex(mine.shape):
            up, down = dict(p), dict(p)
            up[name], down[name] = p[name].copy(), p[name].copy()
            up[name][idx] += 1e-6
            down[name][idx] -= 1e-6
            fd[idx] = (loss(up) - loss(down)) / 2e-6
        error = np.abs(mine - fd).max() / max(np.abs(fd).max(), 1e-3)
        assert error < 1e-7, f"d{name}: relative error {error:.1e} against finite differences"


@pytest.mark.parametrize("seed,T", [(0, 1), (4, 3), (5, 7)])
def test_one_page_double_sum_equals_the_loop(one_page, seed, T):
    """Σ_t Σ_{k≤t} (dL_t/dh_t)(Π_j dh_j/dh_{j−1}) d⁺h_k/dW_hh, every product formed, is the
    loop's dW_hh."""
    p, c = one_page_case(seed, T)
    hs = one_page["srn_forward"](**p)
    _, dW_hh, _, _ = one_page["srn_backward"](c, p["x"], hs, p["W_ih"], p["W_hh"])
    direct = one_page["dW_hh_double_sum"](c, hs, p["W_hh"])
    np.testing.assert_allclose(direct, dW_hh, rtol=1e-12, atol=1e-14)
    if T > 1:       # and not trivially: the cross terms (k < t) matter
        assert np.abs(dW_hh - sum(np.outer(c[t] * (1 - hs[t + 1] ** 2), hs[t])
                                  for t in range(T))).max() > 1e-3


# ---- the checker itself --------------------------------------------------------------------

def test_the_citation_check_catches_a_range_one_line_off():
    """Cite the line that computes (2') in rnn_step_backward, then the same citation one line
    up (the docstring's end) and one line down (a line of (1')): only the first passes. And
    an untagged citation of a docstring line fails."""
    path = "minirnn/textbook/rnn.py"
    source, first = inspect.getsourcelines(importlib.import_module("minirnn.textbook.rnn")
                                           .rnn_step_backward)
    k = next(first + i for i, ln in enumerate(source) if "(2')" in ln and "=" in ln)
    cite = lambda a, b, eqs: REF.search(
        f"[rnn.py:{a}-{b}](../{path}#L{a}-L{b}) (rnn_step_backward{eqs})")
    check_cited_lines("self-test", cite(k, k, ", eq. 2'"))
    for a, b in [(k - 1, k - 1), (k + 1, k + 1), (k - 1, k), (k, k + 1)]:
        with pytest.raises(AssertionError):
            check_cited_lines("self-test", cite(a, b, ", eq. 2'"))
    with pytest.raises(AssertionError, match="docstring"):
        check_cited_lines("self-test", cite(first + 1, first + 1, ""))


def test_same_output_compares_digits_shown():
    assert same_output("norm 13.0 x 1.9e-24", "norm 13.0 x 1.8999e-24") is None
    assert same_output("a 0.274", "a 0.2741") is None
    assert same_output("a 0.274", "a 0.276") is not None
    assert same_output("error 3e-10", "error 9e-09") is None           # noise below 1e-7
    assert same_output("error 3e-10", "error 2e-06") is not None
    assert same_output("True", "False") is not None
    assert same_output("a\nb", "a") is not None
