""""hello" -> "ohlol": an RNNCell whose hidden state is the logits, then Embedding -> RNN -> Linear.

Same as: minirnn hello
"""
from minirnn.demos import hello

SEED = hello.SEED
EPOCHS = 15
OUT = "out/hello"

if __name__ == "__main__":
    hello.run(seed=SEED, epochs=EPOCHS, out=OUT)
