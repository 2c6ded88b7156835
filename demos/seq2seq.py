"""An encoder–decoder translating hello -> hola, cat -> gato, good -> bueno.

Same as: minirnn seq2seq --cell rnn  (options: python demos/seq2seq.py --help)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

CELL = "rnn"                 # or "gru", "lstm"
OUT = "out/seq2seq"

if __name__ == "__main__":
    sys.exit(cli.script_main("seq2seq", "--cell", CELL, "--out", OUT))
