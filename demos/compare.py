"""minirnn next to torch: parameter counts, agreement after copying weights, speed.

Same as: minirnn compare  (torch is optional)
"""
from minirnn.demos import compare

REPEATS = compare.REPEATS

if __name__ == "__main__":
    compare.run(repeats=REPEATS)
