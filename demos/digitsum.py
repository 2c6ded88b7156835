"""SRN, LSTM and GRU on DigitSum: test accuracy against sequence length.

Same as: minirnn digitsum  (FULL = True: minirnn digitsum --full, several minutes; options:
python demos/digitsum.py --help, and those given there win over the constants below)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

RECIPE = "book"              # or "better": more data, a larger batch and step, clipping
FULL = False                 # every model at lengths 5..35 with the recipe's epochs
MODELS = None                # e.g. "lstm"; None: the default set
LENGTHS = None               # e.g. "5,20,35"; None: the default set
OUT = "out/digitsum"

if __name__ == "__main__":
    sys.exit(cli.script_main("digitsum", "--recipe", RECIPE, *(["--full"] if FULL else []),
                             *(["--models", MODELS] if MODELS else []),
                             *(["--lengths", LENGTHS] if LENGTHS else []), "--out", OUT))
