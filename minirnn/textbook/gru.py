"""GRU in torch's form: one step, its backward step, and BPTT over a sequence.

Notation. N batch, D input features, H hidden units, T time steps. Gate blocks in torch order
r | z | n: W_ih (3H, D), W_hh (3H, H), b_ih (3H,), b_hh (3H,). x_t (N, D), h_t (N, H).

Forward, for t = 1..T (or T..1 for the reverse direction):
  (1) gi = x_t W_ihᵀ + b_ih                                  (N, 3H), blocks gi_r gi_z gi_n
  (2) gh = h_{t-1} W_hhᵀ + b_hh                              (N, 3H), blocks gh_r gh_z gh_n
  (3) r = σ(gi_r + gh_r);  z = σ(gi_z + gh_z)                 (N, H) each
  (4) n = tanh(gi_n + r ⊙ gh_n)                              (N, H)
  (5) h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}                        (N, H)
  (6) with lengths: finished sequences keep h_{t-1}; their outputs are 0

Torch (like cuDNN) applies the reset gate *after* the recurrent product, r ⊙ (W_hn h + b_hn);
the original paper (Cho et al., 2014) has W_hn (r ⊙ h). The two are different functions, so
matching torch needs this form. It is also why the GRU's two biases are not redundant: b_hn
sits inside the reset gate, b_in outside it.

Backward, given dy_t from above and dh_next flowing back from step t+1:
  (6') dh = m_t ⊙ (dy_t + dh_next); (1 − m_t) ⊙ dh_next skips the step unchanged
  (5') dn = dh ⊙ (1 − z);  dz = dh ⊙ (h_{t-1} − n);  dh_next ← dh ⊙ z  (+ the term in (1'))
  (4') da_n = dn ⊙ (1 − n²);  dr = da_n ⊙ gh_n
  (3') da_r = dr ⊙ r(1 − r);  da_z = dz ⊙ z(1 − z)
  (1')(2') dgi = [da_r | da_z | da_n];  dgh = [da_r | da_z | da_n ⊙ r]
       dx_t = dgi W_ih;  dh_next += dgh W_hh
       dW_ih = Σ_t dgiᵀ x_t;  dW_hh = Σ_t dghᵀ h_{t-1};  db_ih = Σ dgi;  db_hh = Σ dgh

The engine, minirnn/functional/gru.py, computes the same numbers, arranged another way;
tests/test_tiers.py checks that they agree.
"""
from dataclasses import dataclass

import numpy as np

from .activations import sigmoid
from .rnn import SequenceCache


