"""The networks ``minirnn trace`` can show: three presets tied to the rest of minirnn, and
small random networks.

    srn   the 2-unit SRN of ``minirnn by-hand srn``: every weight 1, every bias 0, tanh,
          inputs [1, 1], [1, 1], [2, 2]
    lstm  the lecture LSTM of ``minirnn by-hand lstm`` with the standard activations (sigmoid
          gates, tanh): its hand-wired W_ih (4, 4), W_hh = 0, zero biases (the constant 1 in
          x acts as the bias), its nine inputs
    gru   a small GRU (2 inputs, 2 units, 4 steps) with weights of one decimal, easy to read

A network is a dict: params {W_ih (G·H, D), W_hh (G·H, H), b_ih (G·H,), b_hh (G·H,)},
x (T, D), h0 (H,) and, for the LSTM, c0 (H,); G is 1 (SRN), 4 (LSTM, gates i|f|g|o) or 3
(GRU, gates r|z|n), as torch lays them out.
"""
import numpy as np

from ..demos.by_hand import LSTM_INPUTS, LSTM_WEIGHTS, SRN_INPUTS

CELLS = ("srn", "lstm", "gru")
GATES = {"srn": 1, "lstm": 4, "gru": 3}
# The page is for reading: every number is shown, so the networks stay small.
MAX_HIDDEN, MAX_INPUTS, MAX_STEPS = 4, 4, 12


def check_sizes(hidden, inputs, steps):
    """Raise ValueError naming the limit when a size is outside what the page can show."""
    for what, value, high in (("hidden", hidden, MAX_HIDDEN), ("inputs", inputs, MAX_INPUTS),
                              ("steps", steps, MAX_STEPS)):
        if not (isinstance(value, (int, np.integer)) and 1 <= value <= high):
            raise ValueError(f"expected {what} in 1..{high} (the page shows every number, "
                             f"so the networks stay small), got {value!r}")


def preset(cell):
    """The preset network of ``cell`` ('srn', 'lstm' or 'gru') as a dict (see the module)."""
    if cell == "srn":
        H = 2
        params = dict(W_ih=np.ones((H, 2)), W_hh=np.ones((H, H)), b_ih=np.zeros(H),
                      b_hh=np.zeros(H))
        return dict(params=params, x=SRN_INPUTS.copy(), h0=np.zeros(H))
    if cell == "lstm":
        H = 1
        params = dict(W_ih=LSTM_WEIGHTS.copy(), W_hh=np.zeros((4 * H, H)),
                      b_ih=np.zeros(4 * H), b_hh=np.zeros(4 * H))
        return dict(params=params, x=LSTM_INPUTS.copy(), h0=np.zeros(H), c0=np.zeros(H))
    if cell == "gru":
        params = dict(W_ih=np.array([[0.5, -0.3], [0.2, 0.8],      # r
                                     [-0.4, 0.1], [0.3, 0.6],      # z
                                     [0.9, -0.5], [-0.2, 0.7]]),   # n
                      W_hh=np.array([[0.4, 0.2], [-0.1, 0.5],
                                     [0.3, -0.6], [0.2, 0.1],
                                     [0.8, 0.3], [-0.5, 0.6]]),
                      b_ih=np.array([0.1, -0.1, 0.0, 0.2, 0.1, -0.2]),
                      b_hh=np.array([0.0, 0.1, -0.1, 0.0, 0.3, 0.1]))
        x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]])
        return dict(params=params, x=x, h0=np.zeros(2))
    raise ValueError(f"expected a cell in {', '.join(CELLS)}, got {cell!r}")


def random_network(cell, hidden=2, inputs=2, steps=4, seed=0, scale=0.8):
    """A random network of ``cell``: weights, biases, inputs and h0 (c0) drawn from
    N(0, scale²) with ``np.random.default_rng(seed)``; sizes as check_sizes allows."""
    if cell not in CELLS:
        raise ValueError(f"expected a cell in {', '.join(CELLS)}, got {cell!r}")
    check_sizes(hidden, inputs, steps)
    rng = np.random.default_rng(seed)
    G, H, D = GATES[cell], hidden, inputs
    params = dict(W_ih=rng.normal(0, scale, (G * H, D)), W_hh=rng.normal(0, scale, (G * H, H)),
                  b_ih=rng.normal(0, scale, G * H), b_hh=rng.normal(0, scale, G * H))
    net = dict(params=params, x=rng.normal(0, 1, (steps, D)), h0=rng.normal(0, scale, H))
    if cell == "lstm":
        net["c0"] = rng.normal(0, scale, H)
    return net
