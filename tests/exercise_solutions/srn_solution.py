"""A correct SRN exercise, written as a student would: the tests plant bugs in copies of it."""
import numpy as np


def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    h = np.tanh(a)
    return h, (x, h_prev, h, W_ih, W_hh)


def rnn_step_backward(dh, cache):
    x, h_prev, h, W_ih, W_hh = cache
    da = dh * (1 - h ** 2)
    dx = da @ W_ih
    dh_prev = da @ W_hh
    grads = {"W_ih": da.T @ x, "W_hh": da.T @ h_prev,
             "b_ih": da.sum(axis=0), "b_hh": da.sum(axis=0)}
    return dx, dh_prev, grads


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    T = x.shape[0]
    h, ys, caches = h0, [], []
    for t in range(T):
        h, step_cache = rnn_step_forward(x[t], h, W_ih, W_hh, b_ih, b_hh)
        ys.append(h)
        caches.append(step_cache)
    return np.stack(ys), h, (x.shape, caches)


def rnn_backward(dy, dh_n, cache):
    x_shape, caches = cache
    T = x_shape[0]
    dx = np.zeros(x_shape)
    grads = {"W_ih": 0, "W_hh": 0, "b_ih": 0, "b_hh": 0}
    dh_next = dh_n
    for t in reversed(range(T)):
        dh = dy[t] + dh_next
        dx[t], dh_next, step_grads = rnn_step_backward(dh, caches[t])
        grads["W_ih"] += step_grads["W_ih"]
        grads["W_hh"] += step_grads["W_hh"]
        grads["b_ih"] += step_grads["b_ih"]
        grads["b_hh"] += step_grads["b_hh"]
    return dx, dh_next, grads
