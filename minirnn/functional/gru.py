"""GRU: forward over a sequence and its BPTT backward, in torch's form.

Shapes: T time steps, N batch, D input features, H hidden units. Gate blocks in torch order
r | z | n: W_ih (3H, D), W_hh (3H, H), b_ih (3H,), b_hh (3H,).

Forward, for t = 1..T (or T..1 for the reverse direction):
  (1) gi = x_t W_ihᵀ + b_ih                                  (N, 3H), blocks gi_r gi_z gi_n
  (2) gh = h_{t-1} W_hhᵀ + b_hh                              (N, 3H), blocks gh_r gh_z gh_n
  (3) r = σ(gi_r + gh_r);  z = σ(gi_z + gh_z)                 (N, H) each
  (4) n = tanh(gi_n + r ⊙ gh_n)                              (N, H)
  (5) h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}                        (N, H)
  (6) with lengths: finished sequences keep h_{t-1}; their outputs are 0

Torch (like cuDNN) applies the reset gate *after* the recurrent product, r ⊙ (W_hn h + b_hn),
where the paper (Cho et al., 2014) has W_hn (r ⊙ h): a different function, which is also why
the GRU's two biases are not redundant (b_hn sits inside the reset gate, b_in outside it).

Backward, given dy_t from above and dh_next flowing back from step t+1:
  (6') dh = m_t ⊙ (dy_t + dh_next); (1 − m_t) ⊙ dh_next skips the step unchanged
  (5') dn = dh ⊙ (1 − z);  dz = dh ⊙ (h_{t-1} − n);  dh_next ← dh ⊙ z  (+ the term in (1'))
  (4') da_n = dn ⊙ (1 − n²);  dr = da_n ⊙ gh_n
  (3') da_r = dr ⊙ r(1 − r);  da_z = dz ⊙ z(1 − z)
  (1')(2') dgi = [da_r | da_z | da_n];  dgh = [da_r | da_z | da_n ⊙ r]
       dx_t = dgi W_ih;  dh_next += dgh W_hh
       dW_ih = Σ_t dgiᵀ x_t;  dW_hh = Σ_t dghᵀ h_{t-1};  db_ih = Σ dgi;  db_hh = Σ dgh

The readable version is minirnn/textbook/gru.py; the equation numbers refer to it. As in
rnn.py, dW_ih, dW_hh and dx come from single matrix products after the loop.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import activations as act
from ._sequence import (final_state, input_grad, project_inputs, split_states, state_buffer,
                        time_steps, transposed, weight_grad)


@dataclass
class GRUCache:
    """What the backward pass needs from one forward pass over a sequence."""
    x: np.ndarray                 # (T, N, D) inputs
    S: np.ndarray                 # (T+1, N, H) h_0 and every h_t
    rz: np.ndarray                # (T, N, 2H) r | z after σ
    n: np.ndarray                 # (T, N, H) n after tanh
    gh_n: np.ndarray              # (T, N, H) W_hn h_{t-1} + b_hn, the term r multiplies
    W_ih: np.ndarray
    W_hh: np.ndarray
    has_bias: bool
    mask: Optional[np.ndarray]    # (T, N, 1) of 0/1, or None
    reverse: bool


def gru_forward(x, h0, W_ih, W_hh, b_ih=None, b_hh=None, *, mask=None, reverse=False):
    """Run a GRU over a sequence.

    x (T, N, D), h0 (N, H), mask (T, N, 1) or None.
    Returns y (T, N, H), h_n (N, H) and the cache for ``gru_backward``.
    """
    T = x.shape[0]
    H = W_hh.shape[0] // 3
    # (1) for all t at once, as two arrays: r | z, whose σ then runs on one contiguous block
    # per step, and n. b_hr and b_hz simply add to the input side; b_hn cannot (see (4)).
    b_rz = None if b_ih is None else b_ih[:2 * H] + b_hh[:2 * H]
    RZ = project_inputs(x, W_ih[:2 * H], b_rz)            # (T, N, 2H): gi_r | gi_z, later r | z
    Nt = project_inputs(x, W_ih[2 * H:], None if b_ih is None else b_ih[2 * H:])  # gi_n, later n
    b_hn = np.zeros(H, x.dtype) if b_hh is None else b_hh[2 * H:]     # (2) added per step
    gh_n = np.empty((T,) + h0.shape, dtype=h0.dtype)      # (2) gh_n of every t, for (4')
    r_gh_n = np.empty(h0.shape, dtype=h0.dtype)            # scratch for r ⊙ gh_n
    S, h_in, h_out = state_buffer(h0, T, reverse)          # h_0..h_T in one buffer, no copies
    W_hhT = transposed(W_hh)                               # contiguous: faster per-step matmul
    with np.errstate(over="ignore"):                       # sigmoid(-1000) = 1/(1+inf) = 0
        for t in time_steps(T, reverse):
            gh = h_in[t] @ W_hhT                           # (2) gh, b_hh still to add
            rz = RZ[t]                                     # (3) gi_r | gi_z, r | z after σ
            rz += gh[:, :2 * H]                            # (3) r, z
            act.apply("sigmoid", rz)                       # (3) one call for both gates
            r, z = rz[:, :H], rz[:, H:]
            ghn = np.add(gh[:, 2 * H:], b_hn, out=gh_n[t])     # (2) gh_n with b_hn
            n = Nt[t]                                      # (4) n
            n += np.multiply(r, ghn, out=r_gh_n)
            np.tanh(n, out=n)
            h = np.subtract(h_in[t], n, out=h_out[t])      # (5) as n + z ⊙ (h_{t-1} − n)
            h *= z
            h += n
            if mask is not None:                           # (6) finished sequences keep h
                np.copyto(h, h_in[t], where=mask[t] == 0)
    y = h_out if mask is None else h_out * mask            # (6) zero outputs past the end
    cache = GRUCache(x, S, RZ, Nt, gh_n, W_ih, W_hh, b_ih is not None, mask, reverse)
    return y, final_state(S, reverse), cache


def gru_backward(dy, dh_n, cache):
    """BPTT through a GRU sequence.

    dy (T, N, H), dh_n (N, H): gradients of the outputs and the final state (either may be
    None for zeros). Returns dx (T, N, D), dh0 (N, H) and a dict of parameter gradients.
    """
    c = cache
    T, N, _ = c.x.shape
    H = c.S.shape[-1]
    h_in, _ = split_states(c.S, c.reverse)
    dGi = np.empty((T, N, 3 * H), dtype=c.S.dtype)         # dgi for every t: (1') after the loop
    dGh = np.empty((T, N, 3 * H), dtype=c.S.dtype)         # dgh for every t: (2') likewise
    dh_next = np.zeros((N, H), c.S.dtype) if dh_n is None else dh_n
    for t in reversed(time_steps(T, c.reverse)):
        dh = dh_next if dy is None else dy[t] + dh_next
        if c.mask is not None:                             # (6')
            dh_skip = dh_next * (1 - c.mask[t])
            dh = dh * c.mask[t]
        rz, n = c.rz[t], c.n[t]
        r, z = rz[:, :H], rz[:, H:]
        dgi, dgh = dGi[t], dGh[t]
        dr, dz, dn = dgi[:, :H], dgi[:, H:2 * H], dgi[:, 2 * H:]   # (3')-(5') write into dgi
        np.multiply(dh, 1 - z, out=dn)                     # (5')
        np.multiply(dh, h_in[t] - n, out=dz)
        act.backprop("tanh", n, dn)                        # (4') da_n
        np.multiply(dn, c.gh_n[t], out=dr)                 # (4') dr
        act.backprop("sigmoid", rz, dgi[:, :2 * H])        # (3') da_r, da_z
        dgh[:, :2 * H] = dgi[:, :2 * H]                    # (2') dgh
        np.multiply(dn, r, out=dgh[:, 2 * H:])
        dh_next = dh * z                                   # (5') carried to step t−1 ...
        dh_next += dgh @ c.W_hh                            # (1') ... plus through the gates
        if c.mask is not None:
            dh_next += dh_skip
    dx = input_grad(dGi, c.W_ih)                           # (1') every dx_t in one product
    grads = {"W_ih": weight_grad(dGi, c.x), "W_hh": weight_grad(dGh, h_in)}  # (1')(2')
    if c.has_bias:
        grads["b_ih"] = dGi.sum(axis=(0, 1))
        grads["b_hh"] = dGh.sum(axis=(0, 1))
    return dx, dh_next, grads
