"""PyTorch twins of minirnn's models: the same constructor arguments, parameter names, shapes
and order, and the same forward math, so a minirnn checkpoint trains on in torch.

    RNN, LSTM, GRU        torch.nn.RNN / LSTM / GRU that also take minirnn's ``lengths=`` (packed
                          sequences underneath) and ``mask=`` of ones then zeros per sequence
    SequenceClassifier    Embedding -> RNN/LSTM/GRU -> Linear on the last layer's final h
    CharLM                one-hot or Embedding -> RNN/LSTM/GRU -> Linear at every step
    AdditiveAttention     score_ts = v · tanh(W_q q_t + W_k k_s), softmax over unpadded s
    EncoderDecoder        encoder, decoder started from its final state, Linear on [y_t ; c_t]
                          with attention (Luong's output combination), greedy decoding

``build(class_name, config)`` makes the twin of a minirnn model from its ``config`` (what
checkpoints record); ``save`` / ``load`` write and read the torch file tools/to_torch.py makes
(tensors and plain data only, so ``torch.load(path, weights_only=True)`` reads it).

What torch cannot express is refused by name when a twin is built or called: peephole LSTMs,
activations other than torch's, Cho's GRU (``reset_after=False``), masks with gaps (see
docs/variants.md). minirnn itself never imports torch; this file lives in tools/.
"""
import math
import os
import pickle

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from minirnn._io import atomic_write
from minirnn.models._recurrent import check_cell

FORMAT = "minirnn-torch"
VERSION = 1
DTYPES = {"float64": torch.float64, "float32": torch.float32}
OPTIMIZERS = ("SGD", "Adam", "Adagrad", "RMSprop")     # the torch.optim classes minirnn mirrors


def torch_dtype(dtype):
    """'float64' / 'float32' (or a numpy or torch dtype of them) -> the torch dtype."""
    if isinstance(dtype, torch.dtype):
        name = str(dtype).replace("torch.", "")
    else:
        name = np.dtype(dtype).name
    if name not in DTYPES:
        raise TypeError(f"expected dtype float32 or float64, got {dtype!r}")
    return DTYPES[name]


def _dtype_name(dtype):
    return str(torch_dtype(dtype)).replace("torch.", "")


def _refuse(owner, option, value, why):
    return ValueError(f"{owner}: torch cannot express {option}={value!r} ({why}); keep this "
                      f"model in minirnn, or retrain it without the option (docs/variants.md)")


# ---- recurrent layers ------------------------------------------------------------------------

def lengths_of_mask(mask, T, N, batch_first, unbatched):
    """A per-step mask of ones then zeros in every sequence -> lengths (N,) int64, or None when
    nothing is masked; ValueError naming the sequence for any other mask (a gap, or a masked
    first step), which packed sequences cannot express."""
    m = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    if m.dtype.kind not in "biuf" or not np.isin(m, (0, 1)).all():
        raise ValueError(f"expected mask values 0 or 1 (or bool), got {m.dtype} {m!r}")
    expected = (T,) if unbatched else ((N, T) if batch_first else (T, N))
    if m.shape != expected:
        raise ValueError(f"expected mask of shape {expected}, got {m.shape}")
    m = m.astype(bool).reshape(T, 1) if unbatched else (m.astype(bool).T if batch_first
                                                        else m.astype(bool))    # (T, N)
    lengths = m.sum(axis=0)
    prefix = np.arange(T)[:, None] < lengths[None, :]
    bad = np.flatnonzero((m != prefix).any(axis=0) | (lengths == 0))
    if bad.size:
        raise ValueError(f"mask: torch cannot express sequence {int(bad[0])}'s mask "
                         f"{m[:, bad[0]].astype(int).tolist()}: packed sequences run each "
                         f"sequence from its first step up to its length, so a mask must be "
                         f"ones then zeros, starting with a one (a mask with gaps is a minirnn "
                         f"extension, docs/variants.md)")
    return None if lengths.min() == T else lengths.astype(np.int64)


