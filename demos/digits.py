"""Handwritten digits read one pixel row per step: SRN, LSTM and GRU test accuracy.

Same as: minirnn digits  (options: python demos/digits.py --help)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

OUT = "out/digits"

if __name__ == "__main__":
    sys.exit(cli.script_main("digits", "--out", OUT))
