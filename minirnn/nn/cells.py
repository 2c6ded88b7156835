"""Single-step cells RNNCell, LSTMCell and GRUCell, as torch.

A cell is one time step of the matching layer, so it runs the same sequence function of the
selected tier (``minirnn.textbook`` or the engine ``minirnn.functional``, see
``minirnn.set_impl``) on a sequence of length 1: there is one copy of each cell's math.
Each call pushes a cache and each backward pops one, so a cell called T times in a loop is
back-propagated by T backward calls in reverse order -- BPTT written out by hand:

    for t in range(T):            h = cell(x[t], h)
    for t in reversed(range(T)):  dx[t], dh = cell.backward(dy[t] + dh)

Shapes: x (N, H_in) or unbatched (H_in,); h and c (N, H) or (H,).
"""
import math

import numpy as np

from .. import _config
from ..functional import activations
from . import _checks
from .module import Module, Parameter
from .rnn import _PARAM_NAMES, _activation_repr, _gated_options


class _CellBase(Module):
    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, *, extra=(), dtype=None, rng=None):
        super().__init__()
        self.input_size = _checks.positive_int(input_size, "input_size")
        self.hidden_size = _checks.positive_int(hidden_size, "hidden_size")
        self.bias = bool(bias)
        self.dtype = _config.resolve_dtype(dtype)
        rng = _config.resolve_rng(rng)
        G, H, k = self.gates, hidden_size, 1.0 / math.sqrt(hidden_size)
        shapes = [("weight_ih", (G * H, input_size)), ("weight_hh", (G * H, H))]
        if bias:
            shapes += [("bias_ih", (G * H,)), ("bias_hh", (G * H,))]
        shapes += [(name, (H,)) for name in extra]         # the LSTM's peepholes, last
        for name, shape in shapes:
            setattr(self, name, Parameter(rng.uniform(-k, k, size=shape).astype(self.dtype)))

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _weights(self):
        b = (self.bias_ih.data, self.bias_hh.data) if self.bias else (None, None)
        return (self.weight_ih.data, self.weight_hh.data) + b

    def _input(self, x):
        """x as a (1, N, H_in) sequence of one step, and whether it was unbatched."""
        name = type(self).__name__
        x = _checks.float_array(x, self.dtype, "input", name)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (N, {self.input_size}) or "
                             f"({self.input_size},), got {x.shape}")
        unbatched = x.ndim == 1
        if not unbatched and x.shape[0] == 0:
            raise ValueError(f"{name}: expected a batch of at least one sequence, got input of "
                             f"shape {x.shape}")
        return _checks.owned(x[None, None] if unbatched else x[None], x), unbatched

    def _hidden(self, h, N, unbatched, what):
        """A state as (N, H); None -> zeros."""
        if h is None:
            return np.zeros((N, self.hidden_size), dtype=self.dtype)
        h = _checks.float_array(h, self.dtype, what, type(self).__name__)
        expected = (self.hidden_size,) if unbatched else (N, self.hidden_size)
        _checks.shape_is(h, expected, what, type(self).__name__)
        return h[None] if unbatched else h

    def _grad(self, g, N, unbatched, what):
        return None if g is None else self._hidden(g, N, unbatched, what)

    def _add_grads(self, grads):
        for key, g in grads.items():
            getattr(self, _PARAM_NAMES[key]).grad += g

    @staticmethod
    def _out(a, unbatched):
        return a[0] if unbatched else a


class _HiddenStateCell(_CellBase):
    """A cell whose whole state is h (RNNCell, GRUCell): one forward, one backward."""

    def _step_forward(self, K, x, h0):
        raise NotImplementedError

    def _step_backward(self, K, dh1, cache):
        raise NotImplementedError

    def forward(self, x, h0=None):
        x, unbatched = self._input(x)
        N = x.shape[1]
        h0 = self._hidden(h0, N, unbatched, "h0")
        K = _config.kernels()
        h1, cache = self._step_forward(K, x, h0)
        self._push((cache, unbatched, N, K))
        return self._out(_checks.owned(h1), unbatched)

    def backward(self, grad_h1):
        cache, unbatched, N, K = self._peek()
        dh1 = self._grad(grad_h1, N, unbatched, "grad_h1")
        self._pop()
        dx, dh0, grads = self._step_backward(K, dh1, cache)
        self._add_grads(grads)
        return self._out(dx[0], unbatched), self._out(dh0, unbatched)


