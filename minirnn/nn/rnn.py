"""Recurrent layers RNN, LSTM and GRU: multi-layer, bidirectional, batch_first, lengths or a
per-step mask, and the textbook variants torch lacks (peepholes, Cho's GRU, other activations).

The modules hold parameters, options and caches; each direction of each layer is one call to
the sequence functions of the selected tier (``minirnn.set_impl``): ``minirnn.textbook``, where
the equations are written out, or ``minirnn.functional``, the engine (the default). Both take
the same arguments and compute the same numbers. Stacking works as
in torch: layer k reads the outputs of layer k−1 (both directions concatenated, dropout in
between when training), so its backward hands the input gradient down to layer k−1.

Shapes (batched, time first): x (L, N, H_in), output (L, N, num_directions · H_out),
h_n (num_layers · num_directions, N, H_out), where H_out = proj_size or hidden_size.
"""
import contextlib
import math
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from .. import _config
from .._blas import blas_threads
from ..functional import activations
from ..functional._sequence import mask_from_lengths, seen_mask
from . import _checks
from .layers import _dropout_mask
from .module import Module, Parameter

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}

# Below this many multiply-adds in the per-step product (N·G·H·H_out), the layer runs BLAS on
# one thread: OpenBLAS's threads cost more than they gain on such small products, and they
# stall badly when another process is busy on the same cores (measured in minirnn/_blas.py's
# docstring). Larger layers keep every thread.
_SINGLE_THREAD_BELOW = 2 ** 17


