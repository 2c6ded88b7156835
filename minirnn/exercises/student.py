"""The student's side: load their file, find which cell it is, call their functions safely.

Nothing here lets a student's exception escape as a traceback: a problem becomes ``Stop``, whose
lines the checker prints, or ``NotWritten`` for a function that still raises
NotImplementedError.
"""
import inspect
import linecache
import traceback
import types
from pathlib import Path

import numpy as np

from .cells import CELLS


class Stop(Exception):
    """The check stops here; ``lines`` say what is wrong and what to try."""

    def __init__(self, *lines):
        super().__init__(lines[0])
        self.lines = lines


class NotWritten(Exception):
    """The function named ``name`` still raises NotImplementedError."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


def where(error, filename):
    """'line 12: a = x @ W_ih' for the deepest frame of ``error`` in ``filename``, or ''."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    line = frames[-1].line or linecache.getline(filename, frames[-1].lineno).strip()
    return f" (line {frames[-1].lineno}: {line})"


def load_file(path):
    """The student's file as a module, or Stop saying why it cannot be one."""
    path = Path(path)
    if not path.is_file():
        raise Stop(f"✗ there is no file {path}",
                   "  write one with: minirnn exercise lstm   (or srn, gru)")
    try:
        source = path.read_text(encoding="utf-8")
        code = compile(source, str(path), "exec")
    except SyntaxError as e:
        raise Stop(f"✗ {path.name} is not valid Python: {e.msg} "
                   f"(line {e.lineno}: {(e.text or '').strip()})",
                   "  fix it so that `python -c 'import ast; ast.parse(open(FILE).read())'` "
                   "passes, then check again") from None
    except (OSError, UnicodeDecodeError) as e:
        raise Stop(f"✗ cannot read {path}: {e}") from None
    # compiled here rather than imported: no __pycache__ next to the student's file, and
    # __name__ is not "__main__", so the file's own `python FILE` footer does not run
    module = types.ModuleType(f"_minirnn_exercise_{path.stem}")
    module.__file__ = str(path)
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as e:
        raise Stop(f"✗ {path.name} raised {type(e).__name__} while it was being imported: "
                   f"{e}{where(e, str(path))}",
                   "  the file must import without running anything; `python FILE` "
                   "shows the full error") from None
    return module


def find_cell(namespace, label):
    """(cell, {name: function}) for the one cell whose functions ``namespace`` defines."""
    found = {c: [n for n in c.functions if callable(namespace.get(n))] for c in CELLS.values()}
    cells = [c for c, names in found.items() if names]
    if not cells:
        names = ", ".join(c.functions[0] for c in CELLS.values())
        raise Stop(f"✗ {label} defines none of the exercise's functions ({names}, ...)",
                   "  write an exercise with: minirnn exercise lstm   (or srn, gru)")
    if len(cells) > 1:
        listed = "; ".join(f"{c.title}: {', '.join(found[c])}" for c in cells)
        raise Stop(f"✗ {label} defines functions of more than one cell ({listed})",
                   "  keep one cell per file, and check each file on its own")
    cell = cells[0]
    return cell, {n: namespace.get(n) for n in cell.functions}


def check_signature(cell, name, fn):
    """Stop unless ``fn`` exists and can be called with the contract's positional arguments."""
    expected = cell.arguments(name)
    call = f"{name}({', '.join(expected)})"
    if fn is None:
        raise Stop(f"✗ there is no {name}: the exercise needs {call}",
                   "  copy its stub from a fresh exercise (minirnn exercise "
                   f"{cell.name} --dir elsewhere)")
    try:
        inspect.signature(fn).bind(*expected)
    except TypeError:
        raise Stop(f"✗ {name}{inspect.signature(fn)} cannot be called as {call}",
                   "  keep the exercise's arguments, in its order") from None
    except ValueError:              # a builtin without a signature: trust it
        pass


def call(name, fn, *args):
    """``fn(*args)`` (copies of the arrays: a student's in-place edit cannot spoil the next
    call); NotImplementedError -> NotWritten, any other exception -> Stop."""
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        with np.errstate(all="ignore"):
            return fn(*args)
    except NotImplementedError:
        raise NotWritten(name) from None
    except Exception as e:
        filename = getattr(getattr(fn, "__code__", None), "co_filename", "")
        hint = ("  a shape mismatch: write the shape of every array next to it; "
                "x @ W_ih.T is (N, D)(D, G·H) -> (N, G·H)" if "shape" in str(e) or
                "mismatch" in str(e) else "  run the function by hand on small arrays to "
                "see the full error")
        raise Stop(f"✗ {name} raised {type(e).__name__}: {e}{where(e, filename)}",
                   hint) from None
