"""Ready-made models built from minirnn.nn layers, each with its own backward:

    SequenceClassifier  Embedding -> RNN/LSTM/GRU -> Linear on the last hidden state
    CharLM              character language model (next-character logits at every step)
    EncoderDecoder      encoder and decoder RNNs, teacher forcing, greedy decoding, optional
                        additive attention (AdditiveAttention)
    decoding            beam_search, bleu (d2l's), evaluate (exact match and BLEU)

Every model has ``config``, the constructor arguments, so ``type(m)(**m.config)`` rebuilds it.
"""
from .charlm import CharLM
from .classifier import SequenceClassifier
from .decoding import beam_search, bleu, evaluate
from .seq2seq import AdditiveAttention, EncoderDecoder

__all__ = ["SequenceClassifier", "CharLM", "EncoderDecoder", "AdditiveAttention", "beam_search",
           "bleu", "evaluate"]
