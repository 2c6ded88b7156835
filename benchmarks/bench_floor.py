"""How close can NumPy get? The LSTM inference step with nothing around it, against torch.

    python benchmarks/bench_floor.py [--json docs/perf/floor.json]

For the LSTM entries furthest above torch in inference, one process, both libraries on one
thread, timed in alternating blocks (as bench_rnn.py times its grid), milliseconds per
sequence of T steps:

- torch: nn.LSTM under torch.no_grad();
- minirnn: minirnn.nn.LSTM under minirnn.no_grad() (the engine, as the grid times it);
- bare loop: the same NumPy calls as the engine's inference step (lstm_forward's "One exp"
  loop: the recurrent product, the addition of the input half, exp, + 1, 1 / ·, the two for
  g, the three for c_t, tanh and the product for h_t), on preallocated arrays, with no
  layer, no checks and no chunking around them: what the engine's loop would cost with
  nothing else at all;
- folded: the bare loop with the input folded into the product, [x_t | h_{t-1} | 1] @ W,
  one call fewer per step (the best variant measured; the engine does not use it: see
  docs/performance.md);
- bound: per step only the recurrent product and one exp over the gates and one tanh over
  c_t, three calls that any NumPy LSTM step needs (the rest of a step adds to them).

minirnn over the bare loop is what the layer and the sequence's set-up cost (checks, state
buffers, the per-step views, the weights' arrangement); the bare loop over torch is what the
engine's NumPy calls themselves cost; the bound is the part of a step no NumPy LSTM avoids.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import bench_rnn  # noqa: E402
from minirnn._blas import blas_threads  # noqa: E402

# small float32 layers, where torch runs oneDNN's fused kernel and minirnn is furthest behind;
# each is one chunk of the engine's (_sequence.chunks) and uses np.tanh, so the bare loop
# makes exactly the engine's calls
ENTRIES = [(50, 32, 10, 20, "float32"), (35, 8, 32, 32, "float32"),
           (35, 64, 32, 32, "float32")]


def bare_loops(x, W_ih, W_hh, b):
    """The bare, folded and bound loops for weights in torch's layout (gate rows i|f|g|o)."""
    T, N, D = x.shape
    H = W_hh.shape[0] // 4
    dtype = x.dtype
    scale = np.repeat(np.array([-1, -1, -2, -1], dtype), H)[:, None]   # the engine's "One exp"
    W_in = (W_ih * scale).reshape(4, H, D).transpose(0, 2, 1).copy()     # (4, D, H)
    W_rec = (W_hh * scale).reshape(4, H, H).transpose(0, 2, 1).copy()    # (4, H, H)
    bias = (b * scale[:, 0]).reshape(4, 1, H)
    a = np.empty((4, N, H), dtype)
    i, f, g, o = a
    one = np.ones((4, N, H), dtype)
    one_g = one[0]
    cells = np.zeros((2, N, H), dtype)
    tc, i_g = np.empty((N, H), dtype), np.empty((N, H), dtype)
    S = np.zeros((T + 1, N, H), dtype)
    A = np.empty((4, T * N, H), dtype)
    A_t = A.reshape(4, T, N, H).transpose(1, 0, 2, 3)
    Z = np.zeros((T + 1, N, D + H + 1), dtype)
    Z[:T, :, :D] = x
    Z[:, :, -1] = 1
    Zh = Z[:, :, D:D + H]
    W_z = np.concatenate([W_in, W_rec, bias], axis=1)                     # (4, D+H+1, H)

    def cell_and_h(t, h):
        c_prev, c = cells[t % 2], cells[1 - t % 2]
        np.exp(a, a)
        np.add(a, one, a)
        np.reciprocal(a, a)
        np.add(g, g, g)
        np.subtract(g, one_g, g)
        np.multiply(f, c_prev, c)
        np.multiply(i, g, i_g)
        np.add(c, i_g, c)
        np.tanh(c, tc)
        np.multiply(o, tc, h)

    def bare():
        cells[0] = 0                                                       # c_0
        np.matmul(x.reshape(-1, D), W_in, A)
        np.add(A, bias, A)
        for t in range(T):
            np.matmul(S[t], W_rec, a)
            np.add(a, A_t[t], a)
            cell_and_h(t, S[t + 1])
        return S[1:]

    def folded():
        cells[0] = 0
        for t in range(T):
            np.matmul(Z[t], W_z, a)
            cell_and_h(t, Zh[t + 1])
        return Zh[1:]

    c_bound = np.random.default_rng(0).uniform(-2, 2, (N, H)).astype(dtype)   # a c_t's range

    def bound():
        for t in range(T):
            np.matmul(S[t], W_rec, a)
            np.exp(a, a)
            np.tanh(c_bound, tc)

    return bare, folded, bound


def measure(T, N, D, H, dtype, torch, blocks=7, budget=0.05):
    dtype = np.dtype(dtype).type
    m, tm = bench_rnn.make_pair("LSTM", D, H, 1, False, dtype, torch)
    x = np.random.default_rng(0).standard_normal((T, N, D)).astype(dtype)
    ours, theirs = bench_rnn.inference_fns(m, tm, x, torch.from_numpy(x), torch)
    bare, folded, bound = bare_loops(x, m.weight_ih_l0.data, m.weight_hh_l0.data,
                                     m.bias_ih_l0.data + m.bias_hh_l0.data)
    expected = theirs().numpy()
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for name, fn in (("minirnn", ours), ("bare loop", bare), ("folded", folded)):
        err = np.max(np.abs(fn() - expected))
        if not err <= tol:
            raise AssertionError(f"{name} disagrees with torch: {err:.2e} > {tol:g}")
    fns = {"torch": theirs, "minirnn": ours, "bare loop": bare, "folded": folded,
           "bound": bound}
    t0 = time.perf_counter()
    ours()
    calls = max(3, int(budget / (time.perf_counter() - t0)))
    times = {k: [] for k in fns}
    with np.errstate(over="ignore"):
        for _ in range(blocks):                  # alternating blocks: a burst of load on the
            for name, fn in fns.items():         # machine slows every column alike
                fn()
                t0 = time.perf_counter()
                for _ in range(calls):
                    fn()
                times[name].append((time.perf_counter() - t0) / calls)
    ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    return {"T": T, "N": N, "D": D, "H": H, "dtype": np.dtype(dtype).name, "ms": ms,
            "over_torch": {k: v / ms["torch"] for k, v in ms.items()}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    rows = []
    print("| LSTM inference (T, N, D, H) | torch ms | minirnn | bare loop | folded | bound |")
    print("|---|---|---|---|---|---|")
    with blas_threads(1):
        for T, N, D, H, dtype in ENTRIES:
            r = measure(T, N, D, H, dtype, torch)
            rows.append(r)
            o = r["over_torch"]
            print(f"| ({T}, {N}, {D}, {H}) {dtype} | {r['ms']['torch']:.3f} | "
                  f"{o['minirnn']:.2f} | {o['bare loop']:.2f} | {o['folded']:.2f} | "
                  f"{o['bound']:.2f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": "python benchmarks/bench_floor.py --json " + args.json,
                       "rows": rows}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
