"""The classic RNN exercises, one module each; ``minirnn <subcommand>`` runs them.

    by_hand    the all-ones SRN (forward and BPTT) and the hand-wired lecture LSTM
    hello      "hello" -> "ohlol"
    digitsum   SRN / LSTM / GRU memory against sequence length
    explode    exploding gradients and clipping
    vanish     vanishing gradients: the gradient norm at every step, SRN / LSTM / GRU
    seq2seq    an encoder–decoder: hello -> hola
    charlm     a character language model (charlm_compare: five of them side by side)
    digits     handwritten digits, one pixel row per step
    compare    minirnn next to torch (demos/compare.py in the checkout: it imports torch)
    gradcheck  every backward against finite differences

Each module has its constants at the top and a ``run(...)`` that prints what a learner wants
to see and returns the numbers (so tests can check them).
"""
