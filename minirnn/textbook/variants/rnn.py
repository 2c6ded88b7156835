"""The SRN with every option: the core (minirnn/textbook/rnn.py) plus these.

Read the core first: its step, equations (1) (2) and (2') (1'), is what runs here for the
standard cell (tanh, with biases). This file adds, each with its own equations:
  * (A1) φ, the nonlinearity: tanh, relu, sigmoid, hard_sigmoid or identity
    (activations.py): (2) becomes h_t = φ(a), and (2') da = dh ⊙ φ'(a), φ' from h_t
  * (B1) bias=False: (1) without b_ih and b_hh (b = 0), and no bias gradients
  * (M1) masks and lengths: the sequence loop of (3) keeps h at the steps where m_t = 0
  * the reverse direction: the same loop over t = T..1 (a bidirectional layer's second half)

Notation as in the core; m_t (N, 1) is 0 at the steps a sequence skips (with lengths: the
steps after its end), 1 elsewhere.

Forward, one step (t = 1..T, or T..1 for the reverse direction of a bidirectional layer):
  (1) a_t = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh          (N, H)
  (2) h_t = φ(a_t)                                            (N, H)
  (M1) with a mask: h_t ← m_t ⊙ h_t + (1 − m_t) ⊙ h_{t-1};  y_t = s_t ⊙ h_t, where
       s_t = m_t (lengths: outputs past the end are 0) or s_t = 1 from the first step with
       m_t = 1 on (a per-step mask: the kept h repeats the last unmasked output, 0 before the
       first)

Backward. dy_t comes from above; dh_next is the gradient flowing back into h_t from step t+1
(it starts as the gradient of h_n):
  (M1') dh = m_t ⊙ (s_t ⊙ dy_t + dh_next);  (1 − m_t) ⊙ (s_t ⊙ dy_t + dh_next) skips
       the step
  (2') da_t = dh ⊙ φ'(a_t)                    φ' from the output: tanh' = 1 − h², relu' = [h > 0]
  (1') dx_t = da_t W_ih;  dh_next ← da_t W_hh  (the gradient carried to step t−1)
       dW_ih = Σ_t da_tᵀ x_t;  dW_hh = Σ_t da_tᵀ h_{t-1};  db_ih = db_hh = Σ_t Σ_n da_t

The engine, minirnn/functional/rnn.py, computes the same numbers, arranged another way;
tests/test_tiers.py checks that they agree.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import activations as act
from .. import rnn as core


@dataclass
class RNNStepCache:
    """What rnn_step_backward needs from one rnn_step_forward (arrays kept, not copied)."""
    x: np.ndarray                 # (N, D) x_t
    h_prev: np.ndarray            # (N, H) h_{t-1}
    h: np.ndarray                 # (N, H) h_t = φ(a_t) (A1)
    W_ih: np.ndarray              # (H, D)
    W_hh: np.ndarray              # (H, H)
    has_bias: bool
    nonlinearity: str


def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh, nonlinearity="tanh"):
    """One SRN step, equations (1) and (2), with (A1) and (B1).

    x (N, D), h_prev (N, H), W_ih (H, D), W_hh (H, H), b_ih (H,) and b_hh (H,) or both None;
    nonlinearity "tanh", "relu", "sigmoid", "hard_sigmoid" or "identity".
    Returns h (N, H) and a step cache for ``rnn_step_backward``. The standard cell (tanh,
    with biases) is the core's own step.
    """
    phi = act.function(nonlinearity, "nonlinearity")
    if nonlinearity == "tanh" and b_ih is not None:
        return core.rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    b = 0 if b_ih is None else b_ih + b_hh                 # (1), (B1) without biases b = 0
    a = x @ W_ih.T + b + h_prev @ W_hh.T                   # (1)
    h = phi(a)                                             # (2) (A1)
    return h, RNNStepCache(x, h_prev, h, W_ih, W_hh, b_ih is not None, nonlinearity)


def rnn_step_backward(dh, cache):
    """Backward through one SRN step, equations (2') and (1').

    dh (N, H): the whole gradient of the loss with respect to this step's h.
    Returns dx (N, D), dh_prev (N, H) and grads, a dict of this step's parameter gradients:
    W_ih (H, D), W_hh (H, H), and b_ih (H,), b_hh (H,) when the step had biases.
    """
    if isinstance(cache, core.RNNStepCache):                # the standard cell: the core's
        return core.rnn_step_backward(dh, cache)
    da = dh * act.derivative(cache.nonlinearity)(cache.h)   # (2') (A1)
    dx = da @ cache.W_ih                                   # (1')
    dh_prev = da @ cache.W_hh                              # (1')
    grads = {"W_ih": da.T @ cache.x, "W_hh": da.T @ cache.h_prev}     # (1')
    if cache.has_bias:
        grads["b_ih"], grads["b_hh"] = da.sum(axis=0), da.sum(axis=0)  # (1')
    return dx, dh_prev, grads


@dataclass
class SequenceCache:
    """What a sequence backward needs from its forward; the same for every cell."""
    steps: list                   # the step caches; steps[t] is the one of the step that read x[t]
    order: range                  # the t in the order the forward ran them
    weights: dict                 # the parameters given (not None), by their grads key
    mask: Optional[np.ndarray]    # (T, N, 1) m_t of 0/1, or None when no step is skipped
    output_mask: Optional[np.ndarray] = None    # (T, N, 1) s_t of (M1), or None (no mask)


def masked_output(dy, cache, t):
    """s_t ⊙ dy_t: the part of the output gradient that reaches h_t (all of it without a mask)."""
    return dy[t] if cache.output_mask is None else cache.output_mask[t] * dy[t]


def rnn_forward(x, h0, W_ih, W_hh, b_ih=None, b_hh=None, nonlinearity="tanh",
                mask=None, reverse=False, *, output_mask=None, keep_cache=True):
    """Run an SRN over a sequence: the step of (1) and (2), T times.

    x (T, N, D), h0 (N, H), W_ih (H, D), W_hh (H, H), b_ih (H,) and b_hh (H,) or both None,
    nonlinearity as for ``rnn_step_forward``, mask and output_mask (T, N, 1) of 0/1 or None
    (m_t and s_t of (M1); output_mask None means s_t = m_t), reverse: run t = T−1..0.
    Returns y (T, N, H) outputs, h_n (N, H) the final state, and a SequenceCache
    for ``rnn_backward`` (None with ``keep_cache=False``: inference needs no backward).
    """
    x, h0 = x.copy(), h0.copy()        # the caches keep them; the caller may change theirs
    T = x.shape[0]
    order = range(T - 1, -1, -1) if reverse else range(T)   # reverse: t = T−1..0
    steps, ys = [None] * T, [None] * T
    s = mask if output_mask is None else output_mask        # (M1) s_t
    h = h0
    for t in order:
        h_t, steps[t] = rnn_step_forward(x[t], h, W_ih, W_hh, b_ih, b_hh, nonlinearity)
        if mask is not None:                               # (M1) masked steps keep h,
            h_t = mask[t] * h_t + (1 - mask[t]) * h
        ys[t] = h_t if s is None else s[t] * h_t           # (M1) and output s_t ⊙ h_t
        h = h_t
    weights = {k: w for k, w in dict(W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh).items()
               if w is not None}
    cache = SequenceCache(steps, order, weights, mask, s) if keep_cache else None
    return np.stack(ys), h, cache


def rnn_backward(dy, dh_n, cache):
    """BPTT through an SRN sequence: the backward step, T times in reverse order.

    dy (T, N, H) the gradient of the outputs, dh_n (N, H) that of the final state; either may
    be None for zeros. Returns dx (T, N, D), dh0 (N, H) and grads, a dict of the parameter
    gradients summed over time: W_ih (H, D), W_hh (H, H), and b_ih (H,), b_hh (H,) when the
    forward had biases.
    """
    grads = {k: np.zeros_like(w) for k, w in cache.weights.items()}
    dxs = [None] * len(cache.steps)
    # dh_next: the gradient flowing back into h_t from step t+1 (the carry of BPTT)
    dh_next = np.zeros_like(cache.steps[0].h) if dh_n is None else dh_n
    for t in reversed(cache.order):
        dh = dh_next if dy is None else masked_output(dy, cache, t) + dh_next   # (M1')
        if cache.mask is not None:                         # (M1') masked steps pass
            m = cache.mask[t]                              #      dh by unchanged
            dh, dh_skip = m * dh, (1 - m) * dh
        dxs[t], dh_prev, step_grads = rnn_step_backward(dh, cache.steps[t])
        for k in grads:
            grads[k] += step_grads[k]                      # (1') Σ_t
        dh_next = dh_prev if cache.mask is None else dh_prev + dh_skip
    return np.stack(dxs), dh_next, grads
