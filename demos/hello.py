""""hello" -> "ohlol": an RNNCell whose hidden state is the logits, then Embedding -> RNN -> Linear.

Same as: minirnn hello  (options: python demos/hello.py --help)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

EPOCHS = 15
OUT = "out/hello"

if __name__ == "__main__":
    sys.exit(cli.script_main("hello", "--epochs", str(EPOCHS), "--out", OUT))