class _Recurrent:
    """What the three twin layers add to torch's: minirnn's ``config`` and its call
    ``layer(x, hx=None, lengths=None, mask=None)``.

    lengths: padded steps give outputs 0 and the states at each sequence's own end, as
    minirnn (packed sequences underneath). mask: ones then zeros per sequence; as minirnn's
    per-step mask, the forward direction's outputs past the end repeat its last output
    (Keras), the reverse direction's are 0.
    """

    def forward(self, x, hx=None, lengths=None, mask=None):
        name = type(self).__name__
        if lengths is not None and mask is not None:
            raise ValueError(f"{name}: expected lengths or mask, not both")
        unbatched = x.dim() == 2
        T = x.shape[0 if unbatched or not self.batch_first else 1]
        N = 1 if unbatched else x.shape[0 if self.batch_first else 1]
        if mask is not None:
            lengths = lengths_of_mask(mask, T, N, self.batch_first, unbatched)
        elif lengths is not None and unbatched:
            raise ValueError(f"{name}: lengths needs batched input (L, N, H_in)")
        if lengths is None:
            return super().forward(x, hx)
        if unbatched:                          # only a mask gets here: run it as a batch of 1
            x = x[:, None] if not self.batch_first else x[None]
            hx = None if hx is None else (tuple(h[:, None] for h in hx)
                                          if isinstance(hx, tuple) else hx[:, None])
        lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()     # packing wants CPU
        packed = pack_padded_sequence(x, lengths, batch_first=self.batch_first,
                                      enforce_sorted=False)
        out, state = super().forward(packed, hx)
        out, _ = pad_packed_sequence(out, batch_first=self.batch_first, total_length=T)
        if mask is not None:
            out = self._repeat_last_output(out, lengths)
        if unbatched:
            out = out[:, 0] if not self.batch_first else out[0]
            state = (tuple(s[:, 0] for s in state) if isinstance(state, tuple)
                     else state[:, 0])
        return out, state

    def _repeat_last_output(self, out, lengths):
        """Forward direction: the output at t >= length repeats the one at length − 1."""
        H = self.proj_size or self.hidden_size
        t_axis = 1 if self.batch_first else 0
        T = out.shape[t_axis]
        steps = torch.minimum(torch.arange(T)[:, None], lengths[None, :] - 1)   # (T, N)
        steps = steps.to(out.device)
        if self.batch_first:
            steps = steps.T
        index = steps[..., None].expand(*steps.shape, H)
        forward = torch.gather(out[..., :H], t_axis, index)
        return torch.cat([forward, out[..., H:]], dim=-1)


def _layer_config(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                  bidirectional):
    return dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                bias=bool(bias), batch_first=bool(batch_first), dropout=float(dropout),
                bidirectional=bool(bidirectional))


class RNN(_Recurrent, nn.RNN):
    """torch.nn.RNN built from minirnn's RNN arguments ('tanh' or 'relu' only)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, *, dtype="float64"):
        if nonlinearity not in ("tanh", "relu"):
            raise _refuse("RNN", "nonlinearity", nonlinearity,
                          "torch.nn.RNN has only 'tanh' and 'relu'")
        super().__init__(input_size, hidden_size, num_layers, nonlinearity, bias, batch_first,
                         dropout, bidirectional, dtype=torch_dtype(dtype))
        self.config = _layer_config(input_size, hidden_size, num_layers, bias, batch_first,
                                    dropout, bidirectional)
        self.config.update(nonlinearity=nonlinearity, dtype=_dtype_name(dtype))


def _check_gated(owner, gate_activation, cell_activation):
    if gate_activation != "sigmoid":
        raise _refuse(owner, "gate_activation", gate_activation,
                      f"torch.nn.{owner}'s gates are always sigmoid")
    if cell_activation != "tanh":
        raise _refuse(owner, "cell_activation", cell_activation,
                      f"torch.nn.{owner}'s candidate is always tanh")


class LSTM(_Recurrent, nn.LSTM):
    """torch.nn.LSTM built from minirnn's LSTM arguments (no peepholes, torch's activations)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, *, peephole=False,
                 gate_activation="sigmoid", cell_activation="tanh", dtype="float64"):
        if peephole:
            raise _refuse("LSTM", "peephole", peephole, "torch.nn.LSTM has no peephole weights")
        _check_gated("LSTM", gate_activation, cell_activation)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, dtype=torch_dtype(dtype))
        self.config = _layer_config(input_size, hidden_size, num_layers, bias, batch_first,
                                    dropout, bidirectional)
        self.config.update(proj_size=proj_size, peephole=False, gate_activation="sigmoid",
                           cell_activation="tanh", dtype=_dtype_name(dtype))


