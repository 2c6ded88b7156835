"""LSTM: forward over a sequence and its BPTT backward.

Shapes: T time steps, N batch, D input features, H hidden (cell) units, P the size of h
(P = H, or proj_size when the LSTM has a projection). Gate blocks in torch order i | f | g | o:
W_ih (4H, D), W_hh (4H, P), b_ih (4H,), b_hh (4H,), W_hr (P, H) only with a projection.
w_ci, w_cf, w_co (H,) only with peepholes. σ is the gate activation (sigmoid, or hard_sigmoid,
step, tanh, relu, identity), φ the cell activation (tanh, or identity, relu, sigmoid,
hard_sigmoid); the defaults give the standard LSTM.

Forward, for t = 1..T (or T..1 for the reverse direction):
  (1) a = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh          (N, 4H), blocks a_i a_f a_g a_o
  (2) i, f, o = σ(a_i), σ(a_f), σ(a_o)                     (N, H) each
  (3) g = φ(a_g)                                           (N, H)
  (4) c_t = f ⊙ c_{t-1} + i ⊙ g                            (N, H)
  (5) h_t = o ⊙ φ(c_t)                                     (N, H)
  (P1) with a projection: h_t = (o ⊙ φ(c_t)) W_hrᵀ          (N, P)
  (M1) with a mask m_t: a step with m_t = 0 keeps h_{t-1}, c_{t-1}; y_t = s_t ⊙ h_t, where
       s_t = m_t (lengths: outputs past the end are 0) or s_t = 1 from the first step with
       m_t = 1 on (a per-step mask: the kept h repeats the last unmasked output)
  (C1) with peepholes: a_i += w_ci ⊙ c_{t-1} and a_f += w_cf ⊙ c_{t-1} before (2), and
       a_o += w_co ⊙ c_t after (4): o looks at the new cell state

Backward, given dy_t from above and dh_next, dc_next flowing back from step t+1 (they start
as the gradients of h_n and c_n):
  (M1') dh = m_t ⊙ (s_t ⊙ dy_t + dh_next); (1 − m_t) ⊙ dh and (1 − m_t) ⊙ dc_next skip
       the step
  (P1') with a projection: dW_hr += dhᵀ (o ⊙ φ(c_t));  dh ← dh W_hr          (N, P) -> (N, H)
  (5') do = dh ⊙ φ(c_t);  dc = dc_next + dh ⊙ o ⊙ φ'(c_t)
  (4') di = dc ⊙ g;  df = dc ⊙ c_{t-1};  dg = dc ⊙ i;  dc_next ← dc ⊙ f
  (2')(3') da = [di ⊙ σ'(a_i) | df ⊙ σ'(a_f) | dg ⊙ φ'(a_g) | do ⊙ σ'(a_o)]
  (1') dx_t = da W_ih;  dh_next ← da W_hh;
       dW_ih = Σ_t daᵀ x_t;  dW_hh = Σ_t daᵀ h_{t-1};  db_ih = db_hh = Σ_t Σ_n da
  (C1') with peepholes: da_o = do ⊙ σ'(a_o) first, and dc += da_o ⊙ w_co in (5');
       dc_next += da_i ⊙ w_ci + da_f ⊙ w_cf in (4');
       dw_ci = Σ da_i ⊙ c_{t-1};  dw_cf = Σ da_f ⊙ c_{t-1};  dw_co = Σ da_o ⊙ c_t  (Σ over t, n)

Every σ' and φ' is taken from the activation's output (σ' = σ(1 − σ), tanh' = 1 − tanh²),
so the forward keeps the activated gates, never the pre-activations; the backward recomputes
φ(c_t) from c_t rather than keep it. The cell state's update (4) is additive, so its backward
(4') only multiplies, dc_next ← dc ⊙ f: gradients survive many steps when f stays near 1.

How the engine arranges this (the numbers are the textbook's, to rounding):
- Layout. Each step's gates are kept gate by gate, one (4, N, H) block in torch's order
  i, f, g, o, so every elementwise line runs on a contiguous (N, H) array (a NumPy call on a
  contiguous array costs a third to a half of the same call on a column slice of (N, 4H)).
  The forward's h_{t-1} W_hhᵀ is one batched product, h @ W4 with W4 (4, P, H), writing each
  gate's block in place; the backward's da W_hh reads da as one (N, 4H) row block.
- One exp for all four gates. With the default σ = sigmoid and φ = tanh (and no peepholes),
  the rows of W_ih, W_hh and the bias are scaled once per sequence by −1 (i, f, o) and −2 (g),
  so that a step's (1) gives −a_i, −a_f, −2a_g, −a_o, and one pass e = exp(·), then
  1 / (1 + e), gives σ(a_i), σ(a_f), σ(2a_g), σ(a_o) at once; tanh(a_g) = 2σ(2a_g) − 1.
  (Scaling by −1 and −2 is exact in floating point.)
- Chunks (_sequence.chunks). The loop runs over chunks of steps holding about 2¹⁷ numbers
  of state each (steps × batch × H; 512 rows of 256 units): the input half of (1) is one
  matrix product per chunk into a reused workspace; inference keeps no per-step cache, so
  its memory does not grow with T beyond the output.
- Backward. Only dh and dc have to be carried step by step. Everything (2')-(5') multiply
  them by is known from the forward, so it is computed for a whole chunk in a few passes
  before the chunk's loop (``_local_derivatives``):
      K_o = φ(c_t) ⊙ σ'(o)       da_o = dh ⊙ K_o                       (5')(2')
      K_c = o ⊙ φ'(c_t)          dc   = dc_next + dh ⊙ K_c             (5')
      K_i = g ⊙ σ'(i)            da_i = dc ⊙ K_i                       (4')(2')
      K_f = c_{t-1} ⊙ σ'(f)      da_f = dc ⊙ K_f                       (4')(2')
      K_g = i ⊙ φ'(g)            da_g = dc ⊙ K_g                       (4')(3')
  and the loop keeps seven NumPy calls per step: dh; da_o and dh ⊙ K_c together (K_o and
  K_c side by side); dc; da_i, da_f and da_g together; dc_next ← dc ⊙ f; the copy of da into
  the (N, 4H) rows the product reads; and the product dh_next ← da W_hh. dx, dW_ih, dW_hh
  and db are one product each per chunk.

The readable version is minirnn/textbook/lstm.py, the standard cell ((1)-(5) and their
primes), and minirnn/textbook/variants/lstm.py, the options (P1, M1, C1); the equation
numbers refer to them.
"""
import functools
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import activations as act
from ._sequence import (chunks, final_state, split_states, state_buffer, transposed,
                        upstream, workspace)


