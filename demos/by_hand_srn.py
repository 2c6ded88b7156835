"""The 2-2-2 simple recurrent network with every weight 1, worked out step by step.

Without an activation the outputs are 4, 12, 32; with tanh 1.9280551601516338,
1.9984510891336251, 1.9999753470497836. With BACKWARD, BPTT for L = sum of all outputs.
Same as: minirnn by-hand srn --backward  (options: python demos/by_hand_srn.py --help)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

BACKWARD = True
OUT = "out/by-hand/srn"

if __name__ == "__main__":
    sys.exit(cli.script_main("by-hand", "srn", *(["--backward"] if BACKWARD else []),
                             "--out", OUT))