class GRU(_Recurrent, nn.GRU):
    """torch.nn.GRU built from minirnn's GRU arguments (reset_after=True, torch's
    activations)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, reset_after=True,
                 gate_activation="sigmoid", cell_activation="tanh", dtype="float64"):
        if not reset_after:
            raise _refuse("GRU", "reset_after", reset_after,
                          "torch.nn.GRU applies the reset gate after W_hn h, as reset_after=True")
        _check_gated("GRU", gate_activation, cell_activation)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=torch_dtype(dtype))
        self.config = _layer_config(input_size, hidden_size, num_layers, bias, batch_first,
                                    dropout, bidirectional)
        self.config.update(reset_after=True, gate_activation="sigmoid", cell_activation="tanh",
                           dtype=_dtype_name(dtype))


LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def _make_rnn(cell, input_size, hidden_size, num_layers, dtype):
    """minirnn.models' make_rnn: a batch-first layer with every other option at its default."""
    return LAYERS[check_cell(cell)](input_size, hidden_size, num_layers, batch_first=True,
                                    dtype=dtype)


def _top_hidden(state):
    """h of the last layer (N, H) from h_n or (h_n, c_n)."""
    return (state[0] if isinstance(state, tuple) else state)[-1]


def _detach(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


# ---- models ----------------------------------------------------------------------------------

class SequenceClassifier(nn.Module):
    """minirnn.models.SequenceClassifier: ids (N, T), lengths (N,) or None -> logits (N, C)."""

    def __init__(self, vocab_size, embed_dim, hidden_size, num_classes, cell="lstm",
                 num_layers=1, *, dtype="float64"):
        super().__init__()
        cell, dt = check_cell(cell), torch_dtype(dtype)
        self.config = dict(vocab_size=vocab_size, embed_dim=embed_dim, hidden_size=hidden_size,
                           num_classes=num_classes, cell=cell, num_layers=num_layers,
                           dtype=_dtype_name(dtype))
        self.embedding = nn.Embedding(vocab_size, embed_dim, dtype=dt)
        self.rnn = _make_rnn(cell, embed_dim, hidden_size, num_layers, dtype)
        self.fc = nn.Linear(hidden_size, num_classes, dtype=dt)

    def forward(self, ids, lengths=None):
        _, state = self.rnn(self.embedding(ids), lengths=lengths)
        return self.fc(_top_hidden(state))


class CharLM(nn.Module):
    """minirnn.models.CharLM: ids (N, T), state None or ``model.state`` -> logits (N, T, V).

    As in minirnn, the final state is kept in ``model.state``, detached: passing it to the next
    forward continues the text, and backpropagation stops at the batch (truncated BPTT).
    """

    def __init__(self, vocab_size, hidden_size, cell="lstm", num_layers=1, embed_dim=None,
                 bidirectional=False, *, dtype="float64"):
        super().__init__()
        if bidirectional:
            raise ValueError("CharLM: a bidirectional model cannot be used for next-character "
                             "prediction (it sees the future)")
        cell, dt = check_cell(cell), torch_dtype(dtype)
        self.config = dict(vocab_size=vocab_size, hidden_size=hidden_size, cell=cell,
                           num_layers=num_layers, embed_dim=embed_dim, dtype=_dtype_name(dtype))
        self.vocab_size = vocab_size
        self.embedding = None if embed_dim is None else nn.Embedding(vocab_size, embed_dim,
                                                                     dtype=dt)
        self.rnn = _make_rnn(cell, vocab_size if embed_dim is None else embed_dim, hidden_size,
                             num_layers, dtype)
        self.fc = nn.Linear(hidden_size, vocab_size, dtype=dt)
        self.state = None

    def reset_state(self):
        self.state = None

    def _inputs(self, ids):
        if self.embedding is not None:
            return self.embedding(ids)
        return F.one_hot(ids, self.vocab_size).to(self.fc.weight.dtype)     # (N, T, V)

    def forward(self, ids, state=None):
        y, state = self.rnn(self._inputs(ids), state)                       # (N, T, H)
        self.state = _detach(state)
        return self.fc(y)

    @torch.no_grad()
    def generate(self, corpus, prefix, n, temperature=None, generator=None):
        """``prefix`` and ``n`` more characters (greedy, or sampled at ``temperature``), as
        minirnn's CharLM.generate; ``model.state`` is left as it was."""
        saved, out = self.state, list(corpus.encode(prefix))
        device = self.fc.weight.device
        logits = self.forward(torch.tensor([out], device=device))
        for _ in range(n):
            last = logits[0, -1]
            if temperature is None:
                nxt = int(torch.argmax(last))
            else:
                p = torch.softmax((last - last.max()) / temperature, dim=0)
                nxt = int(torch.multinomial(p, 1, generator=generator))
            out.append(nxt)
            logits = self.forward(torch.tensor([[nxt]], device=device), self.state)
        self.state = saved
        return corpus.decode(out)


class AdditiveAttention(nn.Module):
    """minirnn.models.AdditiveAttention: parameters W_q (A, H_q), W_k (A, H_k), v (A,);
    (queries (N, T, H_q), keys (N, S, H_k), values (N, S, H_v), lengths) -> contexts
    (N, T, H_v), weights (N, T, S) (0 at s >= lengths[n])."""

    def __init__(self, query_size, key_size, attention_size, *, dtype="float64"):
        super().__init__()
        dt = torch_dtype(dtype)
        self.W_q = nn.Parameter(torch.empty(attention_size, query_size, dtype=dt))
        self.W_k = nn.Parameter(torch.empty(attention_size, key_size, dtype=dt))
        self.v = nn.Parameter(torch.empty(attention_size, dtype=dt))
        with torch.no_grad():              # minirnn's: U(−1/√H, 1/√H) of each input size
            for p, fan_in in ((self.W_q, query_size), (self.W_k, key_size),
                              (self.v, attention_size)):
                p.uniform_(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))

    def forward(self, queries, keys, values, lengths=None):
        p = keys @ self.W_k.T                                           # (N, S, A)
        z = torch.tanh((queries @ self.W_q.T)[:, :, None, :] + p[:, None])   # (N, T, S, A)
        e = z @ self.v                                                  # (N, T, S)
        if lengths is not None:
            S = keys.shape[1]
            lengths = torch.as_tensor(lengths, device=e.device)
            pad = torch.arange(S, device=e.device)[None, :] >= lengths[:, None]     # (N, S)
            e = e.masked_fill(pad[:, None, :], -math.inf)
        weights = torch.softmax(e, dim=2)
        return weights @ values, weights


