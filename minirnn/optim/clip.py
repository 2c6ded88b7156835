"""Gradient clipping by the global norm of all gradients, as torch.nn.utils.clip_grad_norm_
(and element-wise, as clip_grad_value_, at the end).

  (1) ‖g‖ = ‖(‖g₁‖, ‖g₂‖, ...)‖                the p-norm of the per-parameter p-norms, which
                                              is the p-norm of all gradients as one vector
  (2) c = min(max_norm / (‖g‖ + 10⁻⁶), 1)     never scales gradients up
  (3) gᵢ = c gᵢ                               for every parameter, in place
(1) is computed in float64 as m · ‖g / m‖ with m = max |g|, so no power overflows: float32
gradients of 1e20 have a finite norm (their squares, 1e40, do not fit in float32), and so do
float64 gradients of 1e200. A non-finite gradient is not an error (torch's default
error_if_nonfinite=False): an infinite norm gives c = 0, a NaN norm gives c = NaN, and the
gradients follow from (3) as they do in torch (Optimizer.step then refuses them).
"""
import math
import numbers

import numpy as np

from ..nn import _checks
from ..nn.module import Parameter
from .optimizer import check_grad

_WHERE = "clip_grad_norm_"


def _norm_type(norm_type):
    """p as a float: a number >= 1 (below 1 the p-"norm" is no norm), or float('inf')."""
    expected = ("expected norm_type to be a number >= 1, or float('inf') for the largest "
                "absolute value")
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
        raise TypeError(f"{_WHERE}: {expected}, got {norm_type!r} ({type(norm_type).__name__})")
    if not norm_type >= 1:                                              # NaN too
        raise ValueError(f"{_WHERE}: {expected}, got {norm_type!r}")
    return float(norm_type)


def total_norm(grads, norm_type=2.0):
    """(1): the p-norm of all arrays in ``grads`` as one vector, a Python float, computed
    without overflow (NaN if any value is NaN, inf if any is infinite)."""
    m = np.max([np.max(np.abs(g), initial=0.0) for g in grads], initial=0.0)
    m = float(m)
    if norm_type == math.inf or not (math.isfinite(m) and m > 0):
        return m
    total = 0.0
    for g in grads:
        a = np.abs(g.ravel(), dtype=np.float64) / m       # every |a| <= 1: no overflow
        total += float(a @ a) if norm_type == 2 else float(np.sum(a ** norm_type))
    return m * total ** (1 / norm_type)


def _parameters(params, where):
    """``params`` (a Parameter or an iterable of them) as a list, each one checked."""
    if isinstance(params, Parameter):
        params = [params]
    if not hasattr(params, "__iter__"):
        raise TypeError(f"{where}: expected a Parameter or an iterable of Parameters, got "
                        f"{type(params).__name__}")
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"{where}: expected Parameters, got {type(p).__name__} at "
                            f"position {i}")
    return params


def clip_grad_value_(params, clip_value):
    """Clip every entry of every ``.grad`` of ``params`` into [−clip_value, clip_value], in
    place, as torch.nn.utils.clip_grad_value_ (and min-char-rnn's ``np.clip(d, -5, 5)``).

    Unlike ``clip_grad_norm_`` this changes the gradient's direction: large entries are cut,
    small ones kept (see docs/training-rnns.md). clip_value: a finite number > 0. NaN
    entries stay NaN, as in torch. Returns None. Everything is checked before any change.
    """
    where = "clip_grad_value_"
    params = _parameters(params, where)
    clip_value = _checks.real(clip_value, "clip_value", where, low=0, low_open=True)
    grads = [check_grad(p, i, where) for i, p in enumerate(params)]
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)


def clip_grad_norm_(params, max_norm, norm_type=2.0):
    """Scale the ``.grad`` of ``params`` in place so that their total norm is at most ``max_norm``.

    params : a Parameter or an iterable of Parameters
    max_norm : a finite number > 0 (0 would zero every gradient, a negative one turn descent
        into ascent: both are refused with a ValueError, as is NaN or inf)
    norm_type : p of the p-norm, a number >= 1; float('inf') for the largest absolute value
    Returns the total norm before clipping, as a Python float (0.0 for no parameters).
    Everything is checked before any gradient changes.
    """
    params = _parameters(params, _WHERE)
    max_norm = _checks.real(max_norm, "max_norm", _WHERE, low=0, low_open=True)
    norm_type = _norm_type(norm_type)
    grads = [check_grad(p, i, _WHERE) for i, p in enumerate(params)]
    if not grads:
        return 0.0
    norm = total_norm(grads, norm_type)                                 # (1)
    clip_coef = np.minimum(max_norm / (norm + 1e-6), 1.0)               # (2), NaN stays NaN
    with np.errstate(invalid="ignore"):  # inf * 0 -> NaN, as torch, without a warning
        for g in grads:
            g *= clip_coef                                              # (3)
    return norm
