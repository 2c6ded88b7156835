"""Modules: hold Parameters, options and caches; the math lives in minirnn.textbook (to read)
and minirnn.functional (the engine that runs by default)."""
from .cells import GRUCell, LSTMCell, RNNCell
from .layers import Dropout, Embedding, Linear
from .loss import CrossEntropyLoss
from .module import Module, Parameter, Sequential, StackedForwardError, StateDictError
from .rnn import GRU, LSTM, RNN

__all__ = ["Module", "Parameter", "Sequential", "StateDictError", "StackedForwardError", "RNN", "LSTM", "GRU",
           "RNNCell", "LSTMCell", "GRUCell", "Linear", "Embedding", "Dropout",
           "CrossEntropyLoss"]
