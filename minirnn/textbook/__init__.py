"""The textbook tier: the readable twin of the engine, minirnn.functional.

The same math as the engine, written to be read: each file opens with its notation and
numbered forward and backward equations, then plain NumPy code citing them line by line --
a step function and its backward step, then a sequence loop that shows all of BPTT (a forward
loop over the steps, then a reversed loop carrying dh_next and summing the gradients). The
sequence functions take and return exactly what the engine's do, so a layer can call either
tier, and tests/test_tiers.py checks that the two compute the same numbers.

    rnn.py   rnn_step_forward / rnn_step_backward,  rnn_forward / rnn_backward     Elman SRN
    lstm.py  lstm_step_forward / lstm_step_backward, lstm_forward / lstm_backward,
             lstm_gates                                                          LSTM
    gru.py   gru_step_forward / gru_step_backward,  gru_forward / gru_backward     GRU
    activations.py  sigmoid, hard_sigmoid, step, tanh, relu, identity and their derivatives
"""
from .activations import hard_sigmoid, identity, relu, sigmoid, step, tanh
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .lstm import (lstm_backward, lstm_forward, lstm_gates, lstm_step_backward,
                   lstm_step_forward)
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
           "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
           "lstm_gates",
           "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
           "sigmoid", "hard_sigmoid", "step", "tanh", "relu", "identity"]
