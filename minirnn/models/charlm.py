"""CharLM: a character language model that predicts the next character at every step.

    ids (N, T) --Embedding (or one-hot)--> (N, T, E) --RNN/GRU/LSTM--> (N, T, H)
        --Linear--> logits (N, T, V)          logits[n, t] scores the character after ids[n, t]

The final state of each forward is kept in ``self.state``. Passing it to the next forward
(``model(X, state=model.state)``) continues the text where the last batch ended: sequential
sampling. Backward never goes further back than the current batch, because the state is only
an input array here -- reusing the arrays *is* the "detach" of truncated BPTT.
"""
import numpy as np

from .. import _config
from ..nn import Embedding, Linear, Module, _checks
from ._recurrent import check_cell, make_rnn


class CharLM(Module):
    """Embedding or one-hot -> RNN/GRU/LSTM (num_layers) -> Linear, at every time step.

    vocab_size  : V, the number of characters
    hidden_size : H
    cell        : 'rnn' (or 'srn'), 'gru' or 'lstm'
    num_layers  : stacked recurrent layers
    embed_dim   : None for one-hot inputs (V features), else an Embedding (V, embed_dim)
    bidirectional : refused (a ValueError): a backward direction reads the very characters
                  the model is asked to predict
    ``logits = model(ids, state=None)``: ids (N, T) int -> logits (N, T, V); the final state
    (h_n, or (h_n, c_n) for an LSTM) is kept in ``model.state``.
    ``model.backward(grad_logits)``: grad_logits (N, T, V) -> None.
    """

    def __init__(self, vocab_size, hidden_size, cell="lstm", num_layers=1, embed_dim=None,
                 bidirectional=False, *, dtype=None, rng=None):
        super().__init__()
        if bidirectional:
            raise ValueError("CharLM: a bidirectional model cannot be used for next-character "
                             "prediction: its backward direction reads the characters it is "
                             "asked to predict (it sees the future)")
        cell = check_cell(cell)
        dtype = _config.resolve_dtype(dtype)
        rng = _config.resolve_rng(rng)
        self.config = dict(vocab_size=vocab_size, hidden_size=hidden_size, cell=cell,
                           num_layers=num_layers, embed_dim=embed_dim, dtype=dtype.name)
        self.vocab_size = _checks.positive_int(vocab_size, "vocab_size")
        self.dtype = dtype
        if embed_dim is None:
            self.embedding = None
            input_size = vocab_size
        else:
            self.embedding = Embedding(vocab_size, embed_dim, dtype=dtype, rng=rng)
            input_size = embed_dim
        self.rnn = make_rnn(cell, input_size, hidden_size, num_layers, dtype=dtype, rng=rng)
        self.fc = Linear(hidden_size, vocab_size, dtype=dtype, rng=rng)
        self.state = None

    def extra_repr(self):
        return f"cell={self.config['cell']!r}" + (", one-hot" if self.embedding is None else "")

    def reset_state(self):
        """Forget the carried state (start of an epoch, or before unrelated text)."""
        self.state = None

    def _inputs(self, ids):
        """ids (N, T) -> the recurrent layer's input (N, T, E or V)."""
        if self.embedding is not None:
            return self.embedding(ids)
        ids = _checks.int_array(ids, "ids", "CharLM")
        _checks.in_range(ids, self.vocab_size, "ids", "CharLM")
        return np.eye(self.vocab_size, dtype=self.dtype)[ids]     # one-hot (N, T, V)

    def forward(self, ids, state=None):
        """ids (N, T) int, state None (zeros) or a previous ``model.state`` -> logits (N, T, V)."""
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"CharLM: expected ids of shape (N, T), got {ids.shape}")
        y, self.state = self.rnn(self._inputs(ids), state)     # y (N, T, H)
        self._push(True)
        return self.fc(y)

    def backward(self, grad_logits):
        """grad_logits (N, T, V) -> None (parameter gradients are added into ``.grad``)."""
        self._pop()
        dy = self.fc.backward(grad_logits)            # (N, T, H)
        dx, _ = self.rnn.backward(dy)                 # BPTT within this batch only
        if self.embedding is not None:
            self.embedding.backward(dx)
        return None

    def generate(self, corpus, prefix, n, temperature=None, rng=None):
        """``prefix`` followed by ``n`` generated characters, as a str.

        corpus      : the CharCorpus whose vocabulary the model was trained on
        prefix      : a non-empty str; it is read first to set the state
        n           : an integer >= 0
        temperature : None for greedy decoding (always the most likely character), else a
                      finite number > 0 (NaN, inf, 0, a str: refused), sampling from
                      softmax(logits / temperature): < 1 sharper, > 1 flatter
        ``model.state`` is left as it was, so generating in the middle of training is harmless.
        """
        where = "CharLM.generate"
        if not (isinstance(prefix, str) and prefix):
            raise ValueError(f"{where}: expected a non-empty prefix (a str), got {prefix!r}")
        if _checks.integer(n, "n", where) < 0:
            raise ValueError(f"{where}: expected n >= 0 characters to generate, got {n}")
        if temperature is not None:
            temperature = _checks.real(temperature, "temperature (or None for greedy)", where,
                                       low=0, low_open=True)
        rng = _config.resolve_rng(rng)
        saved = self.state
        out = list(corpus.encode(prefix))
        with _config.no_grad():
            logits = self.forward(np.array([out]), None)           # (1, len(prefix), V)
            for _ in range(n):
                last = logits[0, -1]
                if temperature is None:
                    nxt = int(np.argmax(last))
                else:
                    # shift before dividing: the largest z is then exactly 0, so a tiny
                    # temperature sends the others to −inf (p = 0), never to inf − inf = NaN
                    with np.errstate(over="ignore"):
                        z = (last - last.max()) / temperature
                    p = np.exp(z)
                    nxt = int(rng.choice(len(p), p=p / p.sum()))
                out.append(nxt)
                logits = self.forward(np.array([[nxt]]), self.state)
        self.state = saved
        return corpus.decode(out)