@dataclass
class _LayerCache:
    """One forward pass of a whole stack, for backward."""
    caches: List[list]                 # caches[layer][direction] from the sequence forward
    dropout_masks: List[Optional[np.ndarray]]   # mask applied to each layer's output, or None
    unbatched: bool
    T: int
    N: int
    kernels: object                    # the tier's module: backward runs on the forward's tier


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (see those classes)."""

    mode = None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, *, peephole=False, dtype=None,
                 rng=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = _checks.positive_int(input_size, "input_size")
        self.hidden_size = _checks.positive_int(hidden_size, "hidden_size")
        self.num_layers = _checks.positive_int(num_layers, "num_layers")
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = _checks.probability(dropout, "dropout")
        self.bidirectional = bool(bidirectional)
        if (isinstance(proj_size, bool) or not isinstance(proj_size, (int, np.integer))
                or proj_size < 0):
            raise ValueError(f"expected proj_size to be a non-negative integer, got {proj_size!r}")
        if proj_size and proj_size >= hidden_size:
            raise ValueError(f"expected proj_size < hidden_size ({hidden_size}), got {proj_size}")
        proj_size = self.proj_size = int(proj_size)
        self.dtype = _config.resolve_dtype(dtype)
        self._rng = _config.resolve_rng(rng)
        self.num_directions = 2 if bidirectional else 1
        self.output_size = proj_size or hidden_size       # H_out, the size of h
        G = _GATES[self.mode]
        k = 1.0 / math.sqrt(hidden_size)                   # torch: U(-1/√H, 1/√H) for all
        for layer in range(self.num_layers):
            for suffix in self._suffixes(layer):
                d_in = input_size if layer == 0 else self.output_size * self.num_directions
                shapes = [("weight_ih", (G * hidden_size, d_in)),
                          ("weight_hh", (G * hidden_size, self.output_size))]
                if bias:
                    shapes += [("bias_ih", (G * hidden_size,)), ("bias_hh", (G * hidden_size,))]
                if proj_size:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                if peephole:                               # LSTM only: last, so that the
                    shapes += [(w, (hidden_size,))         # other weights stay as without
                               for w in ("weight_ci", "weight_cf", "weight_co")]
                for pname, shape in shapes:
                    data = self._rng.uniform(-k, k, size=shape).astype(self.dtype)
                    setattr(self, pname + suffix, Parameter(data))
        if dropout and num_layers == 1:
            # torch warns here too: dropout acts only between stacked layers
            import warnings
            warnings.warn(f"{name}: dropout={dropout} has no effect with num_layers=1 "
                          f"(it applies between layers)", stacklevel=2)

    def get_config(self):
        """The constructor arguments as plain data (``type(m)(**m.get_config())`` rebuilds the
        layer); checkpoints record it, so a saved layer says which options it was built with."""
        config = dict(input_size=self.input_size, hidden_size=self.hidden_size,
                      num_layers=self.num_layers, bias=self.bias, batch_first=self.batch_first,
                      dropout=self.dropout, bidirectional=self.bidirectional)
        config.update(self._options())
        config["dtype"] = self.dtype.name
        return config

    def _options(self):
        """The options beyond those every layer has (see ``get_config``)."""
        return {}

    def _suffixes(self, layer):
        return [f"_l{layer}"] + ([f"_l{layer}_reverse"] if self.bidirectional else [])

    def _weights(self, layer, direction):
        """The arrays of one direction of one layer, in functional-argument order."""
        s = self._suffixes(layer)[direction]
        get = lambda n: getattr(self, n + s).data if hasattr(self, n + s) else None
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    def _peephole_weights(self, layer, direction):
        """The LSTM's peephole arrays of one direction as keyword arguments ({} without)."""
        s = self._suffixes(layer)[direction]
        return {key: getattr(self, _PARAM_NAMES[key] + s).data for key in ("w_ci", "w_cf", "w_co")
                if hasattr(self, _PARAM_NAMES[key] + s)}

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for opt in ("batch_first", "bidirectional"):
            if getattr(self, opt):
                s += f", {opt}=True"
        if not self.bias:
            s += ", bias=False"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        return s

    # ---- input handling ------------------------------------------------------------------
    def _prepare_input(self, x, lengths, mask=None):
        """x as (L, N, H_in) in the module's dtype, the unbatched flag and the masks: None, or
        (m, "lengths") with m (L, N, 1) from the lengths, or (m, "steps") from a per-step mask."""
        name = type(self).__name__
        x = _checks.float_array(x, self.dtype, "input", name)
        if x.ndim not in (2, 3):
            raise ValueError(f"{name}: expected input of shape (L, N, {self.input_size}) "
                             f"{'(batch_first: (N, L, H_in)) ' if self.batch_first else ''}"
                             f"or unbatched (L, {self.input_size}), got {x.ndim}-D input of "
                             f"shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input with {self.input_size} features in its last "
                             f"dimension (input_size), got shape {x.shape}")
        unbatched = x.ndim == 2
        if unbatched:
            x = x[:, None, :]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        T, N, _ = x.shape
        if T == 0 or N == 0:
            raise ValueError(f"{name}: expected at least one time step and one sequence, "
                             f"got input of shape {x.shape}")
        if lengths is not None and mask is not None:
            raise ValueError(f"{name}: expected lengths or mask, not both (a mask says "
                             f"everything lengths would)")
        masks = None
        if lengths is not None:
            if unbatched:
                raise ValueError(f"{name}: lengths needs batched input (L, N, H_in)")
            lengths = _checks.lengths_array(lengths, N, T, name)
            if lengths.min() < T:      # all full length: identical to no mask, and faster
                masks = (mask_from_lengths(lengths, T, self.dtype), "lengths")
        elif mask is not None:
            m = self._step_mask(mask, T, N, unbatched)
            if not m.all():            # nothing masked: identical to no mask, and faster
                masks = (m[:, :, None].astype(self.dtype), "steps")
        return _checks.owned(np.ascontiguousarray(x), x), unbatched, masks

    def _step_mask(self, mask, T, N, unbatched):
        """A per-step mask as a (L, N) bool array, after checking its type, shape and values."""
        name = type(self).__name__
        m = _checks.as_array(mask, "mask", name)
        if m.dtype.kind not in "biuf":
            raise TypeError(f"{name}: expected mask to be an array of 0/1 or bool, got dtype "
                            f"{m.dtype}")
        layout = "(L,)" if unbatched else ("(N, L)" if self.batch_first else "(L, N)")
        expected = (T,) if unbatched else ((N, T) if self.batch_first else (T, N))
        if m.shape != expected:
            raise ValueError(f"{name}: expected mask of shape {layout} = {expected}, got "
                             f"{m.shape}")
        if m.dtype.kind != "b" and not np.isin(m, (0, 1)).all():
            bad = m[~np.isin(m, (0, 1))].flat[0]
            raise ValueError(f"{name}: expected mask values 0 or 1 (or bool), got {bad!r}")
        m = m.astype(bool)
        if unbatched:
            return m[:, None]
        return m.T if self.batch_first else m

    def _state(self, h, size, N, unbatched, what):
        """An initial state as (num_layers·num_directions, N, size); None -> zeros."""
        LD = self.num_layers * self.num_directions
        if h is None:
            return np.zeros((LD, N, size), dtype=self.dtype)
        h = _checks.float_array(h, self.dtype, what, type(self).__name__)
        expected = (LD, size) if unbatched else (LD, N, size)
        _checks.shape_is(h, expected, what, type(self).__name__)
        return h[:, None, :] if unbatched else h

    def _output_layout(self, y, unbatched):
        """(L, N, F) -> the caller's layout."""
        if unbatched:
            return y[:, 0, :]
        return y.transpose(1, 0, 2) if self.batch_first else y

    def _grad_output(self, dy, T, N, unbatched):
        """A gradient of the output in the caller's layout -> (L, N, F); None stays None."""
        if dy is None:
            return None
        name = type(self).__name__
        F = self.num_directions * self.output_size
        dy = _checks.float_array(dy, self.dtype, "grad_output", name)
        expected = (T, F) if unbatched else ((N, T, F) if self.batch_first else (T, N, F))
        _checks.shape_is(dy, expected, "grad_output", name)
        if unbatched:
            return dy[:, None, :]
        return dy.transpose(1, 0, 2) if self.batch_first else dy

    def _grad_state(self, g, size, N, unbatched, what):
        """A gradient of a final state, checked like an initial state; None stays None."""
        return None if g is None else self._state(g, size, N, unbatched, what)

    # ---- the stack -------------------------------------------------------------------------
    def _blas_threads(self, N):
        work = N * _GATES[self.mode] * self.hidden_size * self.output_size
        return blas_threads(1) if work < _SINGLE_THREAD_BELOW else contextlib.nullcontext()

    def _run(self, K, x, h0, c0, masks):
        """Every layer and direction forward on tier ``K``. Returns y (L, N, F), h_n, c_n (or
        None), the caches and the dropout masks."""
        T, N, _ = x.shape
        LD = self.num_layers * self.num_directions
        h_n = np.empty((LD, N, self.output_size), dtype=self.dtype)
        c_n = np.empty((LD, N, self.hidden_size), dtype=self.dtype) if c0 is not None else None
        caches, dropout_masks = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outputs, layer_caches = [], []
            for d in range(self.num_directions):
                j = layer * self.num_directions + d
                y, h, c, cache = self._direction_forward(
                    K, layer_input, h0[j], None if c0 is None else c0[j], self._weights(layer, d),
                    self._masks(masks, d == 1), d == 1, self._peephole_weights(layer, d))
                outputs.append(y)
                layer_caches.append(cache)
                h_n[j] = h
                if c_n is not None:
                    c_n[j] = c
            y = outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=2)
            drop = None
            if self.training and self.dropout and layer < self.num_layers - 1:
                drop = _dropout_mask(y.shape, self.dropout, self._rng, self.dtype)
                y = y * drop
            caches.append(layer_caches)
            dropout_masks.append(drop)
            layer_input = y
        if _config.is_grad_enabled() and layer_input.base is not None:
            # a view of the states backward reads: editing the output in place must not
            # silently change the gradients, so the caller gets its own copy
            layer_input = layer_input.copy()
        return layer_input, h_n, c_n, caches, dropout_masks

    @staticmethod
    def _masks(masks, reverse):
        """mask and output_mask keyword arguments for the sequence functions of one direction:
        with lengths, outputs past the end are 0 (s_t = m_t); with a per-step mask, a masked
        step repeats the last output the direction produced, 0 before its first (Keras)."""
        if masks is None:
            return dict(mask=None, output_mask=None)
        m, kind = masks
        return dict(mask=m, output_mask=seen_mask(m, reverse) if kind == "steps" else None)

    def _run_backward(self, K, dy, dh_n, dc_n, caches, dropout_masks, T, N):
        """Every layer and direction backward, last layer first. Returns dx, dh0, dc0."""
        LD = self.num_layers * self.num_directions
        H_out = self.output_size
        dh0 = np.empty((LD, N, H_out), dtype=self.dtype)
        dc0 = np.empty((LD, N, self.hidden_size), dtype=self.dtype) if self.mode == "LSTM" else None
        for layer in reversed(range(self.num_layers)):
            if dy is not None and dropout_masks[layer] is not None:
                dy = dy * dropout_masks[layer]
            dx = None
            for d in range(self.num_directions):
                j = layer * self.num_directions + d
                dy_d = None if dy is None else dy[:, :, d * H_out:(d + 1) * H_out]
                dx_d, dh, dc, grads = self._direction_backward(
                    K, dy_d, None if dh_n is None else dh_n[j],
                    None if dc_n is None else dc_n[j], caches[layer][d])
                suffix = self._suffixes(layer)[d]
                for key, g in grads.items():
                    getattr(self, _PARAM_NAMES[key] + suffix).grad += g
                dh0[j] = dh
                if dc0 is not None:
                    dc0[j] = dc
                dx = dx_d if dx is None else dx + dx_d
            dy = dx
        return dy, dh0, dc0

    # ---- forward / backward of RNN and GRU (LSTM overrides both for its cell state) -------
    def forward(self, x, hx=None, lengths=None, mask=None):
        x, unbatched, masks = self._prepare_input(x, lengths, mask)
        T, N, _ = x.shape
        h0 = self._state(hx, self.output_size, N, unbatched, "hx")
        K = _config.kernels()
        with self._blas_threads(N):
            y, h_n, _, caches, drops = self._run(K, x, h0, None, masks)
        self._push(_LayerCache(caches, drops, unbatched, T, N, K))
        return self._output_layout(y, unbatched), (h_n[:, 0] if unbatched else h_n)

    def backward(self, grad_output, grad_state=None):
        cache = self._peek()
        T = cache.T
        dy = self._grad_output(grad_output, T, cache.N, cache.unbatched)
        dh_n = self._grad_state(grad_state, self.output_size, cache.N, cache.unbatched,
                                "grad_state")
        self._pop()
        with self._blas_threads(cache.N):
            dx, dh0, _ = self._run_backward(cache.kernels, dy, dh_n, None, cache.caches,
                                            cache.dropout_masks, T, cache.N)
        if cache.unbatched:
            return dx[:, 0], dh0[:, 0]
        return (dx.transpose(1, 0, 2) if self.batch_first else dx), dh0


