"""Input checks shared by the modules: fail early, and say what was expected."""
import numbers

import numpy as np


def positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"expected {name} to be a positive integer, got {value!r}")
    return int(value)


def probability(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"expected {name} to be a number in [0, 1], got {value!r}")
    return float(value)


def float_array(x, dtype, name, owner):
    """``x`` as an ndarray of ``dtype``; integer, boolean or non-numeric input is a TypeError."""
    if x is None:
        raise TypeError(f"{owner}: expected {name} to be a float array, got None")
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        hint = " (integer ids go through an Embedding first)" if arr.dtype.kind in "iu" else ""
        raise TypeError(f"{owner}: expected {name} to be a float array, got dtype "
                        f"{arr.dtype}{hint}")
    return arr.astype(dtype, copy=False)


def int_array(ids, name, owner):
    """``ids`` as an integer ndarray; floats, booleans and other types are a TypeError."""
    arr = np.asarray(ids)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{owner}: expected integer {name}, got dtype {arr.dtype}")
    return arr


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
