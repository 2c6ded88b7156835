"""Simple recurrent network (Elman SRN): forward over a sequence and its BPTT backward.

Shapes: T time steps, N batch, D input features, H hidden units. Weights as torch:
W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,); φ is tanh (or relu, sigmoid, hard_sigmoid,
identity).

Forward, for t = 1..T (or T..1 for the reverse direction of a bidirectional layer):
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

The readable version is minirnn/textbook/rnn.py, the standard cell ((1), (2) and their
primes), and minirnn/textbook/variants/rnn.py, the options (M1); the equation
numbers refer to them. Parameter gradients are sums over t (the same weights act at every
step), so every da_t is kept in one (T, N, H) array and each sum is one product after the
loop: (T·N rows)ᵀ @ (T·N rows).
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import activations as act
from ._sequence import (chunks, final_state, input_grad, split_states, state_buffer,
                        time_steps, transposed, upstream, weight_grad, workspace)


@dataclass
class RNNCache:
    """What the backward pass needs from one forward pass over a sequence."""
    x: np.ndarray                 # (T, N, D) inputs
    S: np.ndarray                 # (T+1, N, H) h_0 and every h_t (see _sequence.py)
    W_ih: np.ndarray
    W_hh: np.ndarray
    has_bias: bool
    nonlinearity: str
    mask: Optional[np.ndarray]    # (T, N, 1) m_t of 0/1, or None when no step is skipped
    output_mask: Optional[np.ndarray]   # (T, N, 1) s_t of (M1), or None
    reverse: bool


def rnn_forward(x, h0, W_ih, W_hh, b_ih=None, b_hh=None, nonlinearity="tanh",
                mask=None, reverse=False, *, output_mask=None, keep_cache=True):
    """Run an SRN over a sequence.

    x (T, N, D), h0 (N, H), mask and output_mask (T, N, 1) or None (see (M1); output_mask
    None means s_t = m_t).
    Returns y (T, N, H) outputs, h_n (N, H) final state, and the cache for ``rnn_backward``
    (None with ``keep_cache=False``).
    """
    T, N, D = x.shape
    H = W_hh.shape[0]
    bias = None if b_ih is None else b_ih + b_hh           # (1) the biases only appear summed
    S, h_in, h_out = state_buffer(h0, T, reverse)          # h_0..h_T in one buffer, no copies
    W_hhT = transposed(W_hh)                               # contiguous: faster per-step matmul
    for lo, hi, steps in chunks(T, reverse, N, H):         # (1) input half: one matmul per
        A = workspace("rnn A", (hi - lo, N, H), x.dtype)   #   chunk of steps (_sequence.py)
        np.matmul(x[lo:hi].reshape(-1, D), W_ih.T, out=A.reshape(-1, H))
        if bias is not None:
            A += bias
        for t in steps:
            h = np.matmul(h_in[t], W_hhT, out=h_out[t])    # (1) recurrent half, into the buffer
            h += A[t - lo]                                 # (1) a_t, in place
            act.apply(nonlinearity, h)                     # (2) h_t = φ(a_t), in place
            if mask is not None:                           # (M1) masked steps keep h
                np.copyto(h, h_in[t], where=mask[t] == 0)
    if output_mask is None:
        output_mask = mask
    y = h_out if output_mask is None else h_out * output_mask      # (M1) y_t = s_t ⊙ h_t
    cache = None if not keep_cache else RNNCache(x, S, W_ih, W_hh, b_ih is not None,
                                                 nonlinearity, mask, output_mask, reverse)
    return y, final_state(S, reverse), cache


def rnn_backward(dy, dh_n, cache):
    """BPTT through an SRN sequence.

    dy (T, N, H) gradient of the outputs, dh_n (N, H) gradient of the final state (either may
    be None for zeros). Returns dx (T, N, D), dh0 (N, H) and a dict of parameter gradients.
    """
    c = cache
    T, N, _ = c.x.shape
    H = c.W_hh.shape[0]
    h_in, h_out = split_states(c.S, c.reverse)
    dA = np.empty((T, N, H), dtype=c.S.dtype)              # da_t for every t: (1') after the loop
    dh_next = np.zeros((N, H), c.S.dtype) if dh_n is None else dh_n    # carried back into h_t
    for t in reversed(time_steps(T, c.reverse)):
        da = dA[t]                                         # holds dh until (2') turns it into da
        upstream(dy, c.output_mask, t, dh_next, out=da)    # (M1') s_t ⊙ dy_t + dh_next
        if c.mask is not None:                             # (M1')
            dh_skip = da * (1 - c.mask[t])
            da *= c.mask[t]
        act.backprop(c.nonlinearity, h_out[t], da)         # (2') φ' from the kept h_t
        dh_next = da @ c.W_hh                              # (1') carried to step t−1
        if c.mask is not None:
            dh_next += dh_skip
    dx = input_grad(dA, c.W_ih)                            # (1') every dx_t in one product
    grads = {"W_ih": weight_grad(dA, c.x), "W_hh": weight_grad(dA, h_in)}  # (1') one product each
    if c.has_bias:
        db = dA.sum(axis=(0, 1))                           # (1') db_ih = db_hh = Σ_t Σ_n da_t
        grads["b_ih"], grads["b_hh"] = db, db.copy()
    return dx, dh_next, grads
