"""The engine: the math of minirnn/textbook/, arranged for speed, as pure NumPy functions.

    rnn.py   rnn_forward / rnn_backward     Elman SRN
    lstm.py  lstm_forward / lstm_backward   LSTM (projection, peepholes, activations)
    gru.py   gru_forward / gru_backward     GRU, torch's form or Cho et al.'s (reset_after)
    loss.py  softmax, log_softmax, softmax cross-entropy (label smoothing)
    activations.py  activations and their derivatives, in place
"""
from .gru import gru_backward, gru_forward
from .loss import log_softmax, softmax
from .lstm import lstm_backward, lstm_forward, lstm_gates
from .rnn import rnn_backward, rnn_forward

__all__ = ["rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward", "lstm_gates",
           "gru_forward", "gru_backward", "softmax", "log_softmax"]
