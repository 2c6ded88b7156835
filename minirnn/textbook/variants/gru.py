"""The GRU with every option: the core (minirnn/textbook/gru.py) plus these.

Read the core first: its step, equations (1)-(5) and (5')-(1'), is what runs here for
torch's standard GRU (sigmoid gates, tanh, with biases, reset_after=True). This file adds,
each with its own equations below:
  * (A1) σ and φ, the gate and cell activations (activations.py): sigmoid and tanh by
    default; (3') and (4') then take σ' and φ' from the activations' outputs
  * (B1) bias=False: (1) and (2) without b_ih and b_hh, and no bias gradients
  * (R1) reset_after=False, the GRU of Cho et al. (2014): reset h, then multiply
  * (M1) masks and lengths: the sequence loop of (6) keeps h where m_t = 0
  * the reverse direction: the same loop over t = T..1 (a bidirectional layer's second half)

Notation. N batch, D input features, H hidden units, T time steps. Gate blocks in torch order
r | z | n: W_ih (3H, D), W_hh (3H, H), b_ih (3H,), b_hh (3H,). x_t (N, D), h_t (N, H).
σ is the gate activation (sigmoid; or hard_sigmoid, step, tanh, relu, identity), φ the cell
activation (tanh; or identity, relu, sigmoid, hard_sigmoid); the defaults give torch's GRU.
With a mask, m_t (N, 1) is 0 at the steps a sequence skips (after its end, with lengths).

Forward, for t = 1..T (or T..1 for the reverse direction):
  (1) gi = x_t W_ihᵀ + b_ih                                  (N, 3H), blocks gi_r gi_z gi_n
  (2) gh = h_{t-1} W_hhᵀ + b_hh                              (N, 3H), blocks gh_r gh_z gh_n
  (3) r = σ(gi_r + gh_r);  z = σ(gi_z + gh_z)                 (N, H) each
  (4) n = φ(gi_n + r ⊙ gh_n)                                 (N, H)
  (5) h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}                        (N, H)
  (M1) with a mask m_t: a step with m_t = 0 keeps h_{t-1}; y_t = s_t ⊙ h_t, where s_t = m_t
       (lengths: outputs past the end are 0) or s_t = 1 from the first step with m_t = 1 on
       (a per-step mask: the kept h repeats the last unmasked output, 0 before the first)
  (R1) reset_after=False (Cho et al.): n = φ(gi_n + (r ⊙ h_{t-1}) W_hnᵀ + b_hn) instead of (4)

Torch (like cuDNN) applies the reset gate *after* the recurrent product, r ⊙ (W_hn h + b_hn),
where the paper (Cho et al., 2014) has W_hn (r ⊙ h): a different function, which is also why
the GRU's two biases are not redundant in torch's form (b_hn sits inside the reset gate, b_in
outside it); in the paper's form (R1) they only appear summed.

Backward, given dy_t from above and dh_next flowing back from step t+1:
  (M1') dh = m_t ⊙ (s_t ⊙ dy_t + dh_next); (1 − m_t) ⊙ (s_t ⊙ dy_t + dh_next) skips
       the step
  (5') dn = dh ⊙ (1 − z);  dz = dh ⊙ (h_{t-1} − n);  dh_next ← dh ⊙ z  (+ the term in (1'))
  (4') da_n = dn ⊙ φ'(n);  dr = da_n ⊙ gh_n
  (3') da_r = dr ⊙ σ'(r);  da_z = dz ⊙ σ'(z)
  (1')(2') dgi = [da_r | da_z | da_n];  dgh = [da_r | da_z | da_n ⊙ r]
       dx_t = dgi W_ih;  dh_next += dgh W_hh
       dW_ih = Σ_t dgiᵀ x_t;  dW_hh = Σ_t dghᵀ h_{t-1};  db_ih = Σ dgi;  db_hh = Σ dgh
  (R1') reset_after=False, in place of (4') and the n block of (2'): da_n = dn ⊙ φ'(n);
       d(r ⊙ h) = da_n W_hn;  dr = d(r ⊙ h) ⊙ h_{t-1};  dh_next += d(r ⊙ h) ⊙ r;
       dgh_n = da_n, with dW_hn = Σ_t da_nᵀ (r ⊙ h_{t-1})

The engine, minirnn/functional/gru.py, computes the same numbers, arranged another way;
tests/test_tiers.py checks that they agree.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import activations as act
from .. import gru as core
from .rnn import SequenceCache, masked_output


@dataclass
class GRUStepCache:
    """What gru_step_backward needs from one gru_step_forward (arrays kept, not copied)."""
    x: np.ndarray                 # (N, D) x_t
    h_prev: np.ndarray            # (N, H) h_{t-1}
    r: np.ndarray                 # (N, H) each: the gates after (3) and (4)
    z: np.ndarray
    n: np.ndarray
    gh_n: np.ndarray              # (N, H) h_{t-1} W_hnᵀ + b_hn, the term r multiplies (4)
    rh: Optional[np.ndarray]      # (N, H) r ⊙ h_{t-1} with reset_after=False (R1), else None
    W_ih: np.ndarray              # (3H, D)
    W_hh: np.ndarray              # (3H, H)
    has_bias: bool
    gate_activation: str
    cell_activation: str


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh, *, gate_activation="sigmoid",
                     cell_activation="tanh", reset_after=True):
    """One GRU step, equations (1) to (5) with (A1) and (B1), or (R1) in place of (4).

    x (N, D), h_prev (N, H), W_ih (3H, D), W_hh (3H, H), b_ih (3H,) and b_hh (3H,) or both None.
    Returns h (N, H) and a step cache for ``gru_step_backward``. Torch's standard GRU is the
    core's own step.
    """
    sigma = act.function(gate_activation, "gate_activation")     # σ: sigmoid by default (A1)
    phi = act.function(cell_activation, "cell_activation")       # φ: tanh by default (A1)
    if ((gate_activation, cell_activation) == ("sigmoid", "tanh") and b_ih is not None
            and reset_after):
        return core.gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    H = h_prev.shape[1]
    gi = x @ W_ih.T + (0 if b_ih is None else b_ih)           # (1), (B1) without biases
    gh = h_prev @ W_hh.T + (0 if b_hh is None else b_hh)      # (2)
    r = sigma(gi[:, :H] + gh[:, :H])                          # (3)
    z = sigma(gi[:, H:2 * H] + gh[:, H:2 * H])                # (3)
    rh = None
    if reset_after:                                           # torch's form
        gh_n = gh[:, 2 * H:]
        n = phi(gi[:, 2 * H:] + r * gh_n)                     # (4)
    else:                                                     # Cho et al.: reset, then multiply
        rh = r * h_prev                                       # (R1)
        gh_n = rh @ W_hh[2 * H:].T + (0 if b_hh is None else b_hh[2 * H:])   # (R1)
        n = phi(gi[:, 2 * H:] + gh_n)                         # (R1)
    h = (1 - z) * n + z * h_prev                              # (5)
    return h, GRUStepCache(x, h_prev, r, z, n, gh_n, rh, W_ih, W_hh, b_ih is not None,
                           gate_activation, cell_activation)


def gru_step_backward(dh, cache):
    """Backward through one GRU step, equations (5') to (1') (and (R1') for reset_after=False).

    dh (N, H): the whole gradient of the loss with respect to this step's h.
    Returns dx (N, D), dh_prev (N, H) and grads, a dict of this step's parameter gradients:
    W_ih (3H, D), W_hh (3H, H), and b_ih (3H,), b_hh (3H,) when the step had biases.
    """
    if isinstance(cache, core.GRUStepCache):               # torch's standard GRU: the core's
        return core.gru_step_backward(dh, cache)
    H = cache.h_prev.shape[1]
    sigma_, phi_ = act.derivative(cache.gate_activation), act.derivative(cache.cell_activation)
    r, z, n, h_prev = cache.r, cache.z, cache.n, cache.h_prev
    dn = dh * (1 - z)                                             # (5')
    dz = dh * (h_prev - n)                                        # (5')
    dh_prev = dh * z                                              # (5')
    da_n = dn * phi_(n)                                           # (4')
    if cache.rh is None:
        dr = da_n * cache.gh_n                                    # (4')
    else:
        d_rh = da_n @ cache.W_hh[2 * H:]                          # (R1') d(r ⊙ h)
        dr = d_rh * h_prev                                        # (R1')
        dh_prev = dh_prev + d_rh * r                              # (R1')
    da_r, da_z = dr * sigma_(r), dz * sigma_(z)                   # (3')
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)              # (1')(2')
    dx = dgi @ cache.W_ih                                         # (1')
    if cache.rh is None:
        dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)      # (1')(2')
        dh_prev = dh_prev + dgh @ cache.W_hh                      # (1')
        dW_hh = dgh.T @ h_prev                                    # (1')
    else:
        dgh = np.concatenate([da_r, da_z, da_n], axis=1)          # (2') and (R1') dgh_n = da_n
        dh_prev = dh_prev + dgh[:, :2 * H] @ cache.W_hh[:2 * H]   # (1') through r and z
        dW_hh = np.concatenate([dgh[:, :2 * H].T @ h_prev,        # (1') and (R1')
                                da_n.T @ cache.rh])
    grads = {"W_ih": dgi.T @ cache.x, "W_hh": dW_hh}              # (1')
    if cache.has_bias:
        grads["b_ih"], grads["b_hh"] = dgi.sum(axis=0), dgh.sum(axis=0)   # (1')
    return dx, dh_prev, grads


def gru_forward(x, h0, W_ih, W_hh, b_ih=None, b_hh=None, *, gate_activation="sigmoid",
                cell_activation="tanh", reset_after=True, mask=None, output_mask=None,
                reverse=False, keep_cache=True):
    """Run a GRU over a sequence: the step of (1) to (5), T times.

    x (T, N, D), h0 (N, H), W_ih (3H, D), W_hh (3H, H), b_ih (3H,) and b_hh (3H,) or both
    None, activations and reset_after as for ``gru_step_forward``, mask and output_mask
    (T, N, 1) of 0/1 or None (m_t and s_t of (M1); output_mask None means s_t = m_t),
    reverse: run t = T−1..0.
    Returns y (T, N, H), h_n (N, H) and a SequenceCache for ``gru_backward`` (None with
    ``keep_cache=False``: inference needs no backward).
    """
    x, h0 = x.copy(), h0.copy()        # the caches keep them; the caller may change theirs
    T = x.shape[0]
    order = range(T - 1, -1, -1) if reverse else range(T)   # reverse: t = T−1..0
    steps, ys = [None] * T, [None] * T
    s = mask if output_mask is None else output_mask        # (M1) s_t
    h = h0
    for t in order:
        h_t, steps[t] = gru_step_forward(x[t], h, W_ih, W_hh, b_ih, b_hh,
                                         gate_activation=gate_activation,
                                         cell_activation=cell_activation,
                                         reset_after=reset_after)
        if mask is not None:                               # (M1) masked steps keep h,
            h_t = mask[t] * h_t + (1 - mask[t]) * h
        ys[t] = h_t if s is None else s[t] * h_t           # (M1) and output s_t ⊙ h_t
        h = h_t
    weights = {k: w for k, w in dict(W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh).items()
               if w is not None}
    cache = SequenceCache(steps, order, weights, mask, s) if keep_cache else None
    return np.stack(ys), h, cache


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
        dh = dh_next if dy is None else masked_output(dy, cache, t) + dh_next   # (M1')
        if cache.mask is not None:                         # (M1') masked steps pass
            m = cache.mask[t]                              #      dh by unchanged
            dh, dh_skip = m * dh, (1 - m) * dh
        dxs[t], dh_prev, step_grads = gru_step_backward(dh, cache.steps[t])
        for k in grads:
            grads[k] += step_grads[k]                      # (1') Σ_t
        dh_next = dh_prev if cache.mask is None else dh_prev + dh_skip
    return np.stack(dxs), dh_next, grads