class EncoderDecoder(nn.Module):
    """minirnn.models.EncoderDecoder: (src_ids (N, S), src_lengths or None, dec_input_ids
    (N, T)) -> logits (N, T, V), teacher forcing; ``greedy_decode`` as minirnn's."""

    def __init__(self, src_vocab_size, tgt_vocab_size, embed_dim, hidden_size, cell="gru",
                 num_layers=1, *, attention=False, attention_size=None, dtype="float64"):
        super().__init__()
        cell, dt = check_cell(cell), torch_dtype(dtype)
        attention_size = hidden_size if attention_size is None else attention_size
        self.config = dict(src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size,
                           embed_dim=embed_dim, hidden_size=hidden_size, cell=cell,
                           num_layers=num_layers, dtype=_dtype_name(dtype))
        if attention:
            self.config.update(attention=True, attention_size=attention_size)
        self.src_embedding = nn.Embedding(src_vocab_size, embed_dim, dtype=dt)
        self.encoder = _make_rnn(cell, embed_dim, hidden_size, num_layers, dtype)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, embed_dim, dtype=dt)
        self.decoder = _make_rnn(cell, embed_dim, hidden_size, num_layers, dtype)
        self.fc = nn.Linear(hidden_size * (2 if attention else 1), tgt_vocab_size, dtype=dt)
        self.attention = (AdditiveAttention(hidden_size, hidden_size, attention_size, dtype=dt)
                          if attention else None)
        self.last_attention = None

    def start(self, src_ids, src_lengths=None):
        """(memory, state): encoder outputs and lengths for attention (None without), and the
        decoder's initial state."""
        enc_out, state = self.encoder(self.src_embedding(src_ids), lengths=src_lengths)
        return (None if self.attention is None else (enc_out, src_lengths)), state

    def _combine(self, y, memory):
        if self.attention is None:
            return self.fc(y)
        enc_out, lengths = memory
        contexts, weights = self.attention(y, enc_out, enc_out, lengths)
        self.last_attention = weights.detach()
        return self.fc(torch.cat([y, contexts], dim=-1))                  # (N, T, 2H)

    def forward(self, src_ids, src_lengths, dec_input_ids):
        memory, state = self.start(src_ids, src_lengths)
        y, _ = self.decoder(self.tgt_embedding(dec_input_ids), state)     # (N, T, H)
        return self._combine(y, memory)

    def step(self, tokens, state, memory):
        """One decoder step: tokens (B,) -> logits (B, V), new state."""
        y, state = self.decoder(self.tgt_embedding(tokens[:, None]), state)
        return self._combine(y, memory)[:, 0], state

    @torch.no_grad()
    def greedy_decode(self, src_ids, src_lengths, bos_id, eos_id, max_len):
        """ids (N, steps <= max_len): the most likely token at each step, fed back in."""
        memory, state = self.start(src_ids, src_lengths)
        N, device = src_ids.shape[0], src_ids.device
        token = torch.full((N,), bos_id, dtype=torch.int64, device=device)
        finished = torch.zeros(N, dtype=torch.bool, device=device)
        out, weights = [], []
        for _ in range(max_len):
            logits, state = self.step(token, state, memory)
            token = torch.argmax(logits, dim=-1)
            out.append(token)
            if self.attention is not None:
                weights.append(self.last_attention[:, 0])
            finished |= token == eos_id
            if bool(finished.all()):
                break
        self.last_attention = torch.stack(weights, dim=1) if weights else None
        return torch.stack(out, dim=1)


