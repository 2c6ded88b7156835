"""A correct GRU exercise, written as a student would: the tests plant bugs in copies of it."""
import numpy as np


def sigmoid(u):
    return 1 / (1 + np.exp(-u))


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    r = sigmoid(gi[:, :H] + gh[:, :H])
    z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    gh_n = gh[:, 2 * H:]
    n = np.tanh(gi[:, 2 * H:] + r * gh_n)
    h = (1 - z) * n + z * h_prev
    return h, (x, h_prev, r, z, n, gh_n, W_ih, W_hh)


def gru_step_backward(dh, cache):
    x, h_prev, r, z, n, gh_n, W_ih, W_hh = cache
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    da_n = dn * (1 - n ** 2)
    dr = da_n * gh_n
    da_r = dr * r * (1 - r)
    da_z = dz * z * (1 - z)
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)
    dgh = np.concatenate([da_r, da_z, r * da_n], axis=1)
    dx = dgi @ W_ih
    dh_prev = dh * z + dgh @ W_hh
    grads = {"W_ih": dgi.T @ x, "W_hh": dgh.T @ h_prev,
             "b_ih": dgi.sum(axis=0), "b_hh": dgh.sum(axis=0)}
    return dx, dh_prev, grads


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    h, ys, caches = h0, [], []
    for t in range(x.shape[0]):
        h, step_cache = gru_step_forward(x[t], h, W_ih, W_hh, b_ih, b_hh)
        ys.append(h)
        caches.append(step_cache)
    return np.stack(ys), h, caches


def gru_backward(dy, dh_n, cache):
    T = len(cache)
    dxs = [None] * T
    grads = {"W_ih": 0, "W_hh": 0, "b_ih": 0, "b_hh": 0}
    dh_next = dh_n
    for t in reversed(range(T)):
        dh = dy[t] + dh_next
        dxs[t], dh_next, step_grads = gru_step_backward(dh, cache[t])
        for k in grads:
            grads[k] = grads[k] + step_grads[k]
    return np.stack(dxs), dh_next, grads
