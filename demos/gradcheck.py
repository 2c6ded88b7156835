"""Every layer's backward against central finite differences: run after changing a backward.

Same as: minirnn gradcheck  (options: python demos/gradcheck.py --help)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import cli  # noqa: E402  (the checkout's package, like demos/compare.py)

if __name__ == "__main__":
    sys.exit(cli.script_main("gradcheck"))