# the Parameter behind each gradient key of the sequence backward passes (cells use it too)
_PARAM_NAMES = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih",
                "b_hh": "bias_hh", "W_hr": "weight_hr", "w_ci": "weight_ci", "w_cf": "weight_cf",
                "w_co": "weight_co"}


class RNN(RNNBase):
    """Elman RNN (SRN), as torch.nn.RNN: h_t = φ(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh).

    Equations and backward: ``minirnn/textbook/rnn.py``. φ is ``nonlinearity`` ('tanh',
    'relu', 'sigmoid', 'hard_sigmoid' or 'identity'). Parameters per layer k (suffix
    ``_reverse`` for the backward direction): weight_ih_l{k} (H, H_in or num_directions·H),
    weight_hh_l{k} (H, H), bias_ih_l{k} (H,), bias_hh_l{k} (H,), all from U(−1/√H, 1/√H).

    ``output, h_n = rnn(x, hx=None, lengths=None, mask=None)``;
    ``grad_x, grad_hx = rnn.backward(grad_output, grad_state=None)``.
    """

    mode = "RNN"

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, *, dtype=None, rng=None):
        activations.check_name(nonlinearity, activations.RNN_NONLINEARITIES, "nonlinearity",
                               type(self).__name__)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype, rng=rng)
        self.nonlinearity = nonlinearity

    def extra_repr(self):
        s = super().extra_repr()
        return s + ("" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}")

    def _options(self):
        return {"nonlinearity": self.nonlinearity}

    def _direction_forward(self, K, x, h0, c0, weights, masks, reverse, peepholes):
        W_ih, W_hh, b_ih, b_hh, _ = weights
        y, h, cache = K.rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh, self.nonlinearity,
                                    reverse=reverse, keep_cache=_config.is_grad_enabled(),
                                    **masks)
        return y, h, None, cache

    def _direction_backward(self, K, dy, dh_n, dc_n, cache):
        dx, dh0, grads = K.rnn_backward(dy, dh_n, cache)
        return dx, dh0, None, grads

