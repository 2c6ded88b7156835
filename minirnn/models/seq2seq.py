"""EncoderDecoder: read a source sequence into a state, then write the target from it.

    encoder:  src ids (N, S) --Embedding--> --RNN/GRU/LSTM--> outputs (N, S, H), final state s
    decoder:  input ids (N, T) --Embedding--> --RNN/GRU/LSTM, started from s--> y (N, T, H)
              --Linear--> logits (N, T, V)
    with attention=True (Luong-style output combination, Bahdanau's additive score):
              c_t = attention(query y_t, keys = values = encoder outputs, padding masked)
              logits_t = Linear([y_t ; c_t])                       (N, T, V)

Training uses teacher forcing: the decoder's input at step t is the *true* target token t−1
(``<bos>`` at t = 0), so every step is trained in one forward pass. Backward: the decoder's
BPTT ends in the gradient of its initial state, which is exactly the gradient of the
encoder's final state -- so the encoder is trained through it; with attention the encoder's
outputs get a gradient too, from the keys and values.

Why the output combination (Luong et al. 2015) rather than their input feeding (§3.3, the
context concatenated to the next step's input): the queries are then the decoder's outputs,
all known after one pass of the decoder layer, so attention runs for every step at once
(minirnn/functional/attention.py) and the backward is the layer's backward plus attention's,
exact, with no step-by-step loop. Decoding runs step by step either way (``step``).

Inference: ``greedy_decode`` feeds ``<bos>``, takes the most likely token, feeds it back in,
until ``<eos>`` or a length limit; minirnn.models.decoding.beam_search keeps the k best.
"""
import math

import numpy as np

from .. import _config
from ..nn import Embedding, Linear, Module, Parameter, _checks
from ._recurrent import check_cell, make_rnn


def _attention_kernels():
    """The attention functions of the current tier (the same signatures in both)."""
    if _config.get_impl() == "textbook":
        from ..textbook import attention
    else:
        from ..functional import attention
    return attention


class AdditiveAttention(Module):
    """Additive (Bahdanau) attention over S source positions, for T queries at once.

    query_size, key_size, attention_size : H_q, H_k, A.  Parameters W_q (A, H_q),
    W_k (A, H_k), v (A,), drawn from U(−1/√H, 1/√H) of their input size.
    ``contexts, weights = att(queries (N, T, H_q), keys (N, S, H_k), values (N, S, H_v),
    lengths=None)``: contexts (N, T, H_v), weights (N, T, S), 0 at s >= lengths[n].
    ``dqueries, dkeys, dvalues = att.backward(dcontexts, dweights=None)``.
    Equations: minirnn/textbook/attention.py.
    """

    def __init__(self, query_size, key_size, attention_size, *, dtype=None, rng=None):
        super().__init__()
        dtype = _config.resolve_dtype(dtype)
        rng = _config.resolve_rng(rng)
        A = _checks.positive_int(attention_size, "attention_size")
        for name, shape in (("W_q", (A, _checks.positive_int(query_size, "query_size"))),
                            ("W_k", (A, _checks.positive_int(key_size, "key_size")))):
            k = 1 / math.sqrt(shape[1])
            setattr(self, name, Parameter(rng.uniform(-k, k, shape).astype(dtype)))
        self.v = Parameter(rng.uniform(-1 / math.sqrt(A), 1 / math.sqrt(A), A).astype(dtype))
        self.dtype = dtype

    def extra_repr(self):
        A, H_q = self.W_q.shape
        return f"{H_q}, {self.W_k.shape[1]}, {A}"

    def forward(self, queries, keys, values, lengths=None):
        where = "AdditiveAttention"
        queries, keys, values = (_checks.float_array(a, self.dtype, n, where) for a, n in
                                 ((queries, "queries"), (keys, "keys"), (values, "values")))
        H_q, H_k = self.W_q.shape[1], self.W_k.shape[1]
        if queries.ndim != 3 or queries.shape[2] != H_q:
            raise ValueError(f"{where}: expected queries of shape (N, T, {H_q}), got "
                             f"{queries.shape}")
        N = queries.shape[0]
        if keys.ndim != 3 or keys.shape[0] != N or keys.shape[2] != H_k or keys.shape[1] == 0:
            raise ValueError(f"{where}: expected keys of shape ({N}, S, {H_k}) with S >= 1, "
                             f"got {keys.shape}")
        S = keys.shape[1]
        if values.ndim != 3 or values.shape[:2] != (N, S):
            raise ValueError(f"{where}: expected values of shape ({N}, {S}, H_v), got "
                             f"{values.shape}")
        mask = None
        if lengths is not None:
            lengths = _checks.lengths_array(lengths, N, S, where)
            mask = (np.arange(S) < lengths[:, None]).astype(self.dtype)      # (N, S)
        K = _attention_kernels()
        contexts, weights, cache = K.attention_sequence_forward(
            queries, keys, values, self.W_q.data, self.W_k.data, self.v.data, mask)
        self._push((cache, K, contexts.shape, weights.shape))
        return contexts, weights

    def backward(self, dcontexts, dweights=None):
        cache, K, c_shape, w_shape = self._peek()
        dcontexts = _checks.shape_is(_checks.float_array(dcontexts, self.dtype, "dcontexts",
                                     "AdditiveAttention.backward"), c_shape, "dcontexts",
                                     "AdditiveAttention.backward")
        if dweights is not None:
            dweights = _checks.shape_is(_checks.float_array(
                dweights, self.dtype, "dweights", "AdditiveAttention.backward"), w_shape,
                "dweights", "AdditiveAttention.backward")
        self._pop()
        dq, dk, du, grads = K.attention_sequence_backward(dcontexts, dweights, cache)
        for name, g in grads.items():
            getattr(self, name).grad += g
        return dq, dk, du


