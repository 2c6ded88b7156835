"""A character language model: perplexity per epoch, then generated text.

Same as: minirnn charlm --model lstm --sampling random
"""
from minirnn.demos import charlm

SEED = charlm.SEED
CELL = "lstm"                # "rnn", "gru" or "lstm"
LAYERS = 1                   # 2 for a 2-layer LSTM
SAMPLING = "random"          # or "sequential": the hidden state carried across batches
CORPUS = None                # a UTF-8 text file; None: Python's own help texts
OUT = "out/charlm"

if __name__ == "__main__":
    charlm.run(cell=CELL, layers=LAYERS, sampling=SAMPLING, corpus_path=CORPUS, seed=SEED,
               out=OUT)
