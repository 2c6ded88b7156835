"""An encoder–decoder translating hello -> hola, cat -> gato, good -> bueno (or, with
--task dates, dates in human forms -> ISO 8601, without and with attention).

Same as: minirnn seq2seq  (options: python demos/seq2seq.py --help)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

OUT = "out/seq2seq"

if __name__ == "__main__":
    sys.exit(cli.script_main("seq2seq", "--out", OUT))
