"""LSTM: one step, its backward, and BPTT over a sequence.

The standard LSTM only, as torch.nn.LSTM computes it by default: sigmoid gates, tanh, both
biases. The options (projection, peepholes, other activations, no bias, masks and lengths,
the reverse direction) are this core plus a few lines each, in
minirnn/textbook/variants/lstm.py.

Notation. N batch, D input features, H hidden (cell) units, T time steps. Rows are examples,
so a layer computes x Wᵀ (x @ W.T). Weights in torch's layout, gate blocks in torch's order
i | f | g | o (rows 0:H of W_ih are i, H:2H f, 2H:3H g, 3H:4H o):
  W_ih (4H, D), W_hh (4H, H), b_ih (4H,), b_hh (4H,);  x_t (N, D), h_t (N, H), c_t (N, H).
σ(u) = 1 / (1 + exp(−u)), and ⊙ is the element-wise product.

Forward, one step:
  (1) a = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh          (N, 4H), blocks a_i a_f a_g a_o
  (2) i, f, o = σ(a_i), σ(a_f), σ(a_o)                     (N, H) each
  (3) g = tanh(a_g)                                        (N, H)
  (4) c_t = f ⊙ c_{t-1} + i ⊙ g                            (N, H)
  (5) h_t = o ⊙ tanh(c_t)                                  (N, H)

Backward, one step, given dh = ∂L/∂h_t and dc_next, the gradient reaching c_t from step t+1:
  (5') do = dh ⊙ tanh(c_t);  dc = dc_next + dh ⊙ o ⊙ (1 − tanh²(c_t))
  (4') di = dc ⊙ g;  df = dc ⊙ c_{t-1};  dg = dc ⊙ i;  dc_prev = dc ⊙ f
  (3')(2') da = [di ⊙ i(1 − i) | df ⊙ f(1 − f) | dg ⊙ (1 − g²) | do ⊙ o(1 − o)]  (N, 4H)
  (1') dx = da W_ih;  dh_prev = da W_hh;
       dW_ih = daᵀ x_t;  dW_hh = daᵀ h_{t-1};  db_ih = db_hh = Σ_n da    (sum over the batch)

Sequence, t = 1..T:
  (6) h_t, c_t, cache_t = step_forward(x_t, h_{t-1}, c_{t-1});  y_t = h_t;  h_n, c_n = h_T, c_T
BPTT, t = T..1. dh_next and dc_next are the gradients flowing back into h_t and c_t from step
t+1; they start as dh_n and dc_n, the gradients of the final states:
  (6') dh = dy_t + dh_next;
       dx_t, dh_next, dc_next, grads_t = step_backward(dh, dc_next, cache_t)
  (7') dW_ih = Σ_t dW_ih of step t, and the same for W_hh, b_ih, b_hh: the same weights act
       at every step, so their gradients add up over time

The cell state's update (4) is additive, so going back (4') only multiplies: dc_prev = dc ⊙ f,
with no W_hh and no squashing derivative on the way. That is why gradients survive many
steps when f stays near 1. The engine, minirnn/functional/lstm.py, computes the same numbers
arranged for speed; tests/test_tiers.py checks that the two agree.
"""
from dataclasses import dataclass

import numpy as np

from .activations import sigmoid


@dataclass
class LSTMStepCache:
    """What lstm_step_backward needs from lstm_step_forward (arrays kept, not copied)."""
    x: np.ndarray                 # (N, D) x_t
    h_prev: np.ndarray            # (N, H) h_{t-1}
    c_prev: np.ndarray            # (N, H) c_{t-1}
    i: np.ndarray                 # (N, H) each: the gates of (2) and (3)
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray                 # (N, H) c_t
    tanh_c: np.ndarray            # (N, H) tanh(c_t)
    W_ih: np.ndarray              # (4H, D)
    W_hh: np.ndarray              # (4H, H)


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, equations (1) to (5).

    x (N, D), h_prev (N, H), c_prev (N, H), W_ih (4H, D), W_hh (4H, H), b_ih (4H,), b_hh (4H,).
    Returns h (N, H), c (N, H) and an LSTMStepCache for ``lstm_step_backward``.
    """
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh                  # (1)
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])   # (2)
    g = np.tanh(a[:, 2 * H:3 * H])                                   # (3)
    c = f * c_prev + i * g                                           # (4)
    tanh_c = np.tanh(c)                                              # (5)
    h = o * tanh_c                                                   # (5)
    return h, c, LSTMStepCache(x, h_prev, c_prev, i, f, g, o, c, tanh_c, W_ih, W_hh)


def lstm_step_backward(dh, dc_next, cache):
    """Backward through one LSTM step, equations (5') to (1'): (5) to (1) in reverse.

    dh (N, H): the whole gradient of the loss with respect to this step's h_t;
    dc_next (N, H): the gradient reaching this step's c_t from step t+1.
    Returns dx (N, D), dh_prev (N, H), dc_prev (N, H) and grads, a dict with this step's
    W_ih (4H, D), W_hh (4H, H), b_ih (4H,) and b_hh (4H,) gradients.
    """
    i, f, g, o = cache.i, cache.f, cache.g, cache.o
    do = dh * cache.tanh_c                                           # (5')
    dc = dc_next + dh * o * (1 - cache.tanh_c ** 2)                  # (5')
    di, df, dg = dc * g, dc * cache.c_prev, dc * i                   # (4')
    dc_prev = dc * f                                                 # (4')
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f),         # (3')(2')
                         dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
    dx = da @ cache.W_ih                                             # (1')
    dh_prev = da @ cache.W_hh                                        # (1')
    grads = {"W_ih": da.T @ cache.x, "W_hh": da.T @ cache.h_prev,    # (1')
             "b_ih": da.sum(axis=0), "b_hh": da.sum(axis=0)}         # (1')
    return dx, dh_prev, dc_prev, grads


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Run the LSTM over a sequence, equation (6): lstm_step_forward for t = 0..T-1.

    x (T, N, D), h0 (N, H), c0 (N, H), weights as for ``lstm_step_forward``.
    Returns y (T, N, H) (y[t] is the h computed from x[t]), h_n (N, H) and c_n (N, H) (the
    states after the last step) and caches, the list of the T step caches, for
    ``lstm_backward``.
    """
    h, c, ys, caches = h0, c0, [], []
    for x_t in x:
        h, c, cache = lstm_step_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh)   # (6)
        ys.append(h)
        caches.append(cache)
    return np.stack(ys), h, c, caches


def lstm_backward(dy, dh_n, dc_n, caches):
    """BPTT through the sequence, equations (6') and (7'): t = T-1 down to 0.

    dy (T, N, H): the gradient of every output y[t]; dh_n (N, H), dc_n (N, H): those of the
    final states. Returns dx (T, N, D), dh0 (N, H), dc0 (N, H) and grads, a dict with
    W_ih (4H, D), W_hh (4H, H), b_ih (4H,) and b_hh (4H,), each summed over the T steps.
    """
    dx = [None] * len(caches)
    grads = dict.fromkeys(("W_ih", "W_hh", "b_ih", "b_hh"), 0)
    dh_next, dc_next = dh_n, dc_n   # the gradients flowing back into h_t, c_t from step t+1
    for t in reversed(range(len(caches))):
        dh = dy[t] + dh_next                                         # (6')
        dx[t], dh_next, dc_next, step_grads = lstm_step_backward(dh, dc_next, caches[t])  # (6')
        for name in grads:
            grads[name] = grads[name] + step_grads[name]             # (7')
    return np.stack(dx), dh_next, dc_next, grads
