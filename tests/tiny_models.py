"""Small models shared by the training and checkpoint tests."""
import numpy as np

from minirnn import nn


class SRNClassifier(nn.Module):
    """ids (N, L) -> Embedding -> RNN (batch first) -> Dropout -> Linear on h_n -> (N, C)."""

    def __init__(self, vocab=5, embed=8, hidden=16, classes=3, dropout=0.0, rng=0):
        super().__init__()
        rng = np.random.default_rng(rng)
        self.emb = nn.Embedding(vocab, embed, rng=rng)
        self.rnn = nn.RNN(embed, hidden, batch_first=True, rng=rng)
        self.drop = nn.Dropout(dropout, rng=rng)
        self.out = nn.Linear(hidden, classes, rng=rng)

    def forward(self, ids, lengths=None):
        _, h_n = self.rnn(self.emb(ids), lengths=lengths)           # h_n (1, N, H)
        return self.out(self.drop(h_n[0]))                          # (N, C)

    def backward(self, grad):
        dh = self.drop.backward(self.out.backward(grad))            # (N, H)
        dx, _ = self.rnn.backward(None, dh[None])                   # only h_n was used
        self.emb.backward(dx)
