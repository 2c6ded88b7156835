"""The textbook tier: the readable twin of the engine, minirnn.functional.

The core is what to read first: rnn.py, lstm.py and gru.py hold the standard cells only, as
torch computes them by default. Each opens with its notation and numbered forward and
backward equations, then plain NumPy code citing them line by line: a step function and its
backward step (no branches, each derivative next to the value it differentiates), then a
sequence loop that shows all of BPTT (a forward loop over the steps, then a reversed loop
carrying dh_next and summing the gradients).

    rnn.py   rnn_step_forward / rnn_step_backward,  rnn_forward / rnn_backward     Elman SRN
    lstm.py  lstm_step_forward / lstm_step_backward, lstm_forward / lstm_backward  LSTM
    gru.py   gru_step_forward / gru_step_backward,  gru_forward / gru_backward     GRU
    variants/       the same cells with every option (activations, no bias, masks and lengths,
                    reverse, projection, peepholes, Cho's GRU): what the layers call on this tier
    activations.py  sigmoid, hard_sigmoid, step, tanh, relu, identity and their derivatives
    attention.py    additive attention, forward and backward

tests/test_tiers.py checks that the textbook tier and the engine compute the same numbers.
"""
from .activations import hard_sigmoid, identity, relu, sigmoid, step, tanh
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
           "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
           "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
           "sigmoid", "hard_sigmoid", "step", "tanh", "relu", "identity"]
