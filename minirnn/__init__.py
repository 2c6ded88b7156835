"""minirnn: recurrent networks in pure NumPy with hand-written backpropagation through time.

    minirnn.nn          modules: RNN, LSTM, GRU, cells, Linear, Embedding, Dropout, loss
    minirnn.textbook    the math to read: step functions and plain BPTT loops, equations included
    minirnn.functional  the engine: the same math arranged for speed (what runs by default)
    minirnn.optim       SGD, Adam, Adagrad, RMSprop, clip_grad_norm_
    minirnn.data        DigitSum, hello -> ohlol, character corpora, DataLoader
    minirnn.train       fit / evaluate, checkpoints (minirnn.train.checkpoint)
    minirnn.plot        loss curves, accuracy vs length, gate heat maps (needs matplotlib)
    minirnn.models      ready models: sequence classifier, character LM, encoder-decoder
"""
from ._config import (get_default_dtype, get_impl, is_grad_enabled, manual_seed, no_grad,
                      set_default_dtype, set_impl, use_impl)
from . import data, functional, models, nn, optim, train
from .gradcheck import gradcheck

__version__ = "0.1.0"

__all__ = ["nn", "functional", "optim", "data", "train", "models", "gradcheck", "no_grad",
           "is_grad_enabled", "manual_seed", "set_default_dtype", "get_default_dtype",
           "get_impl", "set_impl", "use_impl"]