class GRU(RNNBase):
    """Gated recurrent unit, as torch.nn.GRU (reset gate applied after W_hn h: see
    ``minirnn/textbook/gru.py`` for the equations and the backward).

    Parameters per layer k: weight_ih_l{k} (3H, H_in), weight_hh_l{k} (3H, H), bias_ih_l{k}
    (3H,), bias_hh_l{k} (3H,), gate rows in order r | z | n, drawn from U(−1/√H, 1/√H).
    ``reset_after=False`` gives Cho et al.'s n = φ(x W_inᵀ + b_in + (r ⊙ h) W_hnᵀ + b_hn), with
    the same parameters. ``gate_activation`` (see ``GATE_ACTIVATIONS`` in
    minirnn/functional/activations.py) acts on r and z, ``cell_activation`` on n.
    Same call and backward signatures as ``RNN``.
    """

    mode = "GRU"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, reset_after=True,
                 gate_activation="sigmoid", cell_activation="tanh", dtype=None, rng=None):
        name = type(self).__name__
        options = _gated_options(name, gate_activation, cell_activation)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype, rng=rng)
        self.reset_after = _checks.flag(reset_after, "reset_after", name)
        self.gate_activation, self.cell_activation = options

    def extra_repr(self):
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False") + \
            _activation_repr(self)

    def _options(self):
        return {"reset_after": self.reset_after, "gate_activation": self.gate_activation,
                "cell_activation": self.cell_activation}

    def _direction_forward(self, K, x, h0, c0, weights, masks, reverse, peepholes):
        W_ih, W_hh, b_ih, b_hh, _ = weights
        y, h, cache = K.gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh,
                                    gate_activation=self.gate_activation,
                                    cell_activation=self.cell_activation,
                                    reset_after=self.reset_after, reverse=reverse,
                                    keep_cache=_config.is_grad_enabled(), **masks)
        return y, h, None, cache

    def _direction_backward(self, K, dy, dh_n, dc_n, cache):
        dx, dh0, grads = K.gru_backward(dy, dh_n, cache)
        return dx, dh0, None, grads


