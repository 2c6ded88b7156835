"""Small helpers every demo shares: an output folder, a progress bar, saving a plot, the
'wrote ...' line and summary.json. (Running BLAS on one thread is minirnn._blas.blas_threads.)
The command line (minirnn/cli.py) and the demos both import from here, never each other."""
import json
import os
import sys

import numpy as np

from .._io import atomic_write


def out_dir(path):
    """Create ``path`` (and its parents) if needed and return it."""
    os.makedirs(path, exist_ok=True)
    return path


def _tqdm():
    """tqdm when stderr is a terminal and tqdm is installed, else None (logs and tests stay
    clean)."""
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def progress(iterable, total=None, desc=None):
    """``iterable`` wrapped in a tqdm bar on a terminal; otherwise ``iterable`` itself."""
    tqdm = _tqdm()
    return iterable if tqdm is None else tqdm(iterable, total=total, desc=desc, leave=False)


def progress_bar(total, desc=None):
    """A tqdm bar to ``update()`` by hand on a terminal, else None."""
    tqdm = _tqdm()
    return None if tqdm is None else tqdm(total=total, desc=desc, leave=False)


def save_plot(plot_name, data, path, **kwargs):
    """``minirnn.plot.<plot_name>(data, path, **kwargs)``; returns ``path``, or None (with a
    note) when matplotlib is missing, so every demo still runs on a bare NumPy install."""
    try:
        from .. import plot
        getattr(plot, plot_name)(data, path, **kwargs)
    except ImportError as e:
        print(f"  (plot {os.path.basename(path)} skipped: {e})")
        return None
    return path


def fmt(values, digits=None, sig=None):
    """An array as '[a, b, ...]' (nested for 2-D): integers without a decimal point, floats
    with ``digits`` decimals, or ``sig`` significant digits (a line that must stay short), or
    else the full repr (so every printed digit can be checked)."""
    values = np.asarray(values)
    if values.ndim > 1:
        return "[" + ", ".join(fmt(row, digits, sig) for row in values) + "]"
    return "[" + ", ".join(num(v, digits, sig) for v in values.tolist()) + "]"


def num(v, digits=None, sig=None):
    """One number as ``fmt`` writes it (-0 as 0)."""
    v = float(v) + 0.0                       # -0.0 + 0.0 is 0.0
    if digits is not None:
        return f"{v:.{digits}f}"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v) if sig is None else f"{v:.{sig}g}"


def wrote(files):
    """'wrote a.png, b.csv', or nothing when no file was written (e.g. plots skipped)."""
    files = [f for f in files if f]
    return "wrote " + ", ".join(files) if files else ""


def _jsonable(value):
    """The printable numbers of a demo's result (models and other objects dropped)."""
    if isinstance(value, dict):
        items = ((str(k), _jsonable(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not _SKIP}
    if isinstance(value, (list, tuple)):
        return [v for v in map(_jsonable, value) if v is not _SKIP]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return _SKIP


_SKIP = object()


def write_summary(out, result):
    """out/summary.json with the numbers of ``result``; returns the path."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "summary.json")
    with atomic_write(path, encoding="utf-8") as f:
        json.dump(_jsonable(result), f, indent=1, allow_nan=True)
    return path
