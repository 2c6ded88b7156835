"""SRN, LSTM and GRU on DigitSum: test accuracy against sequence length.

Same as: minirnn digitsum  (FULL = True: minirnn digitsum --full, several minutes)
"""
from minirnn.demos import digitsum

SEED = digitsum.SEED
RECIPE = "book"              # or "better": more data, a larger batch and step, clipping
FULL = False                 # every model at lengths 5..35 with the recipe's epochs
MODELS = None                # e.g. ("lstm",); None: the default set
LENGTHS = None               # e.g. (5, 20, 35); None: the default set
OUT = "out/digitsum"

if __name__ == "__main__":
    digitsum.run(models=MODELS, lengths=LENGTHS, recipe=RECIPE, full=FULL, seed=SEED, out=OUT)
