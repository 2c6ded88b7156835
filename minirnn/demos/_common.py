"""Small helpers every demo shares: an output folder, a progress bar, saving a plot, and
running BLAS on one thread."""
import contextlib
import ctypes
import os
import sys

import numpy as np


def out_dir(path):
    """Create ``path`` (and its parents) if needed and return it."""
    os.makedirs(path, exist_ok=True)
    return path


def progress(iterable, total=None, desc=None):
    """``iterable`` wrapped in a tqdm bar when stderr is a terminal and tqdm is installed;
    otherwise ``iterable`` itself (logs and tests stay clean)."""
    if not sys.stderr.isatty():
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def progress_bar(total, desc=None):
    """A tqdm bar to ``update()`` by hand when stderr is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, leave=False)


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


def fmt(values, digits=None):
    """An array as '[a, b, ...]' (nested for 2-D): integers without a decimal point, floats
    with ``digits`` decimals (None: the full repr, so every printed digit can be checked)."""
    values = np.asarray(values)
    if values.ndim > 1:
        return "[" + ", ".join(fmt(row, digits) for row in values) + "]"
    parts = []
    for v in values.tolist():
        if digits is None:
            parts.append(str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(v))
        else:
            parts.append(f"{v:.{digits}f}")
    return "[" + ", ".join(parts) + "]"


# ---- BLAS threads ----------------------------------------------------------------------------
# The demos multiply small matrices (a few hundred rows) thousands of times. A multithreaded
# BLAS gains little on such sizes and, when another process is busy on the same cores, its
# spinning threads can make every product 10x slower. So the long demos run BLAS on one thread
# (unless the user chose a number with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS).

_BLAS = []


def _openblas():
    """(set_num_threads, get_num_threads) of the OpenBLAS this process loaded, or None."""
    if _BLAS:
        return _BLAS[0]
    found = None
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()
                            and line.split()[-1].startswith("/")})
        for path in paths:
            lib = ctypes.CDLL(path)
            for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                                   ("openblas", "64_"), ("openblas", "")):
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    found = (setter, getter)
                    break
            if found:
                break
    except (OSError, AttributeError):
        found = None
    _BLAS.append(found)
    return found


@contextlib.contextmanager
def blas_threads(n=1):
    """Run the body with OpenBLAS on ``n`` threads, then restore the previous number.
    Does nothing where OpenBLAS cannot be found or the user set a thread count."""
    blas = None
    if not (os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")):
        blas = _openblas()
    if blas is None:
        yield
        return
    setter, getter = blas
    old = getter()
    setter(n)
    try:
        yield
    finally:
        setter(old)