class LSTM(RNNBase):
    """Long short-term memory, as torch.nn.LSTM (equations and backward:
    ``minirnn/textbook/lstm.py``).

    Parameters per layer k: weight_ih_l{k} (4H, H_in), weight_hh_l{k} (4H, H_out),
    bias_ih_l{k} (4H,), bias_hh_l{k} (4H,), and with proj_size > 0 weight_hr_l{k}
    (proj_size, H), and with peephole=True weight_ci_l{k}, weight_cf_l{k}, weight_co_l{k} (H,)
    (i and f see c_{t−1}, o sees c_t); gate rows in order i | f | g | o, all drawn from
    U(−1/√H, 1/√H). ``gate_activation`` (see ``GATE_ACTIVATIONS`` in
    minirnn/functional/activations.py) acts on i, f, o and ``cell_activation``
    (``CELL_ACTIVATIONS``) on g and on c in h = o ⊙ act(c).

    ``output, (h_n, c_n) = lstm(x, (h0, c0), lengths=None, mask=None)``;
    ``grad_x, (grad_h0, grad_c0) = lstm.backward(grad_output, (grad_h_n, grad_c_n))``.
    After a forward, ``last_gates`` holds the gates for inspection (see its docstring).
    """

    mode = "LSTM"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, *, peephole=False,
                 gate_activation="sigmoid", cell_activation="tanh", dtype=None, rng=None):
        name = type(self).__name__
        options = _gated_options(name, gate_activation, cell_activation)
        peephole = _checks.flag(peephole, "peephole", name)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, peephole=peephole, dtype=dtype, rng=rng)
        self.peephole = peephole
        self.gate_activation, self.cell_activation = options
        self._last = None

    def extra_repr(self):
        return super().extra_repr() + (", peephole=True" if self.peephole else "") + \
            _activation_repr(self)

    def _options(self):
        return {"proj_size": self.proj_size, "peephole": self.peephole,
                "gate_activation": self.gate_activation, "cell_activation": self.cell_activation}

    def _direction_forward(self, K, x, h0, c0, weights, masks, reverse, peepholes):
        return K.lstm_forward(x, h0, c0, *weights, gate_activation=self.gate_activation,
                              cell_activation=self.cell_activation, reverse=reverse,
                              keep_cache=_config.is_grad_enabled(), **peepholes, **masks)

    def _direction_backward(self, K, dy, dh_n, dc_n, cache):
        return K.lstm_backward(dy, dh_n, dc_n, cache)

    def forward(self, x, hx=None, lengths=None, mask=None):
        name = type(self).__name__
        x, unbatched, masks = self._prepare_input(x, lengths, mask)
        T, N, _ = x.shape
        if hx is None:
            h0 = c0 = None
        elif not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise ValueError(f"{name}: expected hx to be a tuple (h0, c0) of two arrays, got "
                             f"{type(hx).__name__}")
        else:
            h0, c0 = hx
            if h0 is None or c0 is None:
                raise ValueError(f"{name}: expected hx = (h0, c0) with both arrays, got "
                                 f"{'h0' if h0 is None else 'c0'} = None")
        h0 = self._state(h0, self.output_size, N, unbatched, "h0")
        c0 = self._state(c0, self.hidden_size, N, unbatched, "c0")
        K = _config.kernels()
        with self._blas_threads(N):
            y, h_n, c_n, caches, drops = self._run(K, x, h0, c0, masks)
        self._last = (caches, unbatched, K) if _config.is_grad_enabled() else "no_grad"
        self._push(_LayerCache(caches, drops, unbatched, T, N, K))
        if unbatched:
            h_n, c_n = h_n[:, 0], c_n[:, 0]
        return self._output_layout(y, unbatched), (h_n, c_n)

    def backward(self, grad_output, grad_state=None):
        name = type(self).__name__
        cache = self._peek()
        T = cache.T
        dh_n = dc_n = None
        if grad_state is not None:
            if not (isinstance(grad_state, (tuple, list)) and len(grad_state) == 2):
                raise ValueError(f"{name}.backward: expected grad_state to be a tuple "
                                 f"(grad_h_n, grad_c_n) (either may be None), got "
                                 f"{type(grad_state).__name__}")
            dh_n, dc_n = grad_state
        dy = self._grad_output(grad_output, T, cache.N, cache.unbatched)
        dh_n = self._grad_state(dh_n, self.output_size, cache.N, cache.unbatched, "grad_h_n")
        dc_n = self._grad_state(dc_n, self.hidden_size, cache.N, cache.unbatched, "grad_c_n")
        self._pop()
        with self._blas_threads(cache.N):
            dx, dh0, dc0 = self._run_backward(cache.kernels, dy, dh_n, dc_n, cache.caches,
                                              cache.dropout_masks, T, cache.N)
        if cache.unbatched:
            return dx[:, 0], (dh0[:, 0], dc0[:, 0])
        return (dx.transpose(1, 0, 2) if self.batch_first else dx), (dh0, dc0)

    @property
    def last_gates(self):
        """The gates of the most recent forward, for inspection.

        A dict of arrays ``i, f, g, o`` (after their activations) and ``c`` (the cell state
        c_t), each (num_layers·num_directions, L, N, H), or (num_layers·num_directions, L, H)
        for unbatched input. The first axis is ordered like h_n; the time axis is in input
        order for both directions.
        """
        if self._last is None:
            raise RuntimeError("LSTM.last_gates: run a forward pass first")
        if self._last == "no_grad":
            raise RuntimeError("LSTM.last_gates: the last forward ran under no_grad, which "
                               "keeps no gates; run it with gradients enabled to inspect them")
        caches, unbatched, K = self._last
        per_direction = [K.lstm_gates(c) for layer in caches for c in layer]
        out = {k: np.stack([g[k] for g in per_direction]) for k in ("i", "f", "g", "o", "c")}
        if unbatched:
            out = {k: v[:, :, 0] for k, v in out.items()}
        return out


def _gated_options(owner, gate_activation, cell_activation):
    """The checked activation names of an LSTM or GRU (layer or cell); errors name ``owner``."""
    return (activations.check_name(gate_activation, activations.GATE_ACTIVATIONS,
                                   "gate_activation", owner),
            activations.check_name(cell_activation, activations.CELL_ACTIVATIONS,
                                   "cell_activation", owner))


def _activation_repr(module):
    s = ""
    if module.gate_activation != "sigmoid":
        s += f", gate_activation={module.gate_activation!r}"
    if module.cell_activation != "tanh":
        s += f", cell_activation={module.cell_activation!r}"
    return s
