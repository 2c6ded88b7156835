"""Every layer's backward against central finite differences: run after changing a backward.

Same as: minirnn gradcheck
"""
from minirnn.demos import gradcheck

SEED = gradcheck.SEED

if __name__ == "__main__":
    gradcheck.run(seed=SEED)
