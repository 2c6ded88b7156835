"""Simple recurrent network (Elman SRN): one step, its backward, and BPTT over a sequence.

The standard cell only, as torch.nn.RNN computes it by default: tanh, both biases. The
options (other activations, no bias, masks and lengths, the reverse direction) are this core
plus a few lines each, in minirnn/textbook/variants/rnn.py.

Notation. N batch, D input features, H hidden units, T time steps. Rows are examples, so a
layer computes x Wᵀ (x @ W.T). Weights in torch's layout:
  W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,);  x_t (N, D), h_t (N, H), h_0 given.

Forward, one step:
  (1) a = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh          (N, H)
  (2) h_t = tanh(a)                                        (N, H)

Backward, one step, given dh = ∂L/∂h_t, the whole gradient of the loss with respect to h_t:
  (2') da = dh ⊙ (1 − h_t²)                                tanh' taken from the output h_t
  (1') dx = da W_ih;  dh_prev = da W_hh;
       dW_ih = daᵀ x_t;  dW_hh = daᵀ h_{t-1};  db_ih = db_hh = Σ_n da    (sum over the batch)

Sequence, t = 1..T:
  (3) h_t, cache_t = step_forward(x_t, h_{t-1});  y_t = h_t;  h_n = h_T
BPTT, t = T..1. dh_next is the gradient flowing back into h_t from step t+1; it starts as
dh_n, the gradient of the final state:
  (3') dh = dy_t + dh_next;  dx_t, dh_next, grads_t = step_backward(dh, cache_t)
  (4') dW_ih = Σ_t dW_ih of step t, and the same for W_hh, b_ih, b_hh: the same weights act
       at every step, so their gradients add up over time

Torch keeps two biases although only their sum enters (1), so their gradients are equal.
The engine, minirnn/functional/rnn.py, computes the same numbers arranged for speed;
tests/test_tiers.py checks that the two agree.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class RNNStepCache:
    """What rnn_step_backward needs from rnn_step_forward (arrays kept, not copied)."""
    x: np.ndarray                 # (N, D) x_t
    h_prev: np.ndarray            # (N, H) h_{t-1}
    h: np.ndarray                 # (N, H) h_t
    W_ih: np.ndarray              # (H, D)
    W_hh: np.ndarray              # (H, H)


def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One SRN step, equations (1) and (2).

    x (N, D), h_prev (N, H), W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,).
    Returns h (N, H) and an RNNStepCache for ``rnn_step_backward``.
    """
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh                  # (1)
    h = np.tanh(a)                                                   # (2)
    return h, RNNStepCache(x, h_prev, h, W_ih, W_hh)


def rnn_step_backward(dh, cache):
    """Backward through one SRN step, equations (2') and (1').

    dh (N, H): the whole gradient of the loss with respect to this step's h_t.
    Returns dx (N, D), dh_prev (N, H) and grads, a dict with this step's
    W_ih (H, D), W_hh (H, H), b_ih (H,) and b_hh (H,) gradients.
    """
    da = dh * (1 - cache.h ** 2)                                     # (2')
    dx = da @ cache.W_ih                                             # (1')
    dh_prev = da @ cache.W_hh                                        # (1')
    grads = {"W_ih": da.T @ cache.x, "W_hh": da.T @ cache.h_prev,    # (1')
             "b_ih": da.sum(axis=0), "b_hh": da.sum(axis=0)}         # (1')
    return dx, dh_prev, grads


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Run the SRN over a sequence, equation (3): rnn_step_forward for t = 0..T-1.

    x (T, N, D), h0 (N, H), weights as for ``rnn_step_forward``.
    Returns y (T, N, H) (y[t] is the h computed from x[t]), h_n (N, H) (the h after the last
    step) and caches, the list of the T step caches, for ``rnn_backward``.
    """
    h, ys, caches = h0, [], []
    for x_t in x:
        h, cache = rnn_step_forward(x_t, h, W_ih, W_hh, b_ih, b_hh)    # (3)
        ys.append(h)
        caches.append(cache)
    return np.stack(ys), h, caches


def rnn_backward(dy, dh_n, caches):
    """BPTT through the sequence, equations (3') and (4'): t = T-1 down to 0.

    dy (T, N, H): the gradient of every output y[t]; dh_n (N, H): that of the final state.
    Returns dx (T, N, D), dh0 (N, H) and grads, a dict with W_ih (H, D), W_hh (H, H),
    b_ih (H,) and b_hh (H,), each summed over the T steps.
    """
    dx = [None] * len(caches)
    grads = dict.fromkeys(("W_ih", "W_hh", "b_ih", "b_hh"), 0)
    dh_next = dh_n              # the gradient flowing back into h_t from step t+1
    for t in reversed(range(len(caches))):
        dh = dy[t] + dh_next                                         # (3')
        dx[t], dh_next, step_grads = rnn_step_backward(dh, caches[t])   # (3')
        for name in grads:
            grads[name] = grads[name] + step_grads[name]             # (4')
    return np.stack(dx), dh_next, grads