class RNNCell(_HiddenStateCell):
    """One SRN step: h1 = φ(x W_ihᵀ + b_ih + h0 W_hhᵀ + b_hh), φ = tanh (or relu, sigmoid,
    hard_sigmoid, identity).

    ``h1 = cell(x, h0=None)``; ``grad_x, grad_h0 = cell.backward(grad_h1)``.
    Equations: ``minirnn/textbook/rnn.py``.
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", *,
                 dtype=None, rng=None):
        activations.check_name(nonlinearity, activations.RNN_NONLINEARITIES, "nonlinearity",
                               type(self).__name__)
        super().__init__(input_size, hidden_size, bias, dtype=dtype, rng=rng)
        self.nonlinearity = nonlinearity

    def _step_forward(self, K, x, h0):
        _, h1, cache = K.rnn_forward(x, h0, *self._weights(), self.nonlinearity)
        return h1, cache

    def _step_backward(self, K, dh1, cache):
        return K.rnn_backward(None, dh1, cache)


class GRUCell(_HiddenStateCell):
    """One GRU step in torch's form, or Cho et al.'s with ``reset_after=False`` (equations:
    ``minirnn/textbook/gru.py``); gate rows r | z | n; ``gate_activation`` on r and z,
    ``cell_activation`` on n. ``h1 = cell(x, h0=None)``;
    ``grad_x, grad_h0 = cell.backward(grad_h1)``.
    """

    gates = 3

    def __init__(self, input_size, hidden_size, bias=True, *, reset_after=True,
                 gate_activation="sigmoid", cell_activation="tanh", dtype=None, rng=None):
        name = type(self).__name__
        options = _gated_options(name, gate_activation, cell_activation)
        super().__init__(input_size, hidden_size, bias, dtype=dtype, rng=rng)
        self.reset_after = _checks.flag(reset_after, "reset_after", name)
        self.gate_activation, self.cell_activation = options

    def extra_repr(self):
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False") + \
            _activation_repr(self)

    def _step_forward(self, K, x, h0):
        _, h1, cache = K.gru_forward(x, h0, *self._weights(), reset_after=self.reset_after,
                                     gate_activation=self.gate_activation,
                                     cell_activation=self.cell_activation)
        return h1, cache

    def _step_backward(self, K, dh1, cache):
        return K.gru_backward(None, dh1, cache)


class LSTMCell(_CellBase):
    """One LSTM step (equations: ``minirnn/textbook/lstm.py``); gate rows i | f | g | o;
    with ``peephole=True`` also weight_ci, weight_cf, weight_co (H,).

    ``h1, c1 = cell(x, (h0, c0))`` (hx=None for zeros);
    ``grad_x, (grad_h0, grad_c0) = cell.backward((grad_h1, grad_c1))`` (either may be None).
    """

    gates = 4

    def __init__(self, input_size, hidden_size, bias=True, *, peephole=False,
                 gate_activation="sigmoid", cell_activation="tanh", dtype=None, rng=None):
        name = type(self).__name__
        options = _gated_options(name, gate_activation, cell_activation)
        peephole = _checks.flag(peephole, "peephole", name)
        super().__init__(input_size, hidden_size, bias, dtype=dtype, rng=rng,
                         extra=("weight_ci", "weight_cf", "weight_co") if peephole else ())
        self.peephole = peephole
        self.gate_activation, self.cell_activation = options

    def extra_repr(self):
        return super().extra_repr() + (", peephole=True" if self.peephole else "") + \
            _activation_repr(self)

    def _peepholes(self):
        if not self.peephole:
            return {}
        return dict(w_ci=self.weight_ci.data, w_cf=self.weight_cf.data, w_co=self.weight_co.data)

    def forward(self, x, hx=None):
        x, unbatched = self._input(x)
        N = x.shape[1]
        h0 = c0 = None
        if hx is not None:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise ValueError(f"LSTMCell: expected hx to be a tuple (h0, c0), got "
                                 f"{type(hx).__name__}")
            h0, c0 = hx
            if h0 is None or c0 is None:
                raise ValueError("LSTMCell: expected hx = (h0, c0) with both arrays, got "
                                 f"{'h0' if h0 is None else 'c0'} = None")
        h0 = self._hidden(h0, N, unbatched, "h0")
        c0 = self._hidden(c0, N, unbatched, "c0")
        K = _config.kernels()
        _, h1, c1, cache = K.lstm_forward(x, h0, c0, *self._weights(),
                                          gate_activation=self.gate_activation,
                                          cell_activation=self.cell_activation,
                                          **self._peepholes())
        self._push((cache, unbatched, N, K))
        h1, c1 = _checks.owned(h1), _checks.owned(c1)   # the caches hold them: the caller's own
        return self._out(h1, unbatched), self._out(c1, unbatched)

    def backward(self, grads):
        cache, unbatched, N, K = self._peek()
        if not (isinstance(grads, (tuple, list)) and len(grads) == 2):
            raise ValueError("LSTMCell.backward: expected a tuple (grad_h1, grad_c1), either "
                             f"may be None; got {type(grads).__name__}")
        dh1 = self._grad(grads[0], N, unbatched, "grad_h1")
        dc1 = self._grad(grads[1], N, unbatched, "grad_c1")
        self._pop()
        dx, dh0, dc0, pgrads = K.lstm_backward(None, dh1, dc1, cache)
        self._add_grads(pgrads)
        return self._out(dx[0], unbatched), (self._out(dh0, unbatched),
                                             self._out(dc0, unbatched))

    def _backward_from_output_grads(self, grads):
        return self.backward(grads)
