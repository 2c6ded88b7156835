"""GRU in torch's form: one step, its backward, and BPTT over a sequence.

The standard GRU only, as torch.nn.GRU computes it by default: sigmoid gates, tanh, both
biases, the reset gate applied after the recurrent product. The options (Cho et al.'s
reset_after=False, other activations, no bias, masks and lengths, the reverse direction)
are this core plus a few lines each, in minirnn/textbook/variants/gru.py.

Notation. N batch, D input features, H hidden units, T time steps. Rows are examples, so a
layer computes x Wᵀ (x @ W.T). Weights in torch's layout, gate blocks in torch's order
r | z | n (rows 0:H of W_ih are r, H:2H z, 2H:3H n):
  W_ih (3H, D), W_hh (3H, H), b_ih (3H,), b_hh (3H,);  x_t (N, D), h_t (N, H).
σ(u) = 1 / (1 + exp(−u)), and ⊙ is the element-wise product.

Forward, one step:
  (1) gi = x_t W_ihᵀ + b_ih                                (N, 3H), blocks gi_r gi_z gi_n
  (2) gh = h_{t-1} W_hhᵀ + b_hh                            (N, 3H), blocks gh_r gh_z gh_n
  (3) r = σ(gi_r + gh_r);  z = σ(gi_z + gh_z)              (N, H) each
  (4) n = tanh(gi_n + r ⊙ gh_n)                            (N, H)
  (5) h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}                      (N, H)
Torch applies the reset gate after the recurrent product, r ⊙ (h W_hnᵀ + b_hn); the paper
(Cho et al., 2014) has (r ⊙ h) W_hnᵀ. The checker expects torch's form.

Backward, one step, given dh = ∂L/∂h_t, the whole gradient of the loss with respect to h_t:
  (5') dn = dh ⊙ (1 − z);  dz = dh ⊙ (h_{t-1} − n);  dh_prev = dh ⊙ z (+ a term in (1'))
  (4') da_n = dn ⊙ (1 − n²);  dr = da_n ⊙ gh_n
  (3') da_r = dr ⊙ r(1 − r);  da_z = dz ⊙ z(1 − z)
  (2')(1') dgi = [da_r | da_z | da_n];  dgh = [da_r | da_z | r ⊙ da_n]        (N, 3H) each
       dx = dgi W_ih;  dh_prev += dgh W_hh;
       dW_ih = dgiᵀ x_t;  dW_hh = dghᵀ h_{t-1};  db_ih = Σ_n dgi;  db_hh = Σ_n dgh

Sequence, t = 1..T:
  (6) h_t, cache_t = step_forward(x_t, h_{t-1});  y_t = h_t;  h_n = h_T
BPTT, t = T..1. dh_next is the gradient flowing back into h_t from step t+1; it starts as
dh_n, the gradient of the final state:
  (6') dh = dy_t + dh_next;  dx_t, dh_next, grads_t = step_backward(dh, cache_t)
  (7') dW_ih = Σ_t dW_ih of step t, and the same for W_hh, b_ih, b_hh: the same weights act
       at every step, so their gradients add up over time

With r inside the product's bias term, the GRU's two biases are not redundant in torch's form
(b_hn sits inside the reset gate, b_in outside it). The engine, minirnn/functional/gru.py,
computes the same numbers arranged for speed; tests/test_tiers.py checks that the two agree.
"""
from dataclasses import dataclass

import numpy as np

from .activations import sigmoid


