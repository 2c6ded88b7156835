"""The answers the checker compares with: minirnn's textbook tier, called with the exercise's
arguments (no options), plus a plain BPTT loop over its step functions that also returns what
each step contributed, which is what lets the checker say *how* a sequence backward is wrong.
"""
import numpy as np

from .. import textbook

_FUNCTIONS = {"srn": (textbook.rnn_step_forward, textbook.rnn_step_backward,
                      textbook.rnn_forward, textbook.rnn_backward),
              "lstm": (textbook.lstm_step_forward, textbook.lstm_step_backward,
                       textbook.lstm_forward, textbook.lstm_backward),
              "gru": (textbook.gru_step_forward, textbook.gru_step_backward,
                      textbook.gru_forward, textbook.gru_backward)}


def functions(cell):
    """The textbook's (step_forward, step_backward, forward, backward) for ``cell``."""
    return _FUNCTIONS[cell.name]


def run_forward(cell, x, states0, weights, carry=True):
    """The sequence forward from the textbook's step: (y (T, N, H), final states, caches).

    carry=False starts every step from ``states0`` (the bug of a loop that forgets h_{t-1});
    carry may also name the one state not carried ('c')."""
    step_forward = functions(cell)[0]
    states, ys, caches = tuple(states0), [], []
    for t in range(x.shape[0]):
        prev = tuple(s0 if (carry is False or carry == name) else s
                     for name, s, s0 in zip(cell.states, states, states0))
        *states, cache = step_forward(x[t], *prev, *weights)
        ys.append(states[0])
        caches.append(cache)
    return np.stack(ys), tuple(states), caches


def run_backward(cell, caches, dy, d_states_n, lost=None, steps=None):
    """BPTT over the textbook's step backward, with what every step contributes.

    Returns dx (T, N, D), the gradients of the initial states, the summed grads and
    per_step[t], step t's own grads. ``lost`` names a carried gradient that the loop drops
    ('h': dh = dy[t] only; 'c': dc stays dc_n; 'h0'/'c0': dh_next/dc_next start at zero
    instead of dh_n/dc_n); ``steps`` the steps visited (default all); both model bugs."""
    step_backward = functions(cell)[1]
    T = len(caches)
    d_next = [np.zeros_like(d) if lost == f"{s}0" else d for s, d in zip(cell.states, d_states_n)]
    dx, grads, per_step = [None] * T, None, [None] * T
    for t in reversed(range(T) if steps is None else steps):
        carried = [d_n if lost == s else d for s, d, d_n in zip(cell.states, d_next, d_states_n)]
        dh = dy[t] + (0 if lost == "h" else carried[0])
        dx[t], *d_next, per_step[t] = step_backward(dh, *carried[1:], caches[t])
        grads = dict(per_step[t]) if grads is None else {k: grads[k] + per_step[t][k]
                                                          for k in grads}
    first = next(d for d in dx if d is not None)
    dx = np.stack([np.zeros_like(first) if d is None else d for d in dx])    # unvisited: 0
    return dx, tuple(d_next), grads, per_step
