"""The 2-2-2 simple recurrent network with every weight 1, worked out step by step.

Without an activation the outputs are 4, 12, 32; with tanh 1.9280551601516338,
1.9984510891336251, 1.9999753470497836. With BACKWARD, BPTT for L = sum of all outputs.
Same as: minirnn by-hand srn --backward
"""
from minirnn.demos import by_hand

BACKWARD = True

if __name__ == "__main__":
    by_hand.run_srn(backward=BACKWARD)
