"""A character language model: perplexity per epoch, then generated text.

Same as: minirnn charlm --model lstm --sampling random  (options: python demos/charlm.py --help;
those given there win over the constants below)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

CELL = "lstm"                # "rnn", "gru" or "lstm"
LAYERS = 1                   # 2 for a 2-layer LSTM
SAMPLING = "random"          # or "sequential": the hidden state carried across batches
CORPUS = None                # a UTF-8 text file; None: Python's own help texts
OUT = "out/charlm"

if __name__ == "__main__":
    sys.exit(cli.script_main("charlm", "--model", CELL, "--layers", str(LAYERS),
                             "--sampling", SAMPLING, *(["--corpus", CORPUS] if CORPUS else []),
                             "--out", OUT))
