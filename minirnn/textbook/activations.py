"""Activations and their derivatives, each derivative written from the output y = f(x).

    name          y = f(x)                     f'(x) from y
    sigmoid       1 / (1 + e^-x)               y (1 − y)
    hard_sigmoid  clip(0.2 x + 0.5, 0, 1)      0.2 where 0 < y < 1, else 0
    step          1 if x ≥ 0 else 0            0
    tanh          tanh(x)                      1 − y²
    relu          max(x, 0)                    1 where y > 0, else 0
    identity      x                            1

A cell keeps the activated values (i, f, g, o, h, ...) for its backward step anyway, so writing
f' from y needs nothing more. `step` has the true derivative 0 almost everywhere (it is flat on
both sides of 0 and jumps at 0), so no gradient flows through a step gate. The formulas are the
engine's (minirnn/functional/activations.py), so the two tiers agree to rounding.

Every name works in every role (a gate need not squash into [0, 1] for the algebra to hold:
WebNN and Keras allow relu gates), except that `step` is offered only for gates, where it
gives the lecture LSTM's open/closed switches.
"""
import numpy as np

ALLOWED = {"gate_activation": ("sigmoid", "hard_sigmoid", "step", "tanh", "relu", "identity"),
           "cell_activation": ("tanh", "identity", "relu", "sigmoid", "hard_sigmoid"),
           "nonlinearity": ("tanh", "relu", "sigmoid", "hard_sigmoid", "identity")}


def sigmoid(x):
    """1 / (1 + e^-x), any shape; sigmoid(-1000) is 0, without a warning."""
    with np.errstate(over="ignore"):        # e^1000 = inf, and 1 / (1 + inf) = 0 is the limit
        return 1 / (1 + np.exp(-x))


def hard_sigmoid(x):
    """clip(0.2 x + 0.5, 0, 1), any shape: a piecewise-linear sigmoid."""
    return np.clip(0.2 * x + 0.5, 0, 1)


def step(x):
    """1 where x ≥ 0, else 0 (NaN too), any shape."""
    return (x >= 0).astype(x.dtype)


def tanh(x):
    """tanh(x), any shape."""
    return np.tanh(x)


def relu(x):
    """max(x, 0), any shape."""
    return np.maximum(x, 0)


def identity(x):
    """x itself."""
    return x


FUNCTIONS = {f.__name__: f for f in (sigmoid, hard_sigmoid, step, tanh, relu, identity)}
DERIVATIVES = {                             # f'(x), written from y = f(x) (same shape as y)
    "sigmoid": lambda y: y * (1 - y),
    "hard_sigmoid": lambda y: 0.2 * ((y > 0) & (y < 1)).astype(y.dtype),
    "step": np.zeros_like,
    "tanh": lambda y: 1 - y * y,
    "relu": lambda y: (y > 0).astype(y.dtype),
    "identity": np.ones_like,
}


def function(name, role):
    """The activation ``name``, checked against what ``role`` allows (see ALLOWED).

    role is "gate_activation", "cell_activation" or "nonlinearity".
    Raises ValueError naming the allowed choices for any other name.
    """
    if not isinstance(name, str) or name not in ALLOWED[role]:
        raise ValueError(f"expected {role} in {list(ALLOWED[role])}, got {name!r}")
    return FUNCTIONS[name]


def derivative(name):
    """f' of the activation ``name``, as a function of its output y."""
    return DERIVATIVES[name]