@dataclass
class GRUStepCache:
    """What gru_step_backward needs from one gru_step_forward (arrays kept, not copied)."""
    x: np.ndarray                 # (N, D) x_t
    h_prev: np.ndarray            # (N, H) h_{t-1}
    r: np.ndarray                 # (N, H) each: the gates after (3) and (4)
    z: np.ndarray
    n: np.ndarray
    gh_n: np.ndarray              # (N, H) h_{t-1} W_hnᵀ + b_hn, the term r multiplies
    W_ih: np.ndarray              # (3H, D)
    W_hh: np.ndarray              # (3H, H)
    has_bias: bool


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One GRU step, equations (1) to (5).

    x (N, D), h_prev (N, H), W_ih (3H, D), W_hh (3H, H), b_ih (3H,) and b_hh (3H,) or both None.
    Returns h (N, H) and a GRUStepCache for ``gru_step_backward``.
    """
    H = h_prev.shape[1]
    gi = x @ W_ih.T + (0 if b_ih is None else b_ih)           # (1) without biases, b = 0
    gh = h_prev @ W_hh.T + (0 if b_hh is None else b_hh)      # (2)
    r = sigmoid(gi[:, :H] + gh[:, :H])                        # (3)
    z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])              # (3)
    gh_n = gh[:, 2 * H:]
    n = np.tanh(gi[:, 2 * H:] + r * gh_n)                     # (4)
    h = (1 - z) * n + z * h_prev                              # (5)
    return h, GRUStepCache(x, h_prev, r, z, n, gh_n, W_ih, W_hh, b_ih is not None)


def gru_step_backward(dh, cache):
    """Backward through one GRU step, equations (5') to (1').

    dh (N, H): the whole gradient of the loss with respect to this step's h.
    Returns dx (N, D), dh_prev (N, H) and grads, a dict of this step's parameter gradients:
    W_ih (3H, D), W_hh (3H, H), and b_ih (3H,), b_hh (3H,) when the step had biases.
    """
    s = cache
    dn = dh * (1 - s.z)                                       # (5')
    dz = dh * (s.h_prev - s.n)                                # (5')
    da_n = dn * (1 - s.n * s.n)                               # (4')
    dr = da_n * s.gh_n                                        # (4')
    da_r, da_z = dr * s.r * (1 - s.r), dz * s.z * (1 - s.z)   # (3')
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)          # (1')(2')
    dgh = np.concatenate([da_r, da_z, da_n * s.r], axis=1)    # (1')(2')
    dx = dgi @ s.W_ih                                         # (1')
    dh_prev = dh * s.z + dgh @ s.W_hh                         # (5') and (1')
    grads = {"W_ih": dgi.T @ s.x, "W_hh": dgh.T @ s.h_prev}   # (1')
    if s.has_bias:
        grads["b_ih"], grads["b_hh"] = dgi.sum(axis=0), dgh.sum(axis=0)   # (1')
    return dx, dh_prev, grads


def gru_forward(x, h0, W_ih, W_hh, b_ih=None, b_hh=None, *, mask=None, reverse=False):
    """Run a GRU over a sequence: the step of (1) to (5), T times.

    x (T, N, D), h0 (N, H), W_ih (3H, D), W_hh (3H, H), b_ih (3H,) and b_hh (3H,) or both
    None, mask (T, N, 1) of 0/1 or None, reverse: run t = T−1..0.
    Returns y (T, N, H), h_n (N, H) and a SequenceCache for ``gru_backward``.
    """
    x, h0 = x.copy(), h0.copy()        # the caches keep them; the caller may change theirs
    T = x.shape[0]
    order = range(T - 1, -1, -1) if reverse else range(T)   # reverse: t = T−1..0
    steps, ys = [None] * T, [None] * T
    h = h0
    for t in order:
        h_t, steps[t] = gru_step_forward(x[t], h, W_ih, W_hh, b_ih, b_hh)
        if mask is not None:                               # (6) finished sequences keep h,
            h_t = mask[t] * h_t + (1 - mask[t]) * h
        ys[t] = h_t if mask is None else mask[t] * h_t     # (6) and output 0
        h = h_t
    weights = {k: w for k, w in dict(W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh).items()
               if w is not None}
    return np.stack(ys), h, SequenceCache(steps, order, weights, mask)


def gru_backward(dy, dh_n, cache):
    """BPTT through a GRU sequence: the backward step, T times in reverse order.

    dy (T, N, H) the gradient of the outputs, dh_n (N, H) that of the final state; either may
    be None for zeros. Returns dx (T, N, D), dh0 (N, H) and grads, a dict of the parameter
    gradients summed over time: W_ih (3H, D), W_hh (3H, H), and b_ih (3H,), b_hh (3H,) when
    the forward had biases.
    """
    grads = {k: np.zeros_like(w) for k, w in cache.weights.items()}
    dxs = [None] * len(cache.steps)
    # dh_next: the gradient flowing back into h_t from step t+1 (the carry of BPTT)
    dh_next = np.zeros_like(cache.steps[0].h_prev) if dh_n is None else dh_n
    for t in reversed(cache.order):
        dh = dh_next if dy is None else dy[t] + dh_next
        if cache.mask is not None:                         # (6') finished sequences pass
            m = cache.mask[t]                              #      dh_next by unchanged
            dh, dh_skip = m * dh, (1 - m) * dh_next
        dxs[t], dh_prev, step_grads = gru_step_backward(dh, cache.steps[t])
        for k in grads:
            grads[k] += step_grads[k]                      # (1') Σ_t
        dh_next = dh_prev if cache.mask is None else dh_prev + dh_skip
    return np.stack(dxs), dh_next, grads
