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

``apply(name, x)`` overwrites x with y; ``backprop(name, y, dy)`` overwrites dy with dy * y'.
Both work on arrays of any shape, so a cell activates all of its gates with a few calls.
"""
import numpy as np

GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid", "step")
CELL_ACTIVATIONS = ("tanh", "identity", "relu")
RNN_NONLINEARITIES = ("tanh", "relu")


def sigmoid(x, out=None):
    """Logistic sigmoid 1 / (1 + e^-x), stable for any x: sigmoid(-1000) is 0, not a warning.

    For very negative x, e^-x overflows to inf and 1 / (1 + inf) = 0 is the correct limit, so
    the overflow is expected and silenced rather than avoided with a slower two-branch formula.
    """
    out = np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def apply(name, x):
    """Overwrite ``x`` with ``name``(x) and return it."""
    if name == "sigmoid":
        return sigmoid(x, out=x)
    if name == "tanh":
        return np.tanh(x, out=x)
    if name == "relu":
        return np.maximum(x, 0, out=x)
    if name == "identity":
        return x
    if name == "hard_sigmoid":
        x *= 0.2
        x += 0.5
        return np.clip(x, 0, 1, out=x)
    if name == "step":
        # x >= 0 gives 1; x < 0 and NaN give 0
        np.greater_equal(x, 0, out=x, casting="unsafe")
        return x
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


def derivative(name, y):
    """f'(x) as a new array, given f's output ``y``."""
    return backprop(name, y, np.ones_like(y))


def check_name(name, allowed, what):
    """Raise ValueError naming the allowed choices unless ``name`` is one of them."""
    if name not in allowed:
        raise ValueError(f"expected {what} in {list(allowed)}, got {name!r}")
    return name
