"""The hand-wired lecture LSTM: memory 0 3 3 7 7 7 0 6 6, outputs 0 0 0 0 0 7 0 0 6.

Same as: minirnn by-hand lstm
"""
from minirnn.demos import by_hand

OUT = "out/by-hand"          # the gate heat map goes here

if __name__ == "__main__":
    by_hand.run_lstm(out=OUT)