TWINS = {cls.__name__: cls for cls in (RNN, LSTM, GRU, SequenceClassifier, CharLM,
                                       EncoderDecoder)}


def build(model_class, config):
    """The torch twin of a minirnn model from its class name and ``config`` (its constructor
    arguments, as checkpoints record them); ValueError for a class or option torch lacks."""
    if model_class not in TWINS:
        raise ValueError(f"no torch twin for a {model_class!r}: expected one of {sorted(TWINS)} "
                         f"(a model of your own needs a twin of your own)")
    if not isinstance(config, dict):
        raise ValueError(f"the checkpoint records no config for its {model_class}, so its "
                         f"options cannot be known; load it into the {model_class} you built "
                         f"and save it again with this minirnn (checkpoints now record "
                         f"layers' configs)")
    return TWINS[model_class](**config)


# ---- learning-rate schedulers ----------------------------------------------------------------

def scheduler(optimizer, state, lr_lambda=None):
    """The torch.optim.lr_scheduler scheduler that goes on where a minirnn scheduler stopped.

    optimizer : the torch optimiser, its learning rate already restored (``load`` does it)
    state     : the minirnn scheduler's ``state_dict()`` (fit keeps it in its checkpoints'
                metadata, under 'scheduler', and to_torch.py carries the metadata over)
    lr_lambda : LambdaLR's function (functions are never saved, in either library)
    From here on ``step()`` (``step(metric)`` for ReduceLROnPlateau) sets the learning rates
    minirnn's scheduler would have set.
    """
    S, kind = torch.optim.lr_scheduler, state["type"]
    group = optimizer.param_groups[0]
    lr = group["lr"]
    group["initial_lr"] = state["base_lr"]          # where torch keeps base_lr
    if kind == "StepLR":
        sched = S.StepLR(optimizer, state["step_size"], state["gamma"])
    elif kind == "MultiStepLR":
        sched = S.MultiStepLR(optimizer, list(state["milestones"]), state["gamma"])
    elif kind == "ExponentialLR":
        sched = S.ExponentialLR(optimizer, state["gamma"])
    elif kind == "CosineAnnealingLR":
        sched = S.CosineAnnealingLR(optimizer, state["T_max"], state["eta_min"])
    elif kind == "LambdaLR":
        if lr_lambda is None:
            raise ValueError("LambdaLR: pass lr_lambda= (a function is not saved with the "
                             "scheduler, in minirnn as in torch)")
        sched = S.LambdaLR(optimizer, lr_lambda)
    elif kind == "ReduceLROnPlateau":
        sched = S.ReduceLROnPlateau(
            optimizer, state["mode"], state["factor"], state["patience"], state["threshold"],
            state["threshold_mode"], state["cooldown"], state["min_lr"], state["eps"])
        if state["best"] is not None:                  # None: nothing seen yet (torch: ±inf)
            sched.best = state["best"]
        sched.num_bad_epochs = state["num_bad_epochs"]
        sched.cooldown_counter = state["cooldown_counter"]
    else:
        raise ValueError(f"no torch scheduler for a minirnn {kind!r}")
    group["lr"] = lr                           # building one may have set it: put it back
    sched.base_lrs = [state["base_lr"]]
    sched.last_epoch = state["last_epoch"]
    sched._last_lr = [state["last_lr"]]
    return sched