def _peepholes(w_ci, w_cf, w_co):
    """(3, 1, H) array of w_ci, w_cf, w_co (broadcasting over the batch), or None for none."""
    given = [w is not None for w in (w_ci, w_cf, w_co)]
    if not any(given):
        return None
    if not all(given):
        raise ValueError("expected the peephole weights w_ci, w_cf, w_co all three or none")
    return np.stack([w_ci, w_cf, w_co])[:, None, :]


@functools.lru_cache(maxsize=None)
def _gate_scale(H, dtype):
    """(4H, 1) column: −1 on the rows of i, f, o and −2 on those of g (see "One exp"); made
    once per H and dtype (a cell's single step would otherwise spend 5% of its time here)."""
    scale = np.repeat(np.array([-1.0, -1.0, -2.0, -1.0], dtype), H)[:, None]
    scale.flags.writeable = False
    return scale


@dataclass
class LSTMCache:
    """What the backward pass needs from one forward pass over a sequence."""
    x: np.ndarray                 # (T, N, D) inputs
    S: np.ndarray                 # (T+1, N, P) h_0 and every h_t
    C: np.ndarray                 # (T+1, N, H) c_0 and every c_t
    gates: np.ndarray             # (T, 4, N, H) i, f, g, o after their activations
    W_ih: np.ndarray              # (4H, D)
    W_hh: np.ndarray              # (4H, P)
    W_hr: Optional[np.ndarray]    # (P, H) or None
    peep: Optional[np.ndarray]    # (3, 1, H): w_ci, w_cf, w_co, or None
    has_bias: bool
    gate_activation: str
    cell_activation: str
    mask: Optional[np.ndarray]    # (T, N, 1) m_t of 0/1, or None
    output_mask: Optional[np.ndarray]   # (T, N, 1) s_t of (M1), or None
    reverse: bool


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih=None, b_hh=None, W_hr=None, *,
                 gate_activation="sigmoid", cell_activation="tanh", w_ci=None, w_cf=None,
                 w_co=None, mask=None, output_mask=None, reverse=False, keep_cache=True):
    """Run an LSTM over a sequence.

    x (T, N, D), h0 (N, P), c0 (N, H), w_ci, w_cf, w_co (H,) all three or none (peepholes,
    (C1)), mask and output_mask (T, N, 1) or None (see (M1); output_mask None: s_t = m_t).
    Returns y (T, N, P), h_n (N, P), c_n (N, H) and the cache for ``lstm_backward``, or None
    with ``keep_cache=False`` (inference: no per-step state is kept).
    """
    T, N, D = x.shape
    H = W_hh.shape[0] // 4
    dtype = c0.dtype
    peep = _peepholes(w_ci, w_cf, w_co)
    fused = gate_activation == "sigmoid" and cell_activation == "tanh" and peep is None
    bias = None if b_ih is None else b_ih + b_hh           # (1) the biases only appear summed
    W_in, W_rec = W_ih, W_hh
    if fused:                                              # "One exp": scaled rows
        scale = _gate_scale(H, np.dtype(dtype))
        W_in, W_rec = W_ih * scale, W_hh * scale
        bias = None if bias is None else bias * scale[:, 0]
    W_in4, W_rec4 = _by_gate(W_in), _by_gate(W_rec)        # (4, D, H), (4, P, H): "Layout"
    bias4 = None if bias is None else bias.reshape(4, 1, H)
    W_hrT = None if W_hr is None else transposed(W_hr)     # (P1) contiguous: faster matmul
    S, h_in, h_out = state_buffer(h0, T, reverse)          # h_0..h_T: the output, no copies
    if keep_cache:
        gates = np.empty((T, 4, N, H), dtype=dtype)       # (2)(3) for every t, for backward
        C, c_in, c_out = state_buffer(c0, T, reverse)      # c_0..c_T likewise
        blocks = list(gates)
    else:                                                  # one gate block, two cell states
        blocks = [np.empty((4, N, H), dtype=dtype)] * T   #   taking turns
        pair = np.empty((2, N, H), dtype=dtype)
        c_in, c_out = [None] * T, [None] * T
        for k, t in enumerate(range(T - 1, -1, -1) if reverse else range(T)):
            c_in[t], c_out[t] = pair[k % 2], pair[1 - k % 2]
        pair[0] = c0
    done = None if mask is None else mask == 0             # (M1) the steps each row skips
    tc = np.empty((N, H), dtype=dtype)                    # φ(c_t), then o ⊙ φ(c_t)
    i_g = np.empty((N, H), dtype=dtype)                   # i ⊙ g
    one = np.ones((4, N, H), dtype=dtype)                 # (NumPy is faster with an array
    phi = act.function(cell_activation, dtype, N * H)      #   than with the scalar 1)
    parts = [tuple(b) for b in blocks] if keep_cache else [tuple(blocks[0])] * T
    views = list(zip(blocks, parts, h_in, h_out, c_in, c_out))   # made once, not every step
    with np.errstate(over="ignore"):                       # sigmoid(-1000) = 1/(1+inf) = 0
        for lo, hi, steps in chunks(T, reverse, N, H):
            A = workspace("lstm A", (4, (hi - lo) * N, H), dtype)   # (1) input half, one
            np.matmul(x[lo:hi].reshape(-1, D), W_in4, out=A)        # product per chunk
            if bias4 is not None:
                A += bias4
            A_t = A.reshape(4, hi - lo, N, H).transpose(1, 0, 2, 3)   # (L, 4, N, H) view
            for t in steps:
                a, (i, f, g, o), h_prev, h, c_prev, c = views[t]     # a: (4, N, H)
                np.matmul(h_prev, W_rec4, out=a)           # (1) recurrent half, gate by gate
                a += A_t[t - lo]                           # (1) plus the input half
                if fused:                                  # (2)(3) one exp, all four gates
                    np.exp(a, out=a)
                    a += one
                    np.reciprocal(a, out=a)
                    g += g                                 # (3) tanh(a_g) = 2σ(2a_g) − 1
                    g -= one[0]
                else:
                    if peep is not None:
                        a[:2] += peep[:2] * c_prev         # (C1) a_i, a_f see c_{t-1}
                    act.apply(gate_activation, a[:2])      # (2) i, f
                    act.apply(cell_activation, g)          # (3) g
                    if peep is None:
                        act.apply(gate_activation, o)      # (2) o
                np.multiply(f, c_prev, out=c)              # (4)
                c += np.multiply(i, g, out=i_g)
                if peep is not None:
                    o += peep[2] * c                       # (C1) a_o sees c_t
                    act.apply(gate_activation, o)          # (2) o
                phi(c, tc)                                 # (5) φ(c_t)
                if W_hr is None:
                    np.multiply(o, tc, out=h)              # (5)
                else:
                    np.matmul(np.multiply(o, tc, out=tc), W_hrT, out=h)   # (P1)
                if done is not None:                       # (M1) masked steps keep the state
                    np.copyto(h, h_prev, where=done[t])
                    np.copyto(c, c_prev, where=done[t])
    if output_mask is None:
        output_mask = mask
    y = h_out if output_mask is None else h_out * output_mask      # (M1) y_t = s_t ⊙ h_t
    h_n = final_state(S, reverse)
    if not keep_cache:
        return y, h_n, pair[T % 2].copy(), None
    cache = LSTMCache(x, S, C, gates, W_ih, W_hh, W_hr, peep, b_ih is not None,
                      gate_activation, cell_activation, mask, output_mask, reverse)
    return y, h_n, final_state(C, reverse), cache


