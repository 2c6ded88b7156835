"""Shared by the models: pick a recurrent layer by name, and read/write its final state.

The three layers differ in one place a model cares about: an LSTM's state is a pair (h, c),
the others' a single h. These helpers keep that difference out of the models' code.
"""
import numpy as np

from .. import nn

CELLS = {"rnn": nn.RNN, "srn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def check_cell(cell):
    """The canonical lower-case name of ``cell`` ('srn' means 'rnn'); ValueError otherwise."""
    name = str(cell).lower()
    if name not in CELLS:
        raise ValueError(f"expected cell in ['rnn', 'lstm', 'gru'] ('srn' = 'rnn'), got {cell!r}")
    return "rnn" if name == "srn" else name


def make_rnn(cell, input_size, hidden_size, num_layers=1, *, dtype=None, rng=None):
    """A batch-first RNN, LSTM or GRU layer."""
    return CELLS[check_cell(cell)](input_size, hidden_size, num_layers=num_layers,
                                   batch_first=True, dtype=dtype, rng=rng)


def _h_n(state):
    return state[0] if isinstance(state, tuple) else state


def top_hidden(state):
    """h of the last layer, (N, H), from a final state (h_n or (h_n, c_n))."""
    return _h_n(state)[-1]


def grad_of_top_hidden(dh, state):
    """The gradient of a whole final state when only the last layer's h has gradient ``dh``
    (an LSTM's c_n then has none: None)."""
    dh_n = np.zeros_like(_h_n(state))
    dh_n[-1] = dh
    return (dh_n, None) if isinstance(state, tuple) else dh_n
