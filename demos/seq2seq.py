"""An encoder–decoder translating hello -> hola, cat -> gato, good -> bueno.

Same as: minirnn seq2seq --cell rnn
"""
from minirnn.demos import seq2seq

SEED = seq2seq.SEED
CELL = "rnn"                 # or "gru", "lstm"
EPOCHS = seq2seq.EPOCHS
OUT = "out/seq2seq"

if __name__ == "__main__":
    seq2seq.run(cell=CELL, epochs=EPOCHS, seed=SEED, out=OUT)
