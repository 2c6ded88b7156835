"""GRU: forward over a sequence and its BPTT backward; torch's form, or Cho et al.'s.

Shapes: T time steps, N batch, D input features, H hidden units. Gate blocks in torch order
r | z | n: W_ih (3H, D), W_hh (3H, H), b_ih (3H,), b_hh (3H,). σ is the gate activation
(sigmoid by default), φ the cell activation (tanh by default).

Forward, for t = 1..T (or T..1 for the reverse direction):
  (1) gi = x_t W_ihᵀ + b_ih                                  (N, 3H), blocks gi_r gi_z gi_n
  (2) gh = h_{t-1} W_hhᵀ + b_hh                              (N, 3H), blocks gh_r gh_z gh_n
  (3) r = σ(gi_r + gh_r);  z = σ(gi_z + gh_z)                 (N, H) each
  (4) n = φ(gi_n + r ⊙ gh_n)                                 (N, H)
  (5) h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}                        (N, H)
  (6) with a mask m_t: a step with m_t = 0 keeps h_{t-1}; y_t = s_t ⊙ h_t, where s_t = m_t
       (lengths: outputs past the end are 0) or s_t = 1 from the first step with m_t = 1 on
       (a per-step mask: the kept h repeats the last unmasked output, 0 before the first)
  (7) reset_after=False (Cho et al.): n = φ(gi_n + (r ⊙ h_{t-1}) W_hnᵀ + b_hn) instead of (4)

Torch (like cuDNN) applies the reset gate *after* the recurrent product, r ⊙ (W_hn h + b_hn),
where the paper (Cho et al., 2014) has W_hn (r ⊙ h): a different function, which is also why
the GRU's two biases are not redundant in torch's form (b_hn sits inside the reset gate, b_in
outside it); in the paper's form (7) they only appear summed.

Backward, given dy_t from above and dh_next flowing back from step t+1:
  (6') dh = m_t ⊙ (s_t ⊙ dy_t + dh_next); (1 − m_t) ⊙ (s_t ⊙ dy_t + dh_next) skips the step
  (5') dn = dh ⊙ (1 − z);  dz = dh ⊙ (h_{t-1} − n);  dh_next ← dh ⊙ z  (+ the term in (1'))
  (4') da_n = dn ⊙ φ'(n);  dr = da_n ⊙ gh_n
  (3') da_r = dr ⊙ σ'(r);  da_z = dz ⊙ σ'(z)
  (1')(2') dgi = [da_r | da_z | da_n];  dgh = [da_r | da_z | da_n ⊙ r]
       dx_t = dgi W_ih;  dh_next += dgh W_hh
       dW_ih = Σ_t dgiᵀ x_t;  dW_hh = Σ_t dghᵀ h_{t-1};  db_ih = Σ dgi;  db_hh = Σ dgh
  (7') reset_after=False, in place of (4') and the n block of (2'): da_n = dn ⊙ φ'(n);
       d(r ⊙ h) = da_n W_hn;  dr = d(r ⊙ h) ⊙ h_{t-1};  dh_next += d(r ⊙ h) ⊙ r;
       dgh_n = da_n, with dW_hn = Σ_t da_nᵀ (r ⊙ h_{t-1})

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
    n: np.ndarray                 # (T, N, H) n after φ
    gh_n: np.ndarray              # (T, N, H) torch's form: W_hn h_{t-1} + b_hn, the term r
                                  # multiplies; reset_after=False: r ⊙ h_{t-1}, for dW_hn
    W_ih: np.ndarray
    W_hh: np.ndarray
    has_bias: bool
    gate_activation: str
    cell_activation: str
    reset_after: bool
    mask: Optional[np.ndarray]    # (T, N, 1) of 0/1, or None
    output_mask: Optional[np.ndarray]   # (T, N, 1) s_t of (6), or None (then s_t = m_t)
    reverse: bool


def gru_forward(x, h0, W_ih, W_hh, b_ih=None, b_hh=None, *, gate_activation="sigmoid",
                cell_activation="tanh", reset_after=True, mask=None, output_mask=None,
                reverse=False):
    """Run a GRU over a sequence.

    x (T, N, D), h0 (N, H), mask and output_mask (T, N, 1) or None (see (6)).
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
    gh_n = np.empty((T,) + h0.shape, dtype=h0.dtype)      # (2) gh_n, or (7) r ⊙ h, for backward
    r_gh_n = np.empty(h0.shape, dtype=h0.dtype)            # scratch for r ⊙ gh_n
    S, h_in, h_out = state_buffer(h0, T, reverse)          # h_0..h_T in one buffer, no copies
    W_hhT = transposed(W_hh if reset_after else W_hh[:2 * H])   # contiguous: faster matmul
    W_hnT = None if reset_after else transposed(W_hh[2 * H:])   # (7) its own product
    with np.errstate(over="ignore"):                       # sigmoid(-1000) = 1/(1+inf) = 0
        for t in time_steps(T, reverse):
            gh = h_in[t] @ W_hhT                           # (2) gh, b_hh still to add
            rz = RZ[t]                                     # (3) gi_r | gi_z, r | z after σ
            rz += gh[:, :2 * H]                            # (3) r, z
            act.apply(gate_activation, rz)                 # (3) one call for both gates
            r, z = rz[:, :H], rz[:, H:]
            n = Nt[t]                                      # (4) n
            if reset_after:
                ghn = np.add(gh[:, 2 * H:], b_hn, out=gh_n[t])     # (2) gh_n with b_hn
                n += np.multiply(r, ghn, out=r_gh_n)       # (4)
            else:
                rh = np.multiply(r, h_in[t], out=gh_n[t])  # (7) r ⊙ h_{t-1}, kept
                n += np.matmul(rh, W_hnT, out=r_gh_n)      # (7)
                n += b_hn
            act.apply(cell_activation, n)                  # (4) or (7)
            h = np.subtract(h_in[t], n, out=h_out[t])      # (5) as n + z ⊙ (h_{t-1} − n)
            h *= z
            h += n
            if mask is not None:                           # (6) masked steps keep h
                np.copyto(h, h_in[t], where=mask[t] == 0)
    if output_mask is None:
        output_mask = mask
    y = h_out if output_mask is None else h_out * output_mask      # (6) y_t = s_t ⊙ h_t
    cache = GRUCache(x, S, RZ, Nt, gh_n, W_ih, W_hh, b_ih is not None, gate_activation,
                     cell_activation, reset_after, mask, output_mask, reverse)
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
    W_hn = c.W_hh[2 * H:]
    dh_next = np.zeros((N, H), c.S.dtype) if dh_n is None else dh_n
    for t in reversed(time_steps(T, c.reverse)):
        if dy is None:
            dh = dh_next
        else:                                              # (6') s_t ⊙ dy_t + dh_next
            dh = (dy[t] if c.output_mask is None else dy[t] * c.output_mask[t]) + dh_next
        if c.mask is not None:                             # (6')
            dh_skip = dh * (1 - c.mask[t])
            dh = dh * c.mask[t]
        rz, n = c.rz[t], c.n[t]
        r, z = rz[:, :H], rz[:, H:]
        dgi, dgh = dGi[t], dGh[t]
        dr, dz, dn = dgi[:, :H], dgi[:, H:2 * H], dgi[:, 2 * H:]   # (3')-(5') write into dgi
        np.multiply(dh, 1 - z, out=dn)                     # (5')
        np.multiply(dh, h_in[t] - n, out=dz)
        act.backprop(c.cell_activation, n, dn)             # (4') da_n
        if c.reset_after:
            np.multiply(dn, c.gh_n[t], out=dr)             # (4') dr
        else:
            d_rh = dn @ W_hn                               # (7') d(r ⊙ h)
            np.multiply(d_rh, h_in[t], out=dr)             # (7') dr
        act.backprop(c.gate_activation, rz, dgi[:, :2 * H])    # (3') da_r, da_z
        dgh[:, :2 * H] = dgi[:, :2 * H]                    # (2') dgh
        dh_next = dh * z                                   # (5') carried to step t−1 ...
        if c.reset_after:
            np.multiply(dn, r, out=dgh[:, 2 * H:])         # (2')
            dh_next += dgh @ c.W_hh                        # (1') ... plus through the gates
        else:
            dgh[:, 2 * H:] = dn                            # (7') dgh_n = da_n
            dh_next += dgh[:, :2 * H] @ c.W_hh[:2 * H]     # (1') ... through r and z
            dh_next += d_rh * r                            # (7') ... and through r ⊙ h
        if c.mask is not None:
            dh_next += dh_skip
    dx = input_grad(dGi, c.W_ih)                           # (1') every dx_t in one product
    if c.reset_after:
        dW_hh = weight_grad(dGh, h_in)                     # (1')(2')
    else:                                                  # (2') rows r, z; (7') rows n
        dW_hh = np.concatenate([weight_grad(dGh[..., :2 * H], h_in),
                                weight_grad(dGh[..., 2 * H:], c.gh_n)])
    grads = {"W_ih": weight_grad(dGi, c.x), "W_hh": dW_hh}
    if c.has_bias:
        grads["b_ih"] = dGi.sum(axis=(0, 1))
        grads["b_hh"] = dGh.sum(axis=(0, 1))
    return dx, dh_next, grads
