"""A correct LSTM exercise, written as a student would: the tests plant bugs in copies of it."""
import numpy as np


def sigmoid(u):
    return 1 / (1 + np.exp(-u))


def dsigmoid(s):
    return s * (1 - s)


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o,
             "c": c, "W_ih": W_ih, "W_hh": W_hh}
    return h, c, cache


def lstm_step_backward(dh, dc, cache):
    i, f, g, o, c = cache["i"], cache["f"], cache["g"], cache["o"], cache["c"]
    tanh_c = np.tanh(c)
    do = dh * tanh_c
    dc_t = dc + dh * o * (1 - tanh_c ** 2)
    di = dc_t * g
    df = dc_t * cache["c_prev"]
    dg = dc_t * i
    dc_prev = dc_t * f
    da = np.concatenate([di * dsigmoid(i), df * dsigmoid(f), dg * (1 - g ** 2),
                         do * dsigmoid(o)], axis=1)
    dx = da @ cache["W_ih"]
    dh_prev = da @ cache["W_hh"]
    grads = {"W_ih": da.T @ cache["x"], "W_hh": da.T @ cache["h_prev"],
             "b_ih": da.sum(axis=0), "b_hh": da.sum(axis=0)}
    return dx, dh_prev, dc_prev, grads


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, ys, caches = h0, c0, [], []
    for t in range(x.shape[0]):
        h, c, step_cache = lstm_step_forward(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        ys.append(h)
        caches.append(step_cache)
    return np.stack(ys), h, c, caches


def lstm_backward(dy, dh_n, dc_n, cache):
    T = len(cache)
    dxs = [None] * T
    grads = {"W_ih": 0, "W_hh": 0, "b_ih": 0, "b_hh": 0}
    dh_next, dc_next = dh_n, dc_n
    for t in reversed(range(T)):
        dh = dy[t] + dh_next
        dxs[t], dh_next, dc_next, step_grads = lstm_step_backward(dh, dc_next, cache[t])
        for k in grads:
            grads[k] = grads[k] + step_grads[k]
    return np.stack(dxs), dh_next, dc_next, grads
