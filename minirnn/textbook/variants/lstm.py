"""The LSTM with every option: the core (minirnn/textbook/lstm.py) plus these.

Read the core first: its step, equations (1)-(5) and (5')-(1'), is what runs here for the
standard LSTM (sigmoid gates, tanh, with biases, no projection, no peepholes). This file
adds, each with its own equations below:
  * (A1) σ and φ, the gate and cell activations (activations.py): sigmoid and tanh by
    default; (2')(3') then take σ' and φ' from the activations' outputs
  * (B1) bias=False: (1) without b_ih and b_hh (b = 0), and no bias gradients
  * (P1) a projection (torch's proj_size): h_t = (o ⊙ φ(c_t)) W_hrᵀ, of size P < H
  * (C1) peepholes (Gers and Schmidhuber): the gates look at the cell state
  * (M1) masks and lengths: the sequence loop of (6) keeps h and c where m_t = 0
  * the reverse direction: the same loop over t = T..1 (a bidirectional layer's second half)

Notation. N batch, D input features, H hidden (cell) units, T time steps, P the size of h
(P = H, or proj_size with a projection). Gate blocks in torch order i | f | g | o:
W_ih (4H, D), W_hh (4H, P), b_ih (4H,), b_hh (4H,), W_hr (P, H) only with a projection.
w_ci, w_cf, w_co (H,) only with peepholes. x_t (N, D), h_t (N, P), c_t (N, H). σ is the gate
activation (sigmoid; or hard_sigmoid, step, tanh, relu, identity), φ the cell activation (tanh;
or identity, relu, sigmoid, hard_sigmoid); the defaults give the standard LSTM. With a mask,
m_t (N, 1) is 0 at the steps a sequence skips (after its end, with lengths), 1 elsewhere.

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

σ' and φ' are taken from the activations' outputs (σ' = σ(1 − σ), tanh' = 1 − tanh²). Here
dc is the whole gradient of c_t (the core's dc), and dc_next the part that came from step t+1.
The projection (P1), the peepholes (C1) and the non-default activations change nothing else.
The engine, minirnn/functional/lstm.py, computes the same numbers, arranged another way;
tests/test_tiers.py checks that they agree.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import activations as act
from .. import lstm as core
from .rnn import SequenceCache, masked_output


@dataclass
class LSTMStepCache:
    """What lstm_step_backward needs from one lstm_step_forward (arrays kept, not copied)."""
    x: np.ndarray                 # (N, D) x_t
    h_prev: np.ndarray            # (N, P) h_{t-1}
    c_prev: np.ndarray            # (N, H) c_{t-1}
    i: np.ndarray                 # (N, H) each: the gates after (2) and (3)
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray                 # (N, H) c_t
    phi_c: np.ndarray             # (N, H) φ(c_t)
    W_ih: np.ndarray              # (4H, D)
    W_hh: np.ndarray              # (4H, P)
    W_hr: Optional[np.ndarray]    # (P, H) or None
    w_ci: Optional[np.ndarray]    # (H,) each, the peepholes of (C1), or None
    w_cf: Optional[np.ndarray]
    w_co: Optional[np.ndarray]
    has_bias: bool
    gate_activation: str
    cell_activation: str


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, W_hr=None, *,
                      gate_activation="sigmoid", cell_activation="tanh", w_ci=None, w_cf=None,
                      w_co=None):
    """One LSTM step, equations (1) to (5), with (A1), (B1), (P1) and (C1).

    x (N, D), h_prev (N, P), c_prev (N, H), W_ih (4H, D), W_hh (4H, P), b_ih (4H,) and
    b_hh (4H,) or both None, W_hr (P, H) or None; gate_activation one of
    ALLOWED["gate_activation"] in activations.py, cell_activation one of
    ALLOWED["cell_activation"]; w_ci, w_cf, w_co (H,) all three or none.
    Returns h (N, P), c (N, H) and a step cache for ``lstm_step_backward``. The standard
    LSTM is the core's own step.
    """
    sigma = act.function(gate_activation, "gate_activation")     # σ: sigmoid by default (A1)
    phi = act.function(cell_activation, "cell_activation")       # φ: tanh by default (A1)
    peephole = w_ci is not None
    if peephole != (w_cf is not None) or peephole != (w_co is not None):
        raise ValueError("expected the peephole weights w_ci, w_cf, w_co all three or none")
    if ((gate_activation, cell_activation) == ("sigmoid", "tanh") and b_ih is not None
            and W_hr is None and not peephole):
        return core.lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    H = c_prev.shape[1]
    b = 0 if b_ih is None else b_ih + b_hh                 # (1), (B1) without biases b = 0
    a = x @ W_ih.T + b + h_prev @ W_hh.T                   # (1)
    a_i, a_f, a_g, a_o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    if peephole:                                           # (C1) i and f look at c_{t-1}
        a_i, a_f = a_i + w_ci * c_prev, a_f + w_cf * c_prev
    i, f = sigma(a_i), sigma(a_f)                          # (2)
    g = phi(a_g)                                           # (3)
    c = f * c_prev + i * g                                 # (4)
    if peephole:                                           # (C1) o looks at the new c_t
        a_o = a_o + w_co * c
    o = sigma(a_o)                                         # (2)
    phi_c = phi(c)                                         # (5) φ(c_t)
    h = o * phi_c if W_hr is None else (o * phi_c) @ W_hr.T     # (5), or (P1) with a projection
    cache = LSTMStepCache(x, h_prev, c_prev, i, f, g, o, c, phi_c, W_ih, W_hh, W_hr, w_ci,
                          w_cf, w_co, b_ih is not None, gate_activation, cell_activation)
    return h, c, cache


def lstm_step_backward(dh, dc_next, cache):
    """Backward through one LSTM step, equations (P1'), (5') to (1'), and (C1') with peepholes.

    dh (N, P): the whole gradient of the loss with respect to this step's h.
    dc_next (N, H): the gradient reaching this step's c_t from step t+1.
    Returns dx (N, D), dh_prev (N, P), dc_prev (N, H) and grads, a dict of this step's
    parameter gradients: W_ih (4H, D), W_hh (4H, P), b_ih (4H,) and b_hh (4H,) when the step
    had biases, W_hr (P, H) with a projection, w_ci, w_cf, w_co (H,) with peepholes.
    """
    if isinstance(cache, core.LSTMStepCache):              # the standard LSTM: the core's
        return core.lstm_step_backward(dh, dc_next, cache)
    sigma_, phi_ = act.derivative(cache.gate_activation), act.derivative(cache.cell_activation)
    o, phi_c = cache.o, cache.phi_c
    dh_cell = dh if cache.W_hr is None else dh @ cache.W_hr      # (P1') dh ← dh W_hr (N, H)
    do = dh_cell * phi_c                                         # (5')
    da_o = do * sigma_(o)                                        # (2')
    dc = dc_next + dh_cell * o * phi_(phi_c)                     # (5')
    if cache.w_co is not None:
        dc = dc + da_o * cache.w_co                              # (C1') via o's peephole
    di, df, dg = dc * cache.g, dc * cache.c_prev, dc * cache.i   # (4')
    dc_prev = dc * cache.f                                       # (4')
    da_i, da_f = di * sigma_(cache.i), df * sigma_(cache.f)      # (2')
    if cache.w_ci is not None:                                   # (C1') via i's and f's
        dc_prev = dc_prev + da_i * cache.w_ci + da_f * cache.w_cf
    da = np.concatenate([da_i, da_f, dg * phi_(cache.g), da_o], axis=1)   # (2')(3') i|f|g|o
    grads = {"W_ih": da.T @ cache.x, "W_hh": da.T @ cache.h_prev}        # (1')
    if cache.has_bias:
        grads["b_ih"], grads["b_hh"] = da.sum(axis=0), da.sum(axis=0)     # (1')
    if cache.W_hr is not None:
        grads["W_hr"] = dh.T @ (o * phi_c)                       # (P1')
    if cache.w_ci is not None:                                   # (C1')
        grads["w_ci"] = (da_i * cache.c_prev).sum(axis=0)
        grads["w_cf"] = (da_f * cache.c_prev).sum(axis=0)
        grads["w_co"] = (da_o * cache.c).sum(axis=0)
    return da @ cache.W_ih, da @ cache.W_hh, dc_prev, grads      # (1') dx, dh_prev


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih=None, b_hh=None, W_hr=None, *,
                 gate_activation="sigmoid", cell_activation="tanh", w_ci=None, w_cf=None,
                 w_co=None, mask=None, output_mask=None, reverse=False, keep_cache=True):
    """Run an LSTM over a sequence: the step of (1) to (5) (and the options), T times.

    x (T, N, D), h0 (N, P), c0 (N, H), W_ih (4H, D), W_hh (4H, P), b_ih (4H,) and b_hh (4H,)
    or both None, W_hr (P, H) or None, activations and peepholes as for
    ``lstm_step_forward``, mask and output_mask (T, N, 1) of 0/1 or None (m_t and s_t of (M1);
    output_mask None means s_t = m_t), reverse: run t = T−1..0.
    Returns y (T, N, P), h_n (N, P), c_n (N, H) and a SequenceCache for ``lstm_backward``
    (None with ``keep_cache=False``: inference needs no backward).
    """
    x, h0, c0 = x.copy(), h0.copy(), c0.copy()   # the caches keep them; the caller may
                                                 # change theirs
    T = x.shape[0]
    order = range(T - 1, -1, -1) if reverse else range(T)   # reverse: t = T−1..0
    steps, ys = [None] * T, [None] * T
    s = mask if output_mask is None else output_mask        # (M1) s_t
    h, c = h0, c0
    for t in order:
        h_t, c_t, steps[t] = lstm_step_forward(x[t], h, c, W_ih, W_hh, b_ih, b_hh, W_hr,
                                               gate_activation=gate_activation,
                                               cell_activation=cell_activation,
                                               w_ci=w_ci, w_cf=w_cf, w_co=w_co)
        if mask is not None:                               # (M1) masked steps keep h, c,
            m = mask[t]
            h_t, c_t = m * h_t + (1 - m) * h, m * c_t + (1 - m) * c
        ys[t] = h_t if s is None else s[t] * h_t           # (M1) and output s_t ⊙ h_t
        h, c = h_t, c_t
    weights = {k: w for k, w in dict(W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh, W_hr=W_hr,
                                     w_ci=w_ci, w_cf=w_cf, w_co=w_co).items() if w is not None}
    cache = SequenceCache(steps, order, weights, mask, s) if keep_cache else None
    return np.stack(ys), h, c, cache


def lstm_backward(dy, dh_n, dc_n, cache):
    """BPTT through an LSTM sequence: the backward step, T times in reverse order.

    dy (T, N, P), dh_n (N, P), dc_n (N, H): gradients of the outputs and final states; any
    may be None for zeros. Returns dx (T, N, D), dh0 (N, P), dc0 (N, H) and grads, a dict of
    the parameter gradients summed over time: W_ih (4H, D), W_hh (4H, P), b_ih (4H,) and
    b_hh (4H,) when the forward had biases, W_hr (P, H) with a projection, w_ci, w_cf,
    w_co (H,) with peepholes.
    """
    grads = {k: np.zeros_like(w) for k, w in cache.weights.items()}
    dxs = [None] * len(cache.steps)
    # dh_next, dc_next: the gradients flowing back into h_t, c_t from step t+1 (BPTT's carry)
    dh_next = np.zeros_like(cache.steps[0].h_prev) if dh_n is None else dh_n
    dc_next = np.zeros_like(cache.steps[0].c_prev) if dc_n is None else dc_n
    for t in reversed(cache.order):
        dh = dh_next if dy is None else masked_output(dy, cache, t) + dh_next   # (M1')
        dc = dc_next
        if cache.mask is not None:                         # (M1') masked steps pass
            m = cache.mask[t]                              #      dh, dc_next by unchanged
            dh, dh_skip, dc, dc_skip = m * dh, (1 - m) * dh, m * dc, (1 - m) * dc_next
        dxs[t], dh_prev, dc_prev, step_grads = lstm_step_backward(dh, dc, cache.steps[t])
        for k in grads:
            grads[k] += step_grads[k]                      # (1') Σ_t
        if cache.mask is None:
            dh_next, dc_next = dh_prev, dc_prev
        else:
            dh_next, dc_next = dh_prev + dh_skip, dc_prev + dc_skip
    return np.stack(dxs), dh_next, dc_next, grads


def lstm_gates(cache):
    """The gates of an lstm_forward, for inspection.

    A dict of arrays i, f, g, o (after their activations) and c (c_t, after (M1)), each
    (T, N, H), in input time order: index t is the step that read x[t], for reverse too.
    """
    gates = {k: np.stack([getattr(s, k) for s in cache.steps]) for k in "ifgo"}
    c, c_prev = (np.stack([getattr(s, k) for s in cache.steps]) for k in ("c", "c_prev"))
    m = 1 if cache.mask is None else cache.mask            # (T, N, 1)
    gates["c"] = m * c + (1 - m) * c_prev                  # c_t after (M1)
    return gates
