"""Benchmarks against torch's CPU layers: ``minirnn bench`` / ``python benchmarks/bench_rnn.py``.

    layers.py    forward+backward (or inference) of RNN, LSTM, GRU over a grid of sizes
    naive.py     a tutorial-style LSTM, the baseline minirnn must beat
    training.py  one training epoch end to end (DigitSum, character LM)
"""
from .layers import main

__all__ = ["main"]
