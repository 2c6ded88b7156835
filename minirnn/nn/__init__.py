"""Modules: hold Parameters, options and caches; the math lives in minirnn.functional."""
from .cells import GRUCell, LSTMCell, RNNCell
from .layers import Dropout, Embedding, Linear
from .loss import CrossEntropyLoss
from .module import Module, Parameter, Sequential, StateDictError
from .rnn import GRU, LSTM, RNN

__all__ = ["Module", "Parameter", "Sequential", "StateDictError", "RNN", "LSTM", "GRU",
           "RNNCell", "LSTMCell", "GRUCell", "Linear", "Embedding", "Dropout",
           "CrossEntropyLoss"]
