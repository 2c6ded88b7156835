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

How the engine arranges this (the numbers are the textbook's, to rounding):
- Layout. Each step's r, z, gh_n (or r ⊙ h_{t-1} in Cho's form) and n are kept as one
  (4, N, H) block, gate by gate, so every elementwise line runs on a contiguous (N, H) array;
  gh of (2) is one batched product h_{t-1} @ W_rec3 (3, H, H) writing r's, z's and n's
  blocks in place.
- The rows of r and z in W_ih, W_hh and the summed bias are scaled by −1 once per sequence,
  so σ is exp, then 1 / (1 + e): no negation per step.
- Chunks, as in lstm.py: (1) is one product per chunk of steps, and inference keeps no
  per-step cache.
- Backward. In torch's form everything dh is multiplied by is known from the forward, so a
  chunk's factors are computed in whole-chunk passes before its loop (``_local_derivatives``):
      K_n  = (1 − z) ⊙ φ'(n)                da_n   = dh ⊙ K_n                 (5')(4')
      K_z  = (h_{t-1} − n) ⊙ σ'(z)          da_z   = dh ⊙ K_z                 (5')(3')
      K_r  = K_n ⊙ gh_n ⊙ σ'(r)             da_r   = dh ⊙ K_r                 (4')(3')
      K_hn = K_n ⊙ r                        dgh_n  = dh ⊙ K_hn                (2')
  one call for all four, and dh_next ← dh ⊙ z + dgh W_hh: six NumPy calls per step.
  In Cho's form (R1') d(r ⊙ h) = da_n W_hn comes between, so da_r waits for it.

The readable version is minirnn/textbook/gru.py, the standard cell ((1)-(5) and their
primes), and minirnn/textbook/variants/gru.py, the options (M1, R1); the equation
numbers refer to them. As in rnn.py, dW_ih, dW_hh and dx come from single matrix products
after the loop.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import activations as act
from ._sequence import chunks, final_state, split_states, state_buffer, upstream, workspace


@dataclass
class GRUCache:
    """What the backward pass needs from one forward pass over a sequence."""
    x: np.ndarray                 # (T, N, D) inputs
    S: np.ndarray                 # (T+1, N, H) h_0 and every h_t
    gates: np.ndarray             # (T, 4, N, H) r, z, gh_n, n: r and z after σ, n after φ;
                                  # gh_n = W_hn h_{t-1} + b_hn, the term r multiplies, or
                                  # with reset_after=False r ⊙ h_{t-1}, for dW_hn
    W_ih: np.ndarray              # (3H, D)
    W_hh: np.ndarray              # (3H, H)
    has_bias: bool
    gate_activation: str
    cell_activation: str
    reset_after: bool
    mask: Optional[np.ndarray]    # (T, N, 1) of 0/1, or None
    output_mask: Optional[np.ndarray]   # (T, N, 1) s_t of (M1), or None (then s_t = m_t)
    reverse: bool


def gru_forward(x, h0, W_ih, W_hh, b_ih=None, b_hh=None, *, gate_activation="sigmoid",
                cell_activation="tanh", reset_after=True, mask=None, output_mask=None,
                reverse=False, keep_cache=True):
    """Run a GRU over a sequence.

    x (T, N, D), h0 (N, H), mask and output_mask (T, N, 1) or None (see (M1)).
    Returns y (T, N, H), h_n (N, H) and the cache for ``gru_backward`` (None with
    ``keep_cache=False``: inference keeps no per-step state).
    """
    T, N, D = x.shape
    H = W_hh.shape[0] // 3
    dtype = h0.dtype
    sigmoid = gate_activation == "sigmoid"                 # then r, z rows scaled by −1
    scale = np.ones((3 * H, 1), dtype)
    if sigmoid:
        scale[:2 * H] = -1
    # (1) r and z take both biases (b_hr, b_hz simply add to the input side); n only b_in
    bias = None
    if b_ih is not None:
        bias = b_ih.copy()
        bias[:2 * H] += b_hh[:2 * H]
        bias = (bias * scale[:, 0]).reshape(3, 1, H)
    W_in3 = np.ascontiguousarray((W_ih * scale).reshape(3, H, D).transpose(0, 2, 1))
    W_rec = (W_hh * scale).reshape(3, H, H).transpose(0, 2, 1)    # (3, H, H): h @ W_rec[k]
    W_rec3 = np.ascontiguousarray(W_rec if reset_after else W_rec[:2])
    W_hnT = None if reset_after else np.ascontiguousarray(W_rec[2])   # (R1) its own product
    b_hn = np.zeros((N, H), dtype) + (0 if b_hh is None else b_hh[2 * H:])   # (2), per step
    S, h_in, h_out = state_buffer(h0, T, reverse)          # h_0..h_T: the output, no copies
    if keep_cache:
        gates = np.empty((T, 4, N, H), dtype=dtype)       # r, z, gh_n, n for every t
        blocks = list(gates)
        parts = [(b[:3], b[:2], *b) for b in blocks]
    else:                                                  # one block, reused at every step
        blocks = [np.empty((4, N, H), dtype=dtype)] * T
        parts = [(blocks[0][:3], blocks[0][:2], *blocks[0])] * T
    views = list(zip(parts, h_in, h_out))                  # made once, not at every step
    done = None if mask is None else mask == 0             # (M1) the steps each row skips
    one = np.ones((2, N, H), dtype=dtype)                 # (faster than the scalar 1)
    phi = act.function(cell_activation, dtype, N * H)
    with np.errstate(over="ignore"):                       # sigmoid(-1000) = 1/(1+inf) = 0
        for lo, hi, steps in chunks(T, reverse, N, H):
            A = workspace("gru A", (3, (hi - lo) * N, H), dtype)    # (1) gi, one product
            np.matmul(x[lo:hi].reshape(-1, D), W_in3, out=A)         # per chunk
            if bias is not None:
                A += bias
            A_t = A.reshape(3, hi - lo, N, H).transpose(1, 0, 2, 3)  # (L, 3, N, H) view
            for t in steps:
                (rzg, rz, r, z, ghn, n), h_prev, h = views[t]   # rzg: gh_r, gh_z, gh_n
                gi = A_t[t - lo]
                if reset_after:
                    np.matmul(h_prev, W_rec3, out=rzg)     # (2) gh_r, gh_z, gh_n
                    ghn += b_hn                            # (2) gh_n with b_hn
                else:
                    np.matmul(h_prev, W_rec3, out=rz)      # (2) gh_r, gh_z
                rz += gi[:2]                               # (3) a_r, a_z
                if sigmoid:                                # (3) r, z: rows scaled by −1
                    np.exp(rz, out=rz)
                    rz += one
                    np.reciprocal(rz, out=rz)
                else:
                    act.apply(gate_activation, rz)
                if reset_after:
                    np.multiply(r, ghn, out=n)             # (4) r ⊙ gh_n
                else:
                    np.multiply(r, h_prev, out=ghn)        # (R1) r ⊙ h_{t-1}, kept
                    np.matmul(ghn, W_hnT, out=n)
                    n += b_hn
                n += gi[2]
                phi(n, n)                                  # (4) or (R1)
                np.subtract(h_prev, n, out=h)              # (5) as n + z ⊙ (h_{t-1} − n)
                h *= z
                h += n
                if done is not None:                       # (M1) masked steps keep h
                    np.copyto(h, h_prev, where=done[t])
    if output_mask is None:
        output_mask = mask
    y = h_out if output_mask is None else h_out * output_mask      # (M1) y_t = s_t ⊙ h_t
    if not keep_cache:
        return y, final_state(S, reverse), None
    cache = GRUCache(x, S, gates, W_ih, W_hh, b_ih is not None, gate_activation,
                     cell_activation, reset_after, mask, output_mask, reverse)
    return y, final_state(S, reverse), cache


def _local_derivatives(c, lo, hi, h_in):
    """The chunk's factors of "Backward" as one (L, 4, N, H) workspace, by whole-chunk passes
    over contiguous copies of its gates: torch's form K_r, K_z, K_hn, K_n (the order of the
    (N, 4H) rows the loop writes: dgh = r | z | n first, then da_n); Cho's form
    h_{t-1} ⊙ σ'(r) in place of K_r, r in place of K_hn."""
    L, _, N, H = c.gates[lo:hi].shape
    dtype = c.gates.dtype
    r, z, ghn, n = gates = workspace("gru gates", (4, L, N, H), dtype)
    np.copyto(gates, c.gates[lo:hi].transpose(1, 0, 2, 3))
    K4 = workspace("gru K4", (4, L, N, H), dtype)
    K_r, K_z, K_hn, K_n = K4
    h_prev = h_in[lo:hi]
    np.subtract(1, z, out=K_n)                             # (5') 1 − z
    act.backprop(c.cell_activation, n, K_n)                # (4') ⊙ φ'(n)
    np.subtract(h_prev, n, out=K_z)                        # (5') h_{t-1} − n
    act.backprop(c.gate_activation, z, K_z)                # (3') ⊙ σ'(z)
    if c.reset_after:
        np.multiply(K_n, ghn, out=K_r)                     # (4') ⊙ gh_n
        np.multiply(K_n, r, out=K_hn)                      # (2') ⊙ r
    else:
        np.copyto(K_r, h_prev)                             # (R1') dr = d(r ⊙ h) ⊙ h_{t-1}
        np.copyto(K_hn, r)                                 # (R1') d(r ⊙ h) ⊙ r to dh_next
    act.backprop(c.gate_activation, r, K_r)                # (3') ⊙ σ'(r)
    K = workspace("gru K", (L, 4, N, H), dtype)
    np.copyto(K, K4.transpose(1, 0, 2, 3))
    return K


def gru_backward(dy, dh_n, cache):
    """BPTT through a GRU sequence.

    dy (T, N, H), dh_n (N, H): gradients of the outputs and the final state (either may be
    None for zeros). Returns dx (T, N, D), dh0 (N, H) and a dict of parameter gradients.
    """
    c = cache
    T, N, D = c.x.shape
    H = c.S.shape[-1]
    dtype = c.S.dtype
    h_in, _ = split_states(c.S, c.reverse)
    s = c.output_mask
    dh_next = np.zeros((N, H), dtype) if dh_n is None else dh_n.copy()   # written in place
    dh = np.empty((N, H), dtype=dtype)
    D4 = np.empty((4, N, H), dtype=dtype)                 # da_r, da_z, dgh_n, da_n (torch)
    D4_rows = D4.transpose(1, 0, 2)                       # the same as (N, 4, H)
    dz_h = np.empty((N, H), dtype=dtype)                  # dh ⊙ z
    W_hn = c.W_hh[2 * H:]
    dx = np.empty((T, N, D), dtype=dtype)
    dW_ih = np.zeros((3 * H, D), dtype)
    dW_hh = np.zeros((3 * H, H), dtype)
    db_ih, db_hh = np.zeros(3 * H, dtype), np.zeros(3 * H, dtype)
    for lo, hi, steps in chunks(T, not c.reverse, N, H):  # the forward's steps, backwards
        L = hi - lo
        K = _local_derivatives(c, lo, hi, h_in)
        Z = c.gates[lo:hi, 1]
        G = workspace("gru dG", (L, N, 4 * H), dtype)     # rows dgh (r | z | n) | da_n
        G_gates = G.reshape(L, N, 4, H)                   # G[k] seen gate by gate
        for t in steps:
            k = t - lo
            upstream(dy, s, t, dh_next, out=dh)            # (M1') s_t ⊙ dy_t + dh_next
            if c.mask is not None:                         # (M1')
                dh_skip = dh * (1 - c.mask[t])
                dh *= c.mask[t]
            row = G[k]
            np.multiply(dh, Z[k], out=dz_h)                # (5') dh ⊙ z, to dh_next
            if c.reset_after:
                np.multiply(dh, K[k], out=D4)              # (3')(4')(2') all four at once
                np.copyto(G_gates[k], D4_rows)
                np.matmul(row[:, :3 * H], c.W_hh, out=dh_next)   # (1') through the gates
            else:
                np.multiply(dh, K[k, 1], out=D4[1])        # (3') da_z
                np.multiply(dh, K[k, 3], out=D4[3])        # (4') da_n
                d_rh = D4[3] @ W_hn                        # (R1') d(r ⊙ h)
                np.multiply(d_rh, K[k, 0], out=D4[0])      # (R1')(3') da_r
                np.copyto(D4[2], D4[3])                    # (R1') dgh_n = da_n
                np.copyto(G_gates[k], D4_rows)
                np.matmul(row[:, :2 * H], c.W_hh[:2 * H], out=dh_next)   # (1') r and z
                d_rh *= K[k, 2]                            # (R1') d(r ⊙ h) ⊙ r
                dh_next += d_rh
            dh_next += dz_h                                # (5')
            if c.mask is not None:
                dh_next += dh_skip
        rows = G.reshape(L * N, 4 * H)                    # (1') one product each per chunk
        gi_rz, gi_n = rows[:, :2 * H], rows[:, 3 * H:]     # dgi = da_r | da_z | da_n
        X = c.x[lo:hi].reshape(L * N, D)
        dxc = dx[lo:hi].reshape(L * N, D)
        np.matmul(gi_rz, c.W_ih[:2 * H], out=dxc)
        dxc += gi_n @ c.W_ih[2 * H:]
        dW_ih[:2 * H] += gi_rz.T @ X
        dW_ih[2 * H:] += gi_n.T @ X
        if c.reset_after:                                  # dgh = da_r | da_z | r ⊙ da_n
            dW_hh += rows[:, :3 * H].T @ h_in[lo:hi].reshape(L * N, H)
        else:                                              # (R1') rows n: Σ da_nᵀ (r ⊙ h)
            dW_hh[:2 * H] += gi_rz.T @ h_in[lo:hi].reshape(L * N, H)
            dW_hh[2 * H:] += gi_n.T @ c.gates[lo:hi, 2].reshape(L * N, H)
        if c.has_bias:
            sums = rows.sum(axis=0)
            db_ih[:2 * H] += sums[:2 * H]
            db_ih[2 * H:] += sums[3 * H:]
            db_hh += sums[:3 * H]
    grads = {"W_ih": dW_ih, "W_hh": dW_hh}
    if c.has_bias:
        grads["b_ih"], grads["b_hh"] = db_ih, db_hh
    return dx, dh_next, grads
