"""Linear, Embedding and Dropout, as torch.

Each backward is short enough to sit next to its forward:
  Linear     y = x Wᵀ + b            dx = dy W;  dW += dyᵀ x;  db += Σ dy
  Embedding  y = W[ids]              dW[ids] += dy   (repeated ids add up; padding_idx gets 0)
  Dropout    y = x ⊙ m / (1 − p)     dx = dy ⊙ m / (1 − p)   (the same mask m as the forward)
"""
import math
from collections import namedtuple

import numpy as np

from .. import _config
from ..functional._sequence import weight_grad
from . import _checks
from .module import Module, Parameter


def _dropout_mask(shape, p, rng, dtype):
    """Zero with probability p, scale the rest by 1/(1−p) (all zero when p = 1), as torch.
    (Dropout and the dropout between stacked recurrent layers both draw their masks here.)"""
    if p >= 1:
        return np.zeros(shape, dtype=dtype)
    return (rng.random(shape) >= p).astype(dtype) / dtype.type(1 - p)


def _rows(a):
    """(..., F) -> (rows, F): every leading index as one row (a copy only if ``a`` is a
    non-contiguous view)."""
    return a.reshape(-1, a.shape[-1])


class Linear(Module):
    """y = x Wᵀ + b over the last axis: x (..., in_features) -> y (..., out_features).

    weight (out_features, in_features) and bias (out_features,) drawn from
    U(−1/√in_features, 1/√in_features), as torch's default.
    """

    def __init__(self, in_features, out_features, bias=True, *, dtype=None, rng=None):
        super().__init__()
        self.in_features = _checks.positive_int(in_features, "in_features")
        self.out_features = _checks.positive_int(out_features, "out_features")
        self.dtype = _config.resolve_dtype(dtype)
        rng = _config.resolve_rng(rng)
        k = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(rng.uniform(-k, k, (out_features, in_features)).astype(self.dtype))
        if bias:
            self.bias = Parameter(rng.uniform(-k, k, (out_features,)).astype(self.dtype))
        else:
            self.bias = None

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}"
                + ("" if self.bias is not None else ", bias=False"))

    def forward(self, x):
        x = _checks.float_array(x, self.dtype, "input", "Linear")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected input of shape (..., {self.in_features}), "
                             f"got {x.shape}")
        # one (rows, in) @ (in, out) product over all leading axes: NumPy runs a 3-d @ 2-d
        # product as one small product per leading index, about 3x slower
        y = _rows(x) @ self.weight.data.T
        if self.bias is not None:
            y += self.bias.data
        self._push(_checks.owned(x))    # x may be the caller's array: edits must not reach dW
        return y.reshape(x.shape[:-1] + (self.out_features,))

    def backward(self, grad):
        x = self._peek()
        dy = _checks.float_array(grad, self.dtype, "grad", "Linear")
        _checks.shape_is(dy, x.shape[:-1] + (self.out_features,), "grad", "Linear")
        self._pop()
        dy2 = _rows(dy)
        self.weight.grad += weight_grad(dy, x)                  # Σ over all leading axes
        if self.bias is not None:
            self.bias.grad += dy2.sum(axis=0)
        return (dy2 @ self.weight.data).reshape(x.shape)


class Embedding(Module):
    """A lookup table: integer ids of any shape -> vectors, y = weight[ids] (..., dim).

    weight (num_embeddings, embedding_dim) drawn from N(0, 1), as torch; with padding_idx that
    row starts at zero and never receives a gradient. backward returns None (ids have no
    gradient) and adds into weight.grad.
    ids need an integer dtype: floats are a TypeError, whole ones like 2.0 too (a float array
    of ids is a bug upstream more often than not; ``ids.astype(int)`` says it is not), and
    so is a float padding_idx.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, *, dtype=None, rng=None):
        super().__init__()
        self.num_embeddings = _checks.positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = _checks.positive_int(embedding_dim, "embedding_dim")
        if padding_idx is not None:
            padding_idx = _checks.integer(padding_idx, "padding_idx (or None)", "Embedding")
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"expected padding_idx in [-{num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.dtype = _config.resolve_dtype(dtype)
        rng = _config.resolve_rng(rng)
        w = rng.standard_normal((num_embeddings, embedding_dim)).astype(self.dtype)
        if padding_idx is not None:
            w[padding_idx] = 0
        self.weight = Parameter(w)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"

    def forward(self, ids):
        ids = _checks.int_array(ids, "ids", "Embedding")
        _checks.in_range(ids, self.num_embeddings, "ids", "Embedding")
        self._push(_checks.owned(ids))  # ids may be the caller's array: edits must not reach dW
        return self.weight.data[ids]

    def backward(self, grad):
        ids = self._peek()
        dy = _checks.float_array(grad, self.dtype, "grad", "Embedding")
        _checks.shape_is(dy, ids.shape + (self.embedding_dim,), "grad", "Embedding")
        self._pop()
        ids, dy = ids.reshape(-1), dy.reshape(-1, self.embedding_dim)
        if self.padding_idx is not None:
            keep = ids != self.padding_idx
            ids, dy = ids[keep], dy[keep]
        # repeated ids accumulate: np.add.at(weight.grad, ids, dy) says it in one line; the
        # same sums come 3x faster from sorting the ids and summing each run of equal ids
        order = np.argsort(ids, kind="stable")
        ids, dy = ids[order], dy[order]
        starts = np.flatnonzero(np.diff(ids, prepend=-1))  # where each run of an id begins
        if starts.size:
            self.weight.grad[ids[starts]] += np.add.reduceat(dy, starts, axis=0)
        return None


_DropoutCache = namedtuple("_DropoutCache", "mask shape dtype")   # mask None: the identity


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1 − p), so
    the expected value is unchanged; in eval mode, the identity. Masks come from ``rng``.
    backward checks the gradient's shape in every mode (p = 0 and eval included)."""

    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        self.p = _checks.probability(p, "p")
        self._rng = _config.resolve_rng(rng)

    def extra_repr(self):
        return f"p={self.p}"

    def forward(self, x):
        x = _checks.float_array(x, None, "input", "Dropout")
        mask = None
        if self.training and self.p != 0:
            mask = _dropout_mask(x.shape, self.p, self._rng, x.dtype)
        self._push(_DropoutCache(mask, x.shape, x.dtype))
        return x if mask is None else x * mask

    def backward(self, grad):
        cache = self._peek()
        grad = _checks.float_array(grad, cache.dtype, "grad", "Dropout.backward")
        _checks.shape_is(grad, cache.shape, "grad", "Dropout.backward")
        self._pop()
        return grad if cache.mask is None else grad * cache.mask