@dataclass
class GRUStepCache:
    """What gru_step_backward needs from gru_step_forward (arrays kept, not copied)."""
    x: np.ndarray                 # (N, D) x_t
    h_prev: np.ndarray            # (N, H) h_{t-1}
    r: np.ndarray                 # (N, H) each: the gates of (3) and (4)
    z: np.ndarray
    n: np.ndarray
    gh_n: np.ndarray              # (N, H) h_{t-1} W_hnᵀ + b_hn, the term r multiplies in (4)
    W_ih: np.ndarray              # (3H, D)
    W_hh: np.ndarray              # (3H, H)


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One GRU step, equations (1) to (5).

    x (N, D), h_prev (N, H), W_ih (3H, D), W_hh (3H, H), b_ih (3H,), b_hh (3H,).
    Returns h (N, H) and a GRUStepCache for ``gru_step_backward``.
    """
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih                                           # (1)
    gh = h_prev @ W_hh.T + b_hh                                      # (2)
    r = sigmoid(gi[:, :H] + gh[:, :H])                               # (3)
    z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])                     # (3)
    gh_n = gh[:, 2 * H:]                                             # (2) its n block
    n = np.tanh(gi[:, 2 * H:] + r * gh_n)                            # (4)
    h = (1 - z) * n + z * h_prev                                     # (5)
    return h, GRUStepCache(x, h_prev, r, z, n, gh_n, W_ih, W_hh)


def gru_step_backward(dh, cache):
    """Backward through one GRU step, equations (5') to (1'): (5) to (1) in reverse.

    dh (N, H): the whole gradient of the loss with respect to this step's h_t.
    Returns dx (N, D), dh_prev (N, H) and grads, a dict with this step's
    W_ih (3H, D), W_hh (3H, H), b_ih (3H,) and b_hh (3H,) gradients.
    """
    r, z, n = cache.r, cache.z, cache.n
    dn = dh * (1 - z)                                                # (5')
    dz = dh * (cache.h_prev - n)                                     # (5')
    dh_prev = dh * z                                                 # (5')
    da_n = dn * (1 - n ** 2)                                         # (4')
    dr = da_n * cache.gh_n                                           # (4')
    da_r, da_z = dr * r * (1 - r), dz * z * (1 - z)                  # (3')
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)                 # (2')(1')
    dgh = np.concatenate([da_r, da_z, r * da_n], axis=1)             # (2')(1')
    dx = dgi @ cache.W_ih                                            # (1')
    dh_prev = dh_prev + dgh @ cache.W_hh                             # (1')
    grads = {"W_ih": dgi.T @ cache.x, "W_hh": dgh.T @ cache.h_prev,  # (1')
             "b_ih": dgi.sum(axis=0), "b_hh": dgh.sum(axis=0)}       # (1')
    return dx, dh_prev, grads


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Run the GRU over a sequence, equation (6): gru_step_forward for t = 0..T-1.

    x (T, N, D), h0 (N, H), weights as for ``gru_step_forward``.
    Returns y (T, N, H) (y[t] is the h computed from x[t]), h_n (N, H) (the h after the last
    step) and caches, the list of the T step caches, for ``gru_backward``.
    """
    h, ys, caches = h0, [], []
    for x_t in x:
        h, cache = gru_step_forward(x_t, h, W_ih, W_hh, b_ih, b_hh)    # (6)
        ys.append(h)
        caches.append(cache)
    return np.stack(ys), h, caches


def gru_backward(dy, dh_n, caches):
    """BPTT through the sequence, equations (6') and (7'): t = T-1 down to 0.

    dy (T, N, H): the gradient of every output y[t]; dh_n (N, H): that of the final state.
    Returns dx (T, N, D), dh0 (N, H) and grads, a dict with W_ih (3H, D), W_hh (3H, H),
    b_ih (3H,) and b_hh (3H,), each summed over the T steps.
    """
    dx = [None] * len(caches)
    grads = dict.fromkeys(("W_ih", "W_hh", "b_ih", "b_hh"), 0)
    dh_next = dh_n              # the gradient flowing back into h_t from step t+1
    for t in reversed(range(len(caches))):
        dh = dy[t] + dh_next                                         # (6')
        dx[t], dh_next, step_grads = gru_step_backward(dh, caches[t])   # (6')
        for name in grads:
            grads[name] = grads[name] + step_grads[name]             # (7')
    return np.stack(dx), dh_next, grads
