"""The hand-wired lecture LSTM: memory 0 3 3 7 7 7 0 6 6, outputs 0 0 0 0 0 7 0 0 6.

With BACKWARD, BPTT through the standard LSTM with the same weights, step by step.
Same as: minirnn by-hand lstm  (takes its options: python demos/by_hand_lstm.py --help)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

BACKWARD = False
OUT = "out/by-hand/lstm"     # the gate heat map goes here

if __name__ == "__main__":
    sys.exit(cli.script_main("by-hand", "lstm", *(["--backward"] if BACKWARD else []),
                             "--out", OUT))
