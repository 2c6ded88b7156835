"""Input checks shared by the modules: fail early, and say what was expected."""
import math
import numbers

import numpy as np

from .. import _config


def positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"expected {name} to be a positive integer, got {value!r}")
    return int(value)


def probability(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"expected {name} to be a number in [0, 1], got {value!r}")
    return float(value)


def _prefix(owner):
    return f"{owner}: " if owner else ""


def integer(value, name, owner=None):
    """``value`` as an int; a float (even 2.0), a bool or anything else is a TypeError, since
    truncating 1.5 to 1 would silently pick another id."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_prefix(owner)}expected {name} to be an integer, got {value!r} "
                        f"({type(value).__name__})")
    return int(value)


def flag(value, name, owner=None):
    """``value`` as a bool; anything else (1, 'False', None) is a TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_prefix(owner)}expected {name} to be True or False, got {value!r} "
                        f"({type(value).__name__})")
    return bool(value)


def real(value, name, owner=None, *, low=None, high=None, low_open=False, high_open=False):
    """``value`` as a finite float in the given bounds (``low_open``: ``low`` itself excluded).

    Not a real number (str, bool, None, an array) is a TypeError; NaN, inf or a number out of
    bounds is a ValueError. Both messages say what was expected."""
    expected = "a finite number"
    if low is not None and high is not None:
        expected += (f" in {'(' if low_open else '['}{low:g}, {high:g}"
                     f"{')' if high_open else ']'}")
    elif low is not None:
        expected += f" {'>' if low_open else '>='} {low:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{_prefix(owner)}expected {name} to be {expected}, got {value!r} "
                        f"({type(value).__name__})")
    v = float(value)
    below = low is not None and (v <= low if low_open else v < low)
    above = high is not None and (v >= high if high_open else v > high)
    if not math.isfinite(v) or below or above:
        raise ValueError(f"{_prefix(owner)}expected {name} to be {expected}, got {value!r}")
    return v


def as_array(x, name, owner):
    """np.asarray, with nested lists of unequal lengths (which NumPy refuses) named."""
    try:
        return np.asarray(x)
    except (ValueError, TypeError):
        raise ValueError(f"{owner}: expected {name} to be an array (nested lists must have "
                         f"equal lengths), got a {type(x).__name__} NumPy cannot make into "
                         f"one") from None


def float_array(x, dtype, name, owner):
    """``x`` as an ndarray of ``dtype`` (None: its own float dtype); integer, boolean or
    non-numeric input is a TypeError."""
    if x is None:
        raise TypeError(f"{owner}: expected {name} to be a float array, got None")
    arr = as_array(x, name, owner)
    if arr.dtype.kind != "f":
        hint = " (integer ids go through an Embedding first)" if arr.dtype.kind in "iu" else ""
        raise TypeError(f"{owner}: expected {name} to be a float array, got dtype "
                        f"{arr.dtype}{hint}")
    return arr if dtype is None else arr.astype(dtype, copy=False)


def int_array(ids, name, owner):
    """``ids`` as an integer ndarray; floats (even whole ones like 2.0), booleans and other
    types are a TypeError."""
    arr = as_array(ids, name, owner)
    if arr.dtype.kind not in "iu":
        hint = (" (an integer dtype is needed even for whole numbers like 2.0: "
                "convert with .astype(int) if that is what they are)"
                if arr.dtype.kind == "f" else "")
        raise TypeError(f"{owner}: expected integer {name}, got dtype {arr.dtype}{hint}")
    return arr


def owned(arr, source=None):
    """``arr`` as a backward cache may keep it: a copy, so that editing the caller's array
    between forward and backward cannot change the gradients; under no_grad nothing is
    cached, so no copy is made. With ``source`` (the caller's array ``arr`` came from), only
    an ``arr`` that may share memory with it is copied."""
    if not _config.is_grad_enabled():
        return arr
    if source is not None and not np.may_share_memory(arr, source):
        return arr
    return arr.copy()


def in_range(ids, n, name, owner, note=""):
    """IndexError naming the first of ``ids`` outside [0, n); ``note`` adds to the expectation."""
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        bad = ids[(ids < 0) | (ids >= n)].flat[0]
        raise IndexError(f"{owner}: expected {name} in [0, {n}){note}, got {bad}")
    return ids


def shape_is(arr, expected, name, owner):
    if arr.shape != tuple(expected):
        raise ValueError(f"{owner}: expected {name} of shape {tuple(expected)}, got {arr.shape}")
    return arr


def lengths_array(lengths, N, T, owner):
    """Validate per-sequence lengths: N integers, each in 1..T."""
    arr = np.asarray(lengths)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise ValueError(f"{owner}: expected lengths to be a 1-D list or array of integers, got "
                         f"{arr.dtype} array of shape {arr.shape}")
    if arr.shape[0] != N:
        raise ValueError(f"{owner}: expected {N} lengths (one per batch element), got "
                         f"{arr.shape[0]}")
    if arr.size and (arr.min() < 1 or arr.max() > T):
        raise ValueError(f"{owner}: expected every length in 1..{T} (the padded sequence "
                         f"length), got values from {arr.min()} to {arr.max()}")
    return arr