def check_source_ids(src_ids, where):
    """``src_ids`` as an (N, S) integer array, one row of ids per source: TypeError for floats
    (even 2.0: truncating 4.9 would pick another id), ValueError for another rank or an
    empty axis (a single source is one row: ``src_ids[None]``)."""
    src_ids = _checks.int_array(src_ids, "src_ids", where)
    if src_ids.ndim != 2 or 0 in src_ids.shape:
        hint = " (one source: pass it as one row, ids[None])" if src_ids.ndim == 1 else ""
        raise ValueError(f"{where}: expected src_ids of shape (N, S) with N, S >= 1, got "
                         f"shape {src_ids.shape}{hint}")
    return src_ids


class EncoderDecoder(Module):
    """Encoder RNN/GRU/LSTM and a decoder of the same kind, with teacher forcing.

    src_vocab_size, tgt_vocab_size, embed_dim, hidden_size : ints
    cell, num_layers : the kind and depth of both recurrent layers
    attention : False, or True for additive attention over the encoder's outputs (the output
        layer then reads [y_t ; c_t], 2·hidden_size features); attention_size A (default
        hidden_size).
    ``logits = model(src_ids, src_lengths, dec_input_ids)``: src_ids (N, S) int, src_lengths
    (N,) or None, dec_input_ids (N, T) int -> logits (N, T, tgt_vocab_size).
    ``model.backward(grad_logits)`` -> None.
    ``model.greedy_decode(src_ids, src_lengths, bos_id, eos_id, max_len)`` -> ids (N, <= max_len).
    ``model.last_attention``: weights (N, T, S) of the latest forward or greedy decode (None
    without attention).
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embed_dim, hidden_size, cell="gru",
                 num_layers=1, *, attention=False, attention_size=None, dtype=None, rng=None):
        super().__init__()
        cell = check_cell(cell)
        dtype = _config.resolve_dtype(dtype)
        rng = _config.resolve_rng(rng)
        attention = _checks.flag(attention, "attention", "EncoderDecoder")
        attention_size = hidden_size if attention_size is None else attention_size
        self.config = dict(src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size,
                           embed_dim=embed_dim, hidden_size=hidden_size, cell=cell,
                           num_layers=num_layers, dtype=dtype.name)
        if attention:       # only then, so that configs of older models stay as they were
            self.config.update(attention=True, attention_size=attention_size)
        self.src_embedding = Embedding(src_vocab_size, embed_dim, dtype=dtype, rng=rng)
        self.encoder = make_rnn(cell, embed_dim, hidden_size, num_layers, dtype=dtype, rng=rng)
        self.tgt_embedding = Embedding(tgt_vocab_size, embed_dim, dtype=dtype, rng=rng)
        self.decoder = make_rnn(cell, embed_dim, hidden_size, num_layers, dtype=dtype, rng=rng)
        self.fc = Linear(hidden_size * (2 if attention else 1), tgt_vocab_size, dtype=dtype,
                         rng=rng)
        self.attention = None
        if attention:
            self.attention = AdditiveAttention(hidden_size, hidden_size, attention_size,
                                               dtype=dtype, rng=rng)
        self.last_attention = None

    def extra_repr(self):
        return f"cell={self.config['cell']!r}" + (", attention=True" if self.attention else "")

    def encode(self, src_ids, src_lengths=None):
        """src_ids (N, S) -> the encoder's final state (h_n, or (h_n, c_n) for an LSTM)."""
        _, state = self.encoder(self.src_embedding(src_ids), lengths=src_lengths)
        return state

    def _combine(self, y, memory):
        """Decoder outputs y (N, T, H) -> logits (N, T, V); with attention, reads memory =
        (encoder outputs (N, S, H), source lengths or None)."""
        if self.attention is None:
            return self.fc(y)
        enc_out, lengths = memory
        contexts, self.last_attention = self.attention(y, enc_out, enc_out, lengths)
        return self.fc(np.concatenate([y, contexts], axis=-1))           # (N, T, 2H)

    def forward(self, src_ids, src_lengths, dec_input_ids):
        """Teacher forcing: logits (N, T, V) for every decoder step at once."""
        memory, state = self.start(src_ids, src_lengths)
        y, _ = self.decoder(self.tgt_embedding(dec_input_ids), state)   # (N, T, H)
        logits = self._combine(y, memory)
        self._push(True)
        return logits

    def backward(self, grad_logits):
        """grad_logits (N, T, V) -> None; the decoder's dh0 trains the encoder."""
        self._peek()
        dy = self.fc.backward(grad_logits)
        d_enc_out = None
        if self.attention is not None:
            H = self.config["hidden_size"]
            dy, dcontexts = dy[..., :H], dy[..., H:]
            dq, dkeys, dvalues = self.attention.backward(dcontexts)
            dy, d_enc_out = dy + dq, dkeys + dvalues       # keys and values are both enc_out
        self._pop()
        dx, d_state = self.decoder.backward(dy)        # d_state = gradient of encoder's state
        self.tgt_embedding.backward(dx)
        dx_src, _ = self.encoder.backward(d_enc_out, d_state)
        self.src_embedding.backward(dx_src)
        return None

    # ---- decoding, one step at a time ---------------------------------------------------
    def start(self, src_ids, src_lengths=None):
        """Encode: (memory, state). memory is what attention reads, (encoder outputs (N, S, H),
        src_lengths), or None without attention; state is the decoder's initial state."""
        enc_out, state = self.encoder(self.src_embedding(src_ids), lengths=src_lengths)
        memory = None if self.attention is None else (enc_out, src_lengths)
        return memory, state

    def step(self, tokens, state, memory):
        """One decoder step: tokens (B,) int -> logits (B, V) and the new state (call it
        under ``no_grad``; a beam picks rows with ``select_state`` and ``select_memory``)."""
        y, state = self.decoder(self.tgt_embedding(np.asarray(tokens)[:, None]), state)
        return self._combine(y, memory)[:, 0], state

    @staticmethod
    def select_state(state, rows):
        """The decoder state of batch rows ``rows``: h_n (L, B, H), or an LSTM's (h_n, c_n)."""
        if isinstance(state, tuple):
            return tuple(t[:, rows] for t in state)
        return state[:, rows]

    @staticmethod
    def select_memory(memory, rows):
        """The memory of batch rows ``rows`` (None stays None)."""
        if memory is None:
            return None
        enc_out, lengths = memory
        return enc_out[rows], None if lengths is None else np.asarray(lengths)[rows]

    def greedy_decode(self, src_ids, src_lengths, bos_id, eos_id, max_len):
        """Most likely token at each step, fed back in. Returns ids (N, steps), steps <= max_len;
        a row's tokens after its first ``eos_id`` are meaningless (decode stops there).
        src_ids must be (N, S) integers (``check_source_ids``); bos_id and eos_id are target
        ids: integers in [0, tgt_vocab_size) (a float such as 1.0 is a TypeError, not
        truncated). With attention, ``last_attention`` holds the weights
        of every step, (N, steps, S)."""
        where = "EncoderDecoder.greedy_decode"
        max_len = _checks.positive_int(max_len, "max_len")
        self.check_ids(bos_id, eos_id, where)
        src_ids = check_source_ids(src_ids, where)
        N = src_ids.shape[0]
        out, weights = [], []
        with _config.no_grad():
            memory, state = self.start(src_ids, src_lengths)
            token = np.full(N, bos_id, dtype=np.int64)
            finished = np.zeros(N, dtype=bool)
            for _ in range(max_len):
                logits, state = self.step(token, state, memory)             # (N, V)
                token = np.argmax(logits, axis=-1)                           # (N,)
                out.append(token)
                if self.attention is not None:
                    weights.append(self.last_attention[:, 0])
                finished |= token == eos_id
                if finished.all():
                    break
        self.last_attention = np.stack(weights, axis=1) if weights else None
        return np.stack(out, axis=1)

    def check_ids(self, bos_id, eos_id, where):
        """TypeError / IndexError unless both are target ids in [0, tgt_vocab_size)."""
        V = self.tgt_embedding.num_embeddings
        for name, value in (("bos_id", bos_id), ("eos_id", eos_id)):
            if not 0 <= _checks.integer(value, name, where) < V:
                raise IndexError(f"{where}: expected {name} in [0, {V}), got {value}")
