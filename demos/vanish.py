"""Vanishing gradients: the norm of dL/dh_t at every step t, SRN / LSTM / GRU, DigitSum L = 35.

Same as: minirnn vanish  (options: python demos/vanish.py --help)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

OUT = "out/vanish"

if __name__ == "__main__":
    sys.exit(cli.script_main("vanish", "--out", OUT))
