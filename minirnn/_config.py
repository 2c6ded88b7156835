"""Global settings: default float dtype, the global random generator, grad mode, and which
implementation tier the recurrent layers and cells run on.

Every module takes ``dtype=`` and ``rng=`` too; these globals are only the defaults.
Grad mode is per thread, as in torch: each thread starts with it enabled, and ``no_grad`` in
one thread does not touch another's. The tier has a process default (``set_impl``, or
MINIRNN_IMPL) that every thread follows, and ``use_impl`` changes it for one thread only.
"""
import contextlib
import os
import threading

import numpy as np

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_default_dtype = np.dtype(np.float64)
_generator = np.random.default_rng()


class _ThreadState(threading.local):
    """What each thread sets for itself; a new thread starts from these values."""
    grad_enabled = True
    impl = None                  # None: the process default (set_impl, MINIRNN_IMPL)


_thread = _ThreadState()


# ---- dtype -------------------------------------------------------------------------------

def set_default_dtype(dtype):
    """Set the float dtype new modules use when ``dtype=None`` (float32 or float64)."""
    global _default_dtype
    _default_dtype = resolve_dtype(dtype)


def get_default_dtype():
    """The float dtype new modules use when ``dtype=None``."""
    return _default_dtype


def resolve_dtype(dtype=None):
    """``dtype`` as a numpy float dtype (None -> the default); anything else raises TypeError."""
    if dtype is None:
        return _default_dtype
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected dtype float32 or float64, got {dtype!r}") from None
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"expected dtype float32 or float64, got {dt}")
    return dt


# ---- random numbers ----------------------------------------------------------------------

def manual_seed(seed):
    """Seed the global generator: modules and datasets built with ``rng=None`` draw from it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def resolve_rng(rng=None):
    """A ``numpy.random.Generator`` from ``rng``: None -> the global one, an int -> a new one."""
    if rng is None:
        return _generator
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"expected rng to be None, an int seed or a numpy.random.Generator, "
                    f"got {type(rng).__name__}")


# ---- grad mode ---------------------------------------------------------------------------

def is_grad_enabled():
    """False inside ``with no_grad():`` in this thread -- forward passes then keep no backward
    caches. Each thread has its own mode, enabled when it starts."""
    return _thread.grad_enabled


class no_grad(contextlib.ContextDecorator):
    """Context manager (or decorator): forward passes inside keep no caches for backward.
    It acts on the thread that enters it only (another thread may train meanwhile).

    The previous modes are kept on a per-thread stack, so one instance may be entered again
    before it exits (nested ``with``, a recursive function under ``@no_grad()``, or the same
    decorated function running in several threads)."""

    def __init__(self):
        self._prev = threading.local()

    def __enter__(self):
        if not hasattr(self._prev, "stack"):
            self._prev.stack = []
        self._prev.stack.append(_thread.grad_enabled)
        _thread.grad_enabled = False
        return self

    def __exit__(self, *exc):
        _thread.grad_enabled = self._prev.stack.pop()
        return False



# ---- implementation tier -----------------------------------------------------------------
# 'engine'   minirnn/functional/: the math arranged for speed (the default)
# 'textbook' minirnn/textbook/:   the same math as plain step functions and loops, to read
# Tests prove the two compute the same numbers; every layer, cell, model and demo runs on
# either. The environment variable MINIRNN_IMPL sets the process default; it is read on first
# use, so a bad value is a ValueError there (the command line turns it into one line).

IMPLS = ("engine", "textbook")
_default_impl = None             # None: not read from MINIRNN_IMPL yet


def _check_impl(name, what="impl"):
    if not isinstance(name, str) or name not in IMPLS:
        raise ValueError(f"expected {what} to be 'engine' or 'textbook', got {name!r}")
    return name


def _process_impl():
    global _default_impl
    if _default_impl is None:
        _default_impl = _check_impl(os.environ.get("MINIRNN_IMPL", "engine"),
                                    "the environment variable MINIRNN_IMPL")
    return _default_impl


def get_impl():
    """The tier recurrent layers and cells run on in this thread: 'engine' (default) or
    'textbook'. ValueError naming MINIRNN_IMPL if that variable holds anything else."""
    return _thread.impl or _process_impl()


def set_impl(name):
    """Run every recurrent layer and cell on ``name``, 'engine' or 'textbook', in every thread
    (the process default, which wins over MINIRNN_IMPL) except inside another thread's
    ``use_impl`` block."""
    global _default_impl
    _default_impl = _check_impl(name)
    _thread.impl = None


@contextlib.contextmanager
def use_impl(name):
    """``with use_impl('textbook'): ...`` runs the block on that tier in this thread only,
    then restores the previous one. A backward always runs on the tier of its forward."""
    previous, _thread.impl = _thread.impl, _check_impl(name)
    try:
        yield
    finally:
        _thread.impl = previous


def kernels():
    """The module of sequence functions for the current tier (``minirnn.functional`` or
    ``minirnn.textbook.variants``, the textbook cells with every option); both have the same
    functions with the same signatures."""
    if get_impl() == "textbook":
        from .textbook import variants
        return variants
    from . import functional
    return functional
