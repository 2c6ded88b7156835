"""EncoderDecoder: read a source sequence into a state, then write the target from it.

    encoder:  src ids (N, S) --Embedding--> --RNN/GRU/LSTM--> final state s (h_n or (h_n, c_n))
    decoder:  input ids (N, T) --Embedding--> --RNN/GRU/LSTM, started from s--> (N, T, H)
              --Linear--> logits (N, T, V)

Training uses teacher forcing: the decoder's input at step t is the *true* target token t−1
(``<bos>`` at t = 0), so every step is trained in one forward pass. Backward: the decoder's
BPTT ends in the gradient of its initial state, which is exactly the gradient of the
encoder's final state -- so the encoder is trained through it.

Inference uses greedy decoding: feed ``<bos>``, take the most likely token, feed it back in,
until ``<eos>`` or a length limit.
"""
import numpy as np

from .. import _config
from ..nn import Embedding, Linear, Module, _checks
from ._recurrent import check_cell, make_rnn


class EncoderDecoder(Module):
    """Encoder RNN/GRU/LSTM and a decoder of the same kind, with teacher forcing.

    src_vocab_size, tgt_vocab_size, embed_dim, hidden_size : ints
    cell, num_layers : the kind and depth of both recurrent layers
    ``logits = model(src_ids, src_lengths, dec_input_ids)``: src_ids (N, S) int, src_lengths
    (N,) or None, dec_input_ids (N, T) int -> logits (N, T, tgt_vocab_size).
    ``model.backward(grad_logits)`` -> None.
    ``model.greedy_decode(src_ids, src_lengths, bos_id, eos_id, max_len)`` -> ids (N, <= max_len).
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embed_dim, hidden_size, cell="gru",
                 num_layers=1, *, dtype=None, rng=None):
        super().__init__()
        cell = check_cell(cell)
        dtype = _config.resolve_dtype(dtype)
        rng = _config.resolve_rng(rng)
        self.config = dict(src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size,
                           embed_dim=embed_dim, hidden_size=hidden_size, cell=cell,
                           num_layers=num_layers, dtype=dtype.name)
        self.src_embedding = Embedding(src_vocab_size, embed_dim, dtype=dtype, rng=rng)
        self.encoder = make_rnn(cell, embed_dim, hidden_size, num_layers, dtype=dtype, rng=rng)
        self.tgt_embedding = Embedding(tgt_vocab_size, embed_dim, dtype=dtype, rng=rng)
        self.decoder = make_rnn(cell, embed_dim, hidden_size, num_layers, dtype=dtype, rng=rng)
        self.fc = Linear(hidden_size, tgt_vocab_size, dtype=dtype, rng=rng)

    def extra_repr(self):
        return f"cell={self.config['cell']!r}"

    def encode(self, src_ids, src_lengths=None):
        """src_ids (N, S) -> the encoder's final state (h_n, or (h_n, c_n) for an LSTM)."""
        _, state = self.encoder(self.src_embedding(src_ids), lengths=src_lengths)
        return state

    def forward(self, src_ids, src_lengths, dec_input_ids):
        """Teacher forcing: logits (N, T, V) for every decoder step at once."""
        state = self.encode(src_ids, src_lengths)
        y, _ = self.decoder(self.tgt_embedding(dec_input_ids), state)   # (N, T, H)
        self._push(True)
        return self.fc(y)

    def backward(self, grad_logits):
        """grad_logits (N, T, V) -> None; the decoder's dh0 trains the encoder."""
        self._pop()
        dy = self.fc.backward(grad_logits)
        dx, d_state = self.decoder.backward(dy)        # d_state = gradient of encoder's state
        self.tgt_embedding.backward(dx)
        dx_src, _ = self.encoder.backward(None, d_state)
        self.src_embedding.backward(dx_src)
        return None

    def greedy_decode(self, src_ids, src_lengths, bos_id, eos_id, max_len):
        """Most likely token at each step, fed back in. Returns ids (N, steps), steps <= max_len;
        a row's tokens after its first ``eos_id`` are meaningless (decode stops there).
        bos_id and eos_id are target ids: integers in [0, tgt_vocab_size) (a float such as 1.0
        is a TypeError, not truncated)."""
        where = "EncoderDecoder.greedy_decode"
        max_len = _checks.positive_int(max_len, "max_len")
        V = self.tgt_embedding.num_embeddings
        for name, value in (("bos_id", bos_id), ("eos_id", eos_id)):
            if not 0 <= _checks.integer(value, name, where) < V:
                raise IndexError(f"{where}: expected {name} in [0, {V}), got {value}")
        src_ids = np.asarray(src_ids)
        N = src_ids.shape[0]
        out = []
        with _config.no_grad():
            state = self.encode(src_ids, src_lengths)
            token = np.full((N, 1), bos_id, dtype=np.int64)
            finished = np.zeros(N, dtype=bool)
            for _ in range(max_len):
                y, state = self.decoder(self.tgt_embedding(token), state)   # (N, 1, H)
                token = np.argmax(self.fc(y), axis=-1)                       # (N, 1)
                out.append(token[:, 0])
                finished |= token[:, 0] == eos_id
                if finished.all():
                    break
        return np.stack(out, axis=1)