def _by_gate(W):
    """(4H, K) weight rows -> (4, K, H): gate k's block transposed, contiguous, so that one
    batched product x @ W4 writes every gate's (N, H) block of (1) in place."""
    H = W.shape[0] // 4
    return np.ascontiguousarray(W.reshape(4, H, -1).transpose(0, 2, 1))


def _local_derivatives(cc, lo, hi, c_in, c_out):
    """K_i, K_f, K_g, K_o, K_c (see "Backward") of the steps lo..hi−1 as one (L, 5, N, H)
    workspace (L = hi − lo), and φ(c_t) as another (L, N, H), by whole-chunk passes.

    The passes run on contiguous (L, N, H) arrays (the same pass over a gate's strided slice
    of the cache costs several times more), so the chunk's gates are first copied out gate by
    gate, and the results copied into the step-major layout the loop reads, one copy each."""
    L, _, N, H = cc.gates[lo:hi].shape
    dtype = cc.gates.dtype
    i, f, g, o = gates = workspace("lstm gates", (4, L, N, H), dtype)
    np.copyto(gates, cc.gates[lo:hi].transpose(1, 0, 2, 3))
    K5 = workspace("lstm K5", (5, L, N, H), dtype)
    K_i, K_f, K_g, K_o, K_c = K5
    tc = workspace("lstm tc", (L, N, H), dtype)
    c_prev = c_in[lo:hi]
    act.apply(cc.cell_activation, c_out[lo:hi], out=tc)    # φ(c_t)
    if cc.gate_activation == "sigmoid" and cc.cell_activation == "tanh":
        np.subtract(1, o, out=K_o)                         # σ' = σ(1 − σ), tanh' = 1 − tanh²
        K_o *= o
        K_o *= tc                                          # φ(c_t) ⊙ σ'(o)
        np.multiply(tc, tc, out=K_c)
        np.subtract(1, K_c, out=K_c)
        K_c *= o                                           # o ⊙ φ'(c_t)
        np.subtract(1, i, out=K_i)
        K_i *= i
        K_i *= g                                           # g ⊙ σ'(i)
        np.subtract(1, f, out=K_f)
        K_f *= f
        K_f *= c_prev                                      # c_{t-1} ⊙ σ'(f)
        np.multiply(g, g, out=K_g)
        np.subtract(1, K_g, out=K_g)
        K_g *= i                                           # i ⊙ φ'(g)
    else:                                                  # any activations: f' from f's output
        for K_j, value, y, name in ((K_o, tc, o, cc.gate_activation),
                                    (K_c, o, tc, cc.cell_activation),
                                    (K_i, g, i, cc.gate_activation),
                                    (K_f, c_prev, f, cc.gate_activation),
                                    (K_g, i, g, cc.cell_activation)):
            np.copyto(K_j, value)
            act.backprop(name, y, K_j)
    K = workspace("lstm K", (L, 5, N, H), dtype)
    np.copyto(K, K5.transpose(1, 0, 2, 3))
    return K, tc


