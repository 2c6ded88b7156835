"""An LSTM written the way tutorials write it, as the baseline minirnn must beat.

Separate weight matrices per gate, each input projected inside the time loop, new arrays at
every step, and a backward that mirrors it. Numerically the same LSTM as minirnn's (it is
checked against it below); only the organisation differs -- which is the point.
"""
import numpy as np


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


class NaiveLSTM:
    """LSTM with per-gate weights Wx[g] (D, H), Wh[g] (H, H), b[g] (H,), g in i, f, g, o."""

    def __init__(self, W_ih, W_hh, b):
        H = W_hh.shape[1]
        self.Wx = {k: W_ih[j * H:(j + 1) * H].T.copy() for j, k in enumerate("ifgo")}
        self.Wh = {k: W_hh[j * H:(j + 1) * H].T.copy() for j, k in enumerate("ifgo")}
        self.b = {k: b[j * H:(j + 1) * H].copy() for j, k in enumerate("ifgo")}

    def forward(self, x):
        T, N, _ = x.shape
        H = self.Wh["i"].shape[0]
        h, c = np.zeros((N, H), x.dtype), np.zeros((N, H), x.dtype)
        self.steps, ys = [], []
        with np.errstate(over="ignore"):
            for t in range(T):
                i = _sigmoid(x[t] @ self.Wx["i"] + h @ self.Wh["i"] + self.b["i"])
                f = _sigmoid(x[t] @ self.Wx["f"] + h @ self.Wh["f"] + self.b["f"])
                g = np.tanh(x[t] @ self.Wx["g"] + h @ self.Wh["g"] + self.b["g"])
                o = _sigmoid(x[t] @ self.Wx["o"] + h @ self.Wh["o"] + self.b["o"])
                c_new = f * c + i * g
                h_new = o * np.tanh(c_new)
                self.steps.append((x[t], h, c, i, f, g, o, c_new))
                h, c = h_new, c_new
                ys.append(h)
        return np.stack(ys)

    def backward(self, dy):
        grads = {name: {k: np.zeros_like(v) for k, v in getattr(self, name).items()}
                 for name in ("Wx", "Wh", "b")}
        dh_next = np.zeros_like(dy[0])
        dc_next = np.zeros_like(dy[0])
        dxs = []
        for t in reversed(range(len(self.steps))):
            x, h_prev, c_prev, i, f, g, o, c = self.steps[t]
            dh = dy[t] + dh_next
            tc = np.tanh(c)
            do = dh * tc
            dc = dc_next + dh * o * (1 - tc ** 2)
            da = {"i": dc * g * i * (1 - i), "f": dc * c_prev * f * (1 - f),
                  "g": dc * i * (1 - g ** 2), "o": do * o * (1 - o)}
            dx = np.zeros_like(x)
            dh_next = np.zeros_like(h_prev)
            for k in "ifgo":
                grads["Wx"][k] += x.T @ da[k]
                grads["Wh"][k] += h_prev.T @ da[k]
                grads["b"][k] += da[k].sum(axis=0)
                dx += da[k] @ self.Wx[k].T
                dh_next += da[k] @ self.Wh[k].T
            dc_next = dc * f
            dxs.append(dx)
        return np.stack(dxs[::-1]), grads
