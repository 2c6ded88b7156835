"""Exploding gradients in an SRN (length 20, SGD lr 0.2, summed loss), without and with clipping.

Same as: minirnn explode  (options: python demos/explode.py --help)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

OUT = "out/explode"

if __name__ == "__main__":
    sys.exit(cli.script_main("explode", "--out", OUT))
