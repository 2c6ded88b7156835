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
  (6) with a projection: h_t = (o ⊙ φ(c_t)) W_hrᵀ          (N, P)
  (7) with a mask m_t: a step with m_t = 0 keeps h_{t-1}, c_{t-1}; y_t = s_t ⊙ h_t, where
       s_t = m_t (lengths: outputs past the end are 0) or s_t = 1 from the first step with
       m_t = 1 on (a per-step mask: the kept h repeats the last unmasked output)
  (8) with peepholes: a_i += w_ci ⊙ c_{t-1} and a_f += w_cf ⊙ c_{t-1} before (2), and
       a_o += w_co ⊙ c_t after (4): o looks at the new cell state

Backward, given dy_t from above and dh_next, dc_next flowing back from step t+1 (they start
as the gradients of h_n and c_n):
  (7') dh = m_t ⊙ (s_t ⊙ dy_t + dh_next); (1 − m_t) ⊙ dh and (1 − m_t) ⊙ dc_next skip the step
  (6') with a projection: dW_hr += dhᵀ (o ⊙ φ(c_t));  dh ← dh W_hr          (N, P) -> (N, H)
  (5') do = dh ⊙ φ(c_t);  dc = dc_next + dh ⊙ o ⊙ φ'(c_t)
  (4') di = dc ⊙ g;  df = dc ⊙ c_{t-1};  dg = dc ⊙ i;  dc_next ← dc ⊙ f
  (2')(3') da = [di ⊙ σ'(a_i) | df ⊙ σ'(a_f) | dg ⊙ φ'(a_g) | do ⊙ σ'(a_o)]
  (1') dx_t = da W_ih;  dh_next ← da W_hh;
       dW_ih = Σ_t daᵀ x_t;  dW_hh = Σ_t daᵀ h_{t-1};  db_ih = db_hh = Σ_t Σ_n da
  (8') with peepholes: da_o = do ⊙ σ'(a_o) first, and dc += da_o ⊙ w_co in (5');
       dc_next += da_i ⊙ w_ci + da_f ⊙ w_cf in (4');
       dw_ci = Σ da_i ⊙ c_{t-1};  dw_cf = Σ da_f ⊙ c_{t-1};  dw_co = Σ da_o ⊙ c_t  (Σ over t, n)

Every σ' and φ' is taken from the activation's output (σ' = σ(1 − σ), tanh' = 1 − tanh²),
so the forward keeps the activated gates, never the pre-activations; the backward recomputes
φ(c_t) from c_t (one call per step) rather than keep it. The cell state's update (4) is
additive, so its backward (4') only multiplies, dc_next ← dc ⊙ f: gradients survive many steps
when f stays near 1.

Layout. Each step's gates are kept gate by gate, as one (4, N, H) block in the order
i, f, o, g (not torch's i, f, g, o): every gate is then a contiguous (N, H) array, and the
three σ gates form one (3, N, H) block, so σ runs once over them and φ once over g. (On small
layers a NumPy call on a contiguous array costs about a third of the same call on a column
slice of an (N, 4H) array.) The rows of W_ih, W_hh and the bias are put in this order once
per sequence (``_ifog``); the products that need the gates side by side, h W_hhᵀ and da W_hh,
see them as an (N, 4H) row block; and the weight gradients go back to torch's order at the
end. Only the places of the numbers change, not their values.

The readable version is minirnn/textbook/lstm.py; the equation numbers refer to it. As in
rnn.py, dW_ih, dW_hh and dx come from single matrix products after the loop.
"""
import functools
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import activations as act
from ._sequence import (final_state, input_grad, project_inputs, split_states, state_buffer,
                        time_steps, transposed, weight_grad)


@functools.lru_cache(maxsize=None)
def _ifog(H):
    """Row orders between torch's gate blocks i | f | g | o and i | f | o | g: (there, back).
    Made once per H (a short sequence would otherwise spend 5% of its time here)."""
    there = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]
    back = np.argsort(there)
    there.flags.writeable = back.flags.writeable = False
    return there, back


def _peepholes(w_ci, w_cf, w_co):
    """(3, 1, H) array of w_ci, w_cf, w_co (broadcasting over the batch), or None for none."""
    given = [w is not None for w in (w_ci, w_cf, w_co)]
    if not any(given):
        return None
    if not all(given):
        raise ValueError("expected the peephole weights w_ci, w_cf, w_co all three or none")
    return np.stack([w_ci, w_cf, w_co])[:, None, :]


@dataclass
class LSTMCache:
    """What the backward pass needs from one forward pass over a sequence."""
    x: np.ndarray                 # (T, N, D) inputs
    S: np.ndarray                 # (T+1, N, P) h_0 and every h_t
    C: np.ndarray                 # (T+1, N, H) c_0 and every c_t
    gates: np.ndarray             # (T, 4, N, H) i, f, o, g after their activations
    W_ih: np.ndarray              # (4H, D) rows in the order i | f | o | g
    W_hh: np.ndarray              # (4H, P) rows in the order i | f | o | g
    W_hr: Optional[np.ndarray]    # (P, H) or None
    peep: Optional[tuple]         # (w_ci, w_cf, w_co), each (H,), or None
    has_bias: bool
    gate_activation: str
    cell_activation: str
    mask: Optional[np.ndarray]    # (T, N, 1) m_t of 0/1, or None
    output_mask: Optional[np.ndarray]   # (T, N, 1) s_t of (7), or None
    reverse: bool


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih=None, b_hh=None, W_hr=None, *,
                 gate_activation="sigmoid", cell_activation="tanh", w_ci=None, w_cf=None,
                 w_co=None, mask=None, output_mask=None, reverse=False):
    """Run an LSTM over a sequence.

    x (T, N, D), h0 (N, P), c0 (N, H), w_ci, w_cf, w_co (H,) all three or none (peepholes,
    (8)), mask and output_mask (T, N, 1) or None (see (7); output_mask None: s_t = m_t).
    Returns y (T, N, P), h_n (N, P), c_n (N, H) and the cache for ``lstm_backward``
    (whose ``gates`` (T, 4, N, H), in the order i, f, o, g, and ``C`` arrays also serve for
    inspecting the gates).
    """
    T, N, _ = x.shape
    H = W_hh.shape[0] // 4
    peep = _peepholes(w_ci, w_cf, w_co)
    IFOG, _ = _ifog(H)
    W_ih, W_hh = W_ih[IFOG], W_hh[IFOG]                    # (1) copies, rows i|f|o|g (Layout)
    bias = None if b_ih is None else (b_ih + b_hh)[IFOG]   # (1) the biases only appear summed
    A_in = project_inputs(x, W_ih, bias)                   # (1) input half: one matmul, all t
    gates = np.empty((T, 4) + c0.shape, dtype=c0.dtype)   # (T, 4, N, H): (2)(3), for backward
    S, h_in, h_out = state_buffer(h0, T, reverse)          # h_0..h_T in one buffer, no copies
    C, c_in, c_out = state_buffer(c0, T, reverse)          # c_0..c_T likewise
    tc = np.empty(c0.shape, dtype=c0.dtype)               # φ(c_t) of the current step
    W_hhT = transposed(W_hh)                               # contiguous: faster per-step matmul
    W_hrT = None if W_hr is None else transposed(W_hr)     # (6) likewise
    i_g = np.empty(c0.shape, dtype=c0.dtype)              # scratch for i ⊙ g
    with np.errstate(over="ignore"):                       # sigmoid(-1000) = 1/(1+inf) = 0
        for t in time_steps(T, reverse):
            a = gates[t]                                   # (4, N, H): a_i, a_f, a_o, a_g
            recurrent = h_in[t] @ W_hhT                    # (1) recurrent half, (N, 4H)
            np.add(A_in[t].reshape(N, 4, H), recurrent.reshape(N, 4, H),
                   out=a.transpose(1, 0, 2))               # (1) both halves, gate by gate
            if peep is None:
                act.apply(gate_activation, a[:3])          # (2) i, f, o: one call, one block
            else:
                a[:2] += peep[:2] * c_in[t]                # (8) a_i, a_f see c_{t-1}
                act.apply(gate_activation, a[:2])          # (2) i, f (o after (4))
            act.apply(cell_activation, a[3])               # (3) g
            i, f, o, g = a
            c = np.multiply(f, c_in[t], out=c_out[t])      # (4)
            c += np.multiply(i, g, out=i_g)
            if peep is not None:
                o += peep[2] * c                           # (8) a_o sees c_t
                act.apply(gate_activation, o)              # (2) o
            act.apply(cell_activation, c, out=tc)          # (5) φ(c_t)
            if W_hr is None:
                h = np.multiply(o, tc, out=h_out[t])       # (5)
            else:
                h = np.matmul(o * tc, W_hrT, out=h_out[t])     # (6)
            if mask is not None:                           # (7) masked steps keep the state
                done = mask[t] == 0
                np.copyto(h, h_in[t], where=done)
                np.copyto(c, c_in[t], where=done)
    if output_mask is None:
        output_mask = mask
    y = h_out if output_mask is None else h_out * output_mask      # (7) y_t = s_t ⊙ h_t
    cache = LSTMCache(x, S, C, gates, W_ih, W_hh, W_hr, peep, b_ih is not None,
                      gate_activation, cell_activation, mask, output_mask, reverse)
    return y, final_state(S, reverse), final_state(C, reverse), cache


def lstm_backward(dy, dh_n, dc_n, cache):
    """BPTT through an LSTM sequence.

    dy (T, N, P), dh_n (N, P), dc_n (N, H): gradients of the outputs and final states (any
    may be None for zeros). Returns dx (T, N, D), dh0 (N, P), dc0 (N, H) and a dict of
    parameter gradients.
    """
    cc = cache
    T, N, _ = cc.x.shape
    H = cc.C.shape[-1]
    P = cc.S.shape[-1]
    dtype = cc.S.dtype
    h_in, _ = split_states(cc.S, cc.reverse)
    c_in, c_out = split_states(cc.C, cc.reverse)
    gact, cact = cc.gate_activation, cc.cell_activation
    dG = np.empty((4, N, H), dtype=dtype)                 # (2')(3') da of one step, by gate
    di, df, do, dg = dG
    dA = np.empty((T, N, 4 * H), dtype=dtype)             # da for every t, rows i|f|o|g: (1')
    tc = np.empty((N, H), dtype=dtype)                    # φ(c_t) of the current step
    dHp = OT = None                                        # with a projection: dh and
    if cc.W_hr is not None:                                #   o ⊙ φ(c_t) for every t
        dHp, OT = np.empty((T, N, P), dtype=dtype), np.empty((T, N, H), dtype=dtype)
    dh_next = np.zeros((N, P), dtype) if dh_n is None else dh_n
    dc_next = np.zeros((N, H), dtype) if dc_n is None else dc_n
    peep = cc.peep
    for t in reversed(time_steps(T, cc.reverse)):
        if dy is None:
            dh = dh_next
        else:                                              # (7') s_t ⊙ dy_t + dh_next
            dh = (dy[t] if cc.output_mask is None else dy[t] * cc.output_mask[t]) + dh_next
        if cc.mask is not None:                            # (7')
            m = cc.mask[t]
            dh_skip, dc_skip = dh * (1 - m), dc_next * (1 - m)
            dh, dc_next = dh * m, dc_next * m
        a = cc.gates[t]
        i, f, o, g = a
        act.apply(cact, c_out[t], out=tc)                  # (5') needs φ(c_t): recomputed
        if cc.W_hr is not None:                            # (6')
            dHp[t] = dh
            np.multiply(o, tc, out=OT[t])
            dh = dh @ cc.W_hr
        np.multiply(dh, tc, out=do)                        # (5') do
        dc = act.backprop(cact, tc, dh * o)                # (5') dc
        dc += dc_next
        if peep is not None:
            act.backprop(gact, o, do)                      # (8') da_o first ...
            dc += do * peep[2]                             # (8') ... for dc
        np.multiply(dc, g, out=di)                         # (4') di
        np.multiply(dc, c_in[t], out=df)                   # (4') df
        np.multiply(dc, i, out=dg)                         # (4') dg
        dc_next = np.multiply(dc, f, out=dc)               # (4') carried to step t−1
        if peep is None:
            act.backprop(gact, a[:3], dG[:3])              # (2') σ' for i, f, o
        else:
            act.backprop(gact, a[:2], dG[:2])              # (2') σ' for i, f
            dc_next += di * peep[0]                        # (8')
            dc_next += df * peep[1]                        # (8')
        act.backprop(cact, g, dg)                          # (3') φ' for g
        da = dA[t]                                         # (1') the products need da as
        np.copyto(da.reshape(N, 4, H), dG.transpose(1, 0, 2))   # one (N, 4H) row block
        dh_next = da @ cc.W_hh                             # (1') carried to step t−1
        if cc.mask is not None:
            dh_next += dh_skip
            dc_next += dc_skip
    dx = input_grad(dA, cc.W_ih)                           # (1') every dx_t in one product
    _, torch_order = _ifog(H)                              # rows i | f | o | g -> i | f | g | o
    grads = {"W_ih": weight_grad(dA, cc.x)[torch_order],   # (1') one product each
             "W_hh": weight_grad(dA, h_in)[torch_order]}
    if cc.has_bias:
        db = dA.sum(axis=(0, 1))[torch_order]
        grads["b_ih"], grads["b_hh"] = db, db.copy()
    if cc.W_hr is not None:                                # (6') Σ_t dhᵀ (o ⊙ φ(c_t))
        grads["W_hr"] = weight_grad(dHp, OT)
    if peep is not None:                                   # (8') Σ over t and n
        dA4 = dA.reshape(T, N, 4, H)                       # blocks i, f, o, g
        grads["w_ci"] = np.einsum("tnh,tnh->h", dA4[:, :, 0], c_in)
        grads["w_cf"] = np.einsum("tnh,tnh->h", dA4[:, :, 1], c_in)
        grads["w_co"] = np.einsum("tnh,tnh->h", dA4[:, :, 2], c_out)
    return dx, dh_next, dc_next, grads


def lstm_gates(cache):
    """The gates of an ``lstm_forward``, for inspection (a copy: the cache stays as it is).

    A dict of arrays i, f, g, o (after their activations) and c (c_t, after (7)), each
    (T, N, H), in input time order: index t is the step that read x[t], for reverse too.
    The cache keeps the gates as (T, 4, N, H) in the order i, f, o, g (see Layout above) and
    c_t in the state buffer C (T+1, N, H), whose first or last row is c_0.
    """
    gates = {name: cache.gates[:, k].copy() for k, name in enumerate("ifog")}
    _, c_out = split_states(cache.C, cache.reverse)
    gates["c"] = c_out.copy()
    return gates
