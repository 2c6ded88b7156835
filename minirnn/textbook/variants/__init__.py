"""The textbook tier with every option: the core cells plus the variants.

minirnn/textbook/rnn.py, lstm.py and gru.py are the standard cells only, as torch computes
them by default. The files here are each "the core plus this": other activations, no bias,
masks and lengths, the reverse direction, the LSTM's projection and peepholes, and the GRU of
Cho et al. (reset_after=False), each with its own numbered equations (A1, B1, M1, P1, C1, R1)
next to the core's. Their sequence functions take and return exactly what the engine's do
(minirnn.functional), so a layer can run on either tier (``minirnn.set_impl``); with the
default options, every step they run is the core's own step function.

    rnn.py   rnn_step_forward / rnn_step_backward,  rnn_forward / rnn_backward
    lstm.py  lstm_step_forward / lstm_step_backward, lstm_forward / lstm_backward, lstm_gates
    gru.py   gru_step_forward / gru_step_backward,  gru_forward / gru_backward
"""
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .lstm import (lstm_backward, lstm_forward, lstm_gates, lstm_step_backward,
                   lstm_step_forward)
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
           "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
           "lstm_gates",
           "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"]
