"""SequenceClassifier: one label per sequence, read from the last hidden state.

    ids (N, T) --Embedding--> (N, T, E) --RNN/LSTM/GRU--> h_T of the last layer (N, H)
        --Linear--> logits (N, C)

With ``lengths`` each sequence's own last step is used (padding after it is ignored).
Backward runs the same path in reverse: the gradient of the logits becomes the gradient of
h_T, which BPTT carries back through every step into the embedding rows that were used.
"""
import numpy as np

from .. import _config
from ..nn import Embedding, Linear, Module
from ._recurrent import check_cell, grad_of_top_hidden, make_rnn, top_hidden


class SequenceClassifier(Module):
    """Embedding -> recurrent layer(s) -> Linear on the final hidden state of the last layer.

    vocab_size, embed_dim, hidden_size, num_classes : ints
    cell        : 'rnn' (or 'srn'), 'lstm' or 'gru'
    num_layers  : stacked recurrent layers
    ``logits = model(ids, lengths=None)``: ids (N, T) int, lengths (N,) or None -> (N, C).
    ``model.backward(grad_logits)`` adds every parameter gradient and returns None.
    ``config`` holds the constructor arguments, so ``SequenceClassifier(**m.config)`` rebuilds
    the architecture (e.g. to load a checkpoint into).
    """

    def __init__(self, vocab_size, embed_dim, hidden_size, num_classes, cell="lstm",
                 num_layers=1, *, dtype=None, rng=None):
        super().__init__()
        cell = check_cell(cell)
        dtype = _config.resolve_dtype(dtype)
        rng = _config.resolve_rng(rng)
        self.config = dict(vocab_size=vocab_size, embed_dim=embed_dim, hidden_size=hidden_size,
                           num_classes=num_classes, cell=cell, num_layers=num_layers,
                           dtype=dtype.name)
        self.embedding = Embedding(vocab_size, embed_dim, dtype=dtype, rng=rng)
        self.rnn = make_rnn(cell, embed_dim, hidden_size, num_layers, dtype=dtype, rng=rng)
        self.fc = Linear(hidden_size, num_classes, dtype=dtype, rng=rng)

    def extra_repr(self):
        return f"cell={self.config['cell']!r}"

    def forward(self, ids, lengths=None):
        """ids (N, T) int, lengths (N,) or None -> logits (N, num_classes)."""
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"SequenceClassifier: expected ids of shape (N, T), got {ids.shape}")
        x = self.embedding(ids)                        # (N, T, E)
        _, state = self.rnn(x, lengths=lengths)        # h_n (layers, N, H) or (h_n, c_n)
        logits = self.fc(top_hidden(state))            # (N, C)
        self._push(state)
        return logits

    def backward(self, grad_logits):
        """grad_logits (N, C) -> None; parameter gradients are added into ``.grad``."""
        state = self._pop()
        dh = self.fc.backward(grad_logits)             # (N, H): gradient of h_T
        dx, _ = self.rnn.backward(None, grad_of_top_hidden(dh, state))   # BPTT
        self.embedding.backward(dx)
        return None
