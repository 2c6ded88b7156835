"""Layer benchmark, minirnn vs torch on the CPU: see minirnn/bench.py (also `minirnn bench`)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from minirnn.bench import main  # noqa: E402

if __name__ == "__main__":
    main()