# ---- the torch file --------------------------------------------------------------------------

def save(path, model, optimizer=None, *, arrays=None, **meta):
    """Write ``model`` (a twin), its torch ``optimizer`` (one of OPTIMIZERS, or None), further
    tensors ``arrays`` and plain-data ``meta`` to ``path``, atomically. Everything in it is a
    tensor or plain data, so ``torch.load(path, weights_only=True)`` reads it."""
    if type(model).__name__ not in TWINS:
        raise TypeError(f"expected a twin model {sorted(TWINS)}, got {type(model).__name__}")
    opt = None
    if optimizer is not None:
        if type(optimizer).__name__ not in OPTIMIZERS:
            raise TypeError(f"expected a torch.optim optimiser in {list(OPTIMIZERS)}, got "
                            f"{type(optimizer).__name__}")
        opt = {"type": type(optimizer).__name__, "state_dict": optimizer.state_dict()}
    data = {"format": FORMAT, "version": VERSION, "model_class": type(model).__name__,
            "model_config": dict(model.config), "model_state": model.state_dict(),
            "optimizer": opt, "arrays": dict(arrays or {}), "meta": meta}
    with atomic_write(path, "wb") as f:
        torch.save(data, f)
    return path


def read(path):
    """The dict ``save`` wrote to ``path``, read with ``weights_only=True`` (tensors and plain
    data only; nothing else is unpickled); ValueError if it is not such a file."""
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(f"no such file: {name!r}")
    try:
        data = torch.load(name, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, OSError) as e:
        reason = " ".join(str(e).split())[:200]
        raise ValueError(f"cannot read {name!r} as a torch file ({type(e).__name__}: "
                         f"{reason})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{name!r} is not a file tools/to_torch.py wrote (no {FORMAT!r} tag)")
    if data.get("version") != VERSION:
        raise ValueError(f"{name!r} has format version {data.get('version')!r}, expected "
                         f"{VERSION}")
    return data


def load(path):
    """(model, optimizer or None, data) from a file ``save`` wrote, read with
    ``weights_only=True``; data holds 'meta', 'arrays', 'model_class' and 'model_config'."""
    data = read(path)
    model = build(data["model_class"], data["model_config"])
    model.load_state_dict(data["model_state"])
    optimizer = None
    if data["optimizer"] is not None:
        kind = data["optimizer"]["type"]
        if kind not in OPTIMIZERS:
            raise ValueError(f"{os.fspath(path)!r}: unknown optimiser {kind!r}, expected one of "
                             f"{list(OPTIMIZERS)}")
        optimizer = getattr(torch.optim, kind)(model.parameters(), lr=1e-3)   # lr: replaced
        optimizer.load_state_dict(data["optimizer"]["state_dict"])
    return model, optimizer, data