def lstm_backward(dy, dh_n, dc_n, cache):
    """BPTT through an LSTM sequence.

    dy (T, N, P), dh_n (N, P), dc_n (N, H): gradients of the outputs and final states (any
    may be None for zeros). Returns dx (T, N, D), dh0 (N, P), dc0 (N, H) and a dict of
    parameter gradients.
    """
    cc = cache
    T, N, D = cc.x.shape
    H = cc.C.shape[-1]
    P = cc.S.shape[-1]
    dtype = cc.S.dtype
    h_in, _ = split_states(cc.S, cc.reverse)
    c_in, c_out = split_states(cc.C, cc.reverse)
    peep, W_hr, s = cc.peep, cc.W_hr, cc.output_mask
    dh_next = np.zeros((N, P), dtype) if dh_n is None else dh_n.copy()   # written in place
    dc_next = np.zeros((N, H), dtype) if dc_n is None else dc_n.copy()
    dh = np.empty((N, P), dtype=dtype)                    # (M1') dh of the current step
    B = np.empty((5, N, H), dtype=dtype)                  # da_i, da_f, da_g, da_o and dc
    ifg, oc, da_i, da_f, da_o, dc = B[:3], B[3:], B[0], B[1], B[3], B[4]
    dG_rows = B[:4].transpose(1, 0, 2)                    # da_i..da_o as (N, 4, H)
    dx = np.empty((T, N, D), dtype=dtype)
    grads = {"W_ih": np.zeros((4 * H, D), dtype), "W_hh": np.zeros((4 * H, P), dtype)}
    db = np.zeros(4 * H, dtype)
    if W_hr is not None:
        grads["W_hr"] = np.zeros((P, H), dtype)
    if peep is not None:
        dpeep = np.zeros((3, H), dtype)                   # dw_ci, dw_cf, dw_co
    for lo, hi, steps in chunks(T, not cc.reverse, N, H):    # the forward's steps, backwards
        L = hi - lo
        K, tc = _local_derivatives(cc, lo, hi, c_in, c_out)
        F = cc.gates[lo:hi, 1]                            # f, for dc_next ← dc ⊙ f
        dA = workspace("lstm dA", (L, N, 4 * H), dtype)   # da of the chunk's steps: (1')
        dHp = None if W_hr is None else workspace("lstm dHp", (L, N, P), dtype)
        K_oc, K_ifg = K[:, 3:], K[:, :3]                # multiply dh, and dc: see "Backward"
        dA_gates = dA.reshape(L, N, 4, H)                 # dA[k] seen gate by gate
        for t in steps:
            k = t - lo
            upstream(dy, s, t, dh_next, out=dh)            # (M1') s_t ⊙ dy_t + dh_next
            if cc.mask is not None:                        # (M1')
                m = cc.mask[t]
                dh_skip, dc_skip = dh * (1 - m), dc_next * (1 - m)
                dh *= m
                dc_next *= m
            dhc = dh                                       # dh as the cell sees it, (N, H)
            if W_hr is not None:                           # (P1')
                dHp[k] = dh
                dhc = dh @ W_hr
            np.multiply(dhc, K_oc[k], out=oc)              # (5')(2') da_o; (5') dh ⊙ K_c
            dc += dc_next                                  # (5') dc
            if peep is not None:
                dc += da_o * peep[2]                       # (C1')
            np.multiply(dc, K_ifg[k], out=ifg)             # (4')(2')(3') da_i, da_f, da_g
            np.multiply(dc, F[k], out=dc_next)             # (4') carried to step t−1
            if peep is not None:
                dc_next += da_i * peep[0]                  # (C1')
                dc_next += da_f * peep[1]
            np.copyto(dA_gates[k], dG_rows)                # (1') the products need da as
            np.matmul(dA[k], cc.W_hh, out=dh_next)         #   one (N, 4H) row block
            if cc.mask is not None:
                dh_next += dh_skip
                dc_next += dc_skip
        rows = dA.reshape(L * N, 4 * H)                   # (1') one product each per chunk
        np.matmul(rows, cc.W_ih, out=dx[lo:hi].reshape(L * N, D))
        grads["W_ih"] += rows.T @ cc.x[lo:hi].reshape(L * N, D)
        grads["W_hh"] += rows.T @ h_in[lo:hi].reshape(L * N, P)
        if cc.has_bias:
            db += rows.sum(axis=0)
        if W_hr is not None:                               # (P1') Σ_t dhᵀ (o ⊙ φ(c_t))
            np.multiply(cc.gates[lo:hi, 3], tc, out=tc)
            grads["W_hr"] += dHp.reshape(L * N, P).T @ tc.reshape(L * N, H)
        if peep is not None:                               # (C1') Σ over t and n
            dA4 = dA.reshape(L, N, 4, H)
            dpeep[0] += np.einsum("tnh,tnh->h", dA4[:, :, 0], c_in[lo:hi])
            dpeep[1] += np.einsum("tnh,tnh->h", dA4[:, :, 1], c_in[lo:hi])
            dpeep[2] += np.einsum("tnh,tnh->h", dA4[:, :, 3], c_out[lo:hi])
    if cc.has_bias:
        grads["b_ih"], grads["b_hh"] = db, db.copy()
    if peep is not None:
        grads["w_ci"], grads["w_cf"], grads["w_co"] = dpeep[0], dpeep[1], dpeep[2]
    return dx, dh_next, dc_next, grads


def lstm_gates(cache):
    """The gates of an ``lstm_forward``, for inspection (a copy: the cache stays as it is).

    A dict of arrays i, f, g, o (after their activations) and c (c_t, after (M1)), each
    (T, N, H), in input time order: index t is the step that read x[t], for reverse too.
    The cache keeps the gates as (T, 4, N, H) in the order i, f, g, o (see Layout above) and
    c_t in the state buffer C (T+1, N, H), whose first or last row is c_0.
    """
    gates = {name: cache.gates[:, k].copy() for k, name in enumerate("ifgo")}
    _, c_out = split_states(cache.C, cache.reverse)
    gates["c"] = c_out.copy()
    return gates
