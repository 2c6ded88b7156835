"""The answers the checker compares with: minirnn's textbook core, called with the exercise's
arguments, and the sequence forward over its step function, which can also play the bug of a
loop that forgets h_{t-1} (or c_{t-1}); diagnosis.py holds the BPTT loop and its bugs.
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
