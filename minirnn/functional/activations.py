"""Activation functions and their derivatives, written in place on whole blocks.

Every derivative here is computed from the activation's *output* y (not its input), so the
backward pass only needs the values the forward pass already kept:

    sigmoid       y = 1 / (1 + e^-x)           dy/dx = y (1 - y)
    hard_sigmoid  y = clip(0.2 x + 0.5, 0, 1)  dy/dx = 0.2 where 0 < y < 1, else 0
    step          y = 1 if x >= 0 else 0       dy/dx = 0   (its true derivative is 0 almost
                                                             everywhere and undefined at 0)
    tanh          y = tanh(x)                  dy/dx = 1 - y^2
    relu          y = max(x, 0)                dy/dx = 1 where y > 0, else 0
    identity      y = x                        dy/dx = 1

``apply(name, x, out)`` writes y; ``backprop(name, y, dy)`` overwrites dy with dy * f'(x).
Both work on arrays of any shape, so a cell activates all of its gates with a few calls.
Inside time loops the sequence functions call them under one ``np.errstate(over="ignore")``
(see ``sigmoid``) instead of entering it at every step.
"""
import functools

import numpy as np

# what each role accepts: every name is defined on all reals and has a derivative written from
# its output, so each works anywhere; step (derivative 0, no gradient at all) only as a gate
GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid", "step", "tanh", "relu", "identity")
CELL_ACTIVATIONS = ("tanh", "identity", "relu", "sigmoid", "hard_sigmoid")
RNN_NONLINEARITIES = ("tanh", "relu", "sigmoid", "hard_sigmoid", "identity")


def sigmoid(x, out=None):
    """Logistic sigmoid 1 / (1 + e^-x), stable for any x: sigmoid(-1000) is 0, not a warning.

    For very negative x, e^-x overflows to inf and 1 / (1 + inf) = 0 is the correct limit, so
    the overflow is expected and silenced rather than avoided with a slower two-branch formula.
    """
    with np.errstate(over="ignore"):
        return _sigmoid(x, out)


def _sigmoid(x, out):
    out = np.negative(x, out=out)
    np.exp(out, out=out)          # may overflow to inf for x < -88 (float32) / -709: fine
    out += 1
    return np.reciprocal(out, out=out)


# float64 arrays from this size on take tanh through exp (see ``tanh``)
TANH_VIA_EXP = 2048


def tanh(x, out):
    """tanh(x) into ``out`` (which may be ``x``).

    NumPy has no vectorised float64 tanh on most CPUs: np.tanh costs about twice np.exp per
    element there (20 against 10 ns here). Large float64 arrays therefore use
    tanh(x) = 2σ(2x) − 1 = 2 / (1 + e^{−2x}) − 1, one exp and four cheap passes; its error is
    within a few units of rounding of 1 (absolute), e^{−2x} = inf giving exactly −1.
    """
    if x.dtype != np.float64 or x.size < TANH_VIA_EXP:
        return np.tanh(x, out=out)
    with np.errstate(over="ignore"):                       # e^{−2x} = inf: 2/inf − 1 = −1
        np.multiply(x, -2.0, out=out)
        np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    out *= 2
    out -= 1
    return out


def function(name, dtype, size):
    """``name`` as a function f(x, out) for arrays of ``dtype`` and ``size`` elements, chosen
    once so that a loop calls NumPy directly."""
    if name == "tanh" and (np.dtype(dtype) != np.float64 or size < TANH_VIA_EXP):
        return np.tanh                                     # np.tanh(x, out): NumPy itself
    return functools.partial(apply, name)


def apply(name, x, out=None):
    """``name``(x), written into ``out`` (default: over ``x`` itself) and returned."""
    if out is None:
        out = x
    if name == "sigmoid":
        return _sigmoid(x, out)
    if name == "tanh":
        return tanh(x, out)
    if name == "relu":
        return np.maximum(x, 0, out=out)
    if name == "identity":
        if out is not x:
            np.copyto(out, x)
        return out
    if name == "hard_sigmoid":
        np.multiply(x, 0.2, out=out)
        out += 0.5
        return np.clip(out, 0, 1, out=out)
    if name == "step":
        # x >= 0 gives 1; x < 0 and NaN give 0
        return np.greater_equal(x, 0, out=out, casting="unsafe")
    raise ValueError(f"unknown activation {name!r}")


def backprop(name, y, dy):
    """Overwrite ``dy`` with dy * f'(x), given f's output ``y``; return it."""
    if name == "sigmoid":
        dy *= y
        dy *= 1 - y
    elif name == "tanh":
        dy *= 1 - y * y
    elif name == "relu":
        dy *= y > 0
    elif name == "identity":
        pass
    elif name == "hard_sigmoid":
        dy *= 0.2 * ((y > 0) & (y < 1))
    elif name == "step":
        dy[...] = 0
    else:
        raise ValueError(f"unknown activation {name!r}")
    return dy


def check_name(name, allowed, what, owner=None):
    """Raise ValueError naming the allowed choices (and ``owner``, the public class that was
    given ``name``) unless ``name`` is one of them."""
    if not isinstance(name, str) or name not in allowed:
        prefix = f"{owner}: " if owner else ""
        raise ValueError(f"{prefix}expected {what} in {list(allowed)}, got {name!r}")
    return name
