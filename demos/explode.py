"""Exploding gradients in an SRN (length 20, SGD lr 0.2, summed loss), without and with clipping.

Same as: minirnn explode
"""
from minirnn.demos import explode

SEED = explode.SEED
EPOCHS = explode.EPOCHS
OUT = "out/explode"

if __name__ == "__main__":
    explode.run(epochs=EPOCHS, seed=SEED, out=OUT)
