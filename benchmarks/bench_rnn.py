"""Time minirnn's recurrent layers against torch's CPU layers in the same process.

    python benchmarks/bench_rnn.py                 # (or `minirnn bench`) the full grid,
                                                   #   float32 and float64, forward+backward
    python benchmarks/bench_rnn.py --quick         # fewer repeats, smaller grid
    python benchmarks/bench_rnn.py --inference     # forward only, under no_grad
    python benchmarks/bench_rnn.py --naive         # the tutorial-style LSTM as a baseline
    python benchmarks/bench_rnn.py --train         # one training epoch, end to end
    python benchmarks/bench_rnn.py --json out.json # also write the rows as JSON
    python benchmarks/bench_rnn.py --torch-threads 1   # torch on one thread (default: its own)

Each entry is the median of several timed runs after warm-up; the ratio is minirnn / torch
(below 1: minirnn is faster). Absolute times vary between machines and runs, ratios much
less. GFLOP/s counts matrix-product FLOPs only (forward: input projection, recurrent product,
projection; backward: twice that), and efficiency divides it by NumPy's own rate for a large
matrix product of the same dtype measured in the same run. Peak MB is tracemalloc's peak for
one forward+backward of minirnn (the caches kept for backward dominate it); min MB is the
least the equations need to keep for backward, per (t, n, h) of a layer:
    SRN   1 float:  h_t                         (+ the input x_t, per (t, n, d))
    LSTM  6 floats: i, f, g, o, c_t, h_t        (φ(c_t) is recomputed in backward)
    GRU   5 floats: r, z, n, h_t, W_hn h + b_hn (the last could be recomputed with an extra
                                                 matrix product per step)
(bidirectional and stacked layers multiply it by directions and layers).
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minirnn  # noqa: E402
import minirnn.nn as mnn  # noqa: E402

GRID = [(50, 32, 10, 20), (35, 8, 32, 32), (35, 64, 32, 32), (35, 64, 32, 256),
        (35, 32, 256, 256), (100, 64, 128, 512)]
QUICK_GRID = [(50, 32, 10, 20), (35, 64, 32, 32), (35, 64, 32, 256)]
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
MIN_CACHE_FLOATS = {"RNN": 1, "LSTM": 6, "GRU": 5}   # per (t, n, h), see the docstring


def median_time(fn, repeat, warmup=2):
    """Median wall time of fn() in seconds after ``warmup`` calls."""
    return median_times([fn], repeat, warmup, blocks=1)[0]


def median_times(fns, repeat, warmup=2, budget=None, blocks=3):
    """Median wall times of several functions, timed in alternating blocks.

    Each block runs one function ``warmup`` times untimed, then several timed calls in a row,
    so every library is measured in its steady state: torch's OpenMP workers spin for a while
    after each call and sleep when idle, so timing the two libraries call by call would charge
    each with the other's threads (and a pause between calls would charge torch with waking
    its own). Alternating the blocks means a burst of load on a shared machine slows both
    alike, so the ratio stays meaningful even when absolute times drift.
    """
    per_block = max(1, -(-repeat // blocks))
    times = [[] for _ in fns]
    start = time.perf_counter()
    for _ in range(blocks):
        for fn, ts in zip(fns, times):
            for _ in range(warmup):
                fn()
            for _ in range(per_block):
                t0 = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t0)
        if budget and time.perf_counter() - start > budget:
            break
    return [statistics.median(ts) for ts in times]


def matmul_flops(kind, T, N, D, H, layers=1, dirs=1):
    """Matrix-product FLOPs of one forward pass (backward is twice this)."""
    G = GATES[kind]
    total = 0
    for layer in range(layers):
        d_in = D if layer == 0 else H * dirs
        total += dirs * 2 * T * N * G * H * (d_in + H)
    return total


def numpy_matmul_rate(dtype, n=1024, repeat=5):
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    t = median_time(lambda: a @ a, repeat)
    return 2 * n ** 3 / t


def make_pair(kind, D, H, layers, bidir, dtype, torch):
    m = getattr(mnn, kind)(D, H, num_layers=layers, bidirectional=bidir, dtype=dtype, rng=0)
    tm = getattr(torch.nn, kind)(D, H, num_layers=layers, bidirectional=bidir)
    tm = tm.to(torch.float32 if dtype == np.float32 else torch.float64)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return m, tm


def bench_one(kind, T, N, D, H, dtype, torch, repeat, inference=False, layers=1, bidir=False):
    rng = np.random.default_rng(0)
    m, tm = make_pair(kind, D, H, layers, bidir, dtype, torch)
    x = rng.standard_normal((T, N, D)).astype(dtype)
    dirs = 2 if bidir else 1
    dy = rng.standard_normal((T, N, dirs * H)).astype(dtype)
    xt = torch.from_numpy(x.copy())
    dyt = torch.from_numpy(dy.copy())

    if inference:
        def ours():
            with minirnn.no_grad():
                m(x)

        def theirs():
            with torch.no_grad():
                tm(xt)
    else:
        xt.requires_grad_(True)

        def ours():
            m(x)
            m.backward(dy)

        def theirs():
            out, _ = tm(xt)
            out.backward(dyt)

    t_ours, t_torch = median_times([ours, theirs], repeat, budget=30.0)
    flops = matmul_flops(kind, T, N, D, H, layers, dirs) * (1 if inference else 3)
    tracemalloc.start()
    ours()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    itemsize = np.dtype(dtype).itemsize
    min_bytes = layers * dirs * T * N * H * MIN_CACHE_FLOATS[kind] * itemsize + x.nbytes
    return {"layer": kind + (f" {layers}L bi" if bidir else ""), "T": T, "N": N, "D": D,
            "H": H, "dtype": np.dtype(dtype).name, "mode": "infer" if inference else "fwd+bwd",
            "minirnn_ms": 1e3 * t_ours, "torch_ms": 1e3 * t_torch, "ratio": t_ours / t_torch,
            "gflops": flops / t_ours / 1e9, "peak_mb": peak / 2 ** 20,
            "min_mb": (0 if inference else min_bytes) / 2 ** 20}


def bench_naive(dtype, repeat, T=35, N=64, D=32, H=256):
    """minirnn's LSTM vs the tutorial-style one (benchmarks the organisation, not the math)."""
    from naive_lstm import NaiveLSTM
    rng = np.random.default_rng(0)
    m = mnn.LSTM(D, H, dtype=dtype, rng=0)
    naive = NaiveLSTM(m.weight_ih_l0.data, m.weight_hh_l0.data,
                      m.bias_ih_l0.data + m.bias_hh_l0.data)
    x = rng.standard_normal((T, N, D)).astype(dtype)
    dy = rng.standard_normal((T, N, H)).astype(dtype)
    y_naive = naive.forward(x)
    dx_naive, _ = naive.backward(dy)
    y, _ = m(x)
    dx, _ = m.backward(dy)
    tol = 1e-4 if dtype == np.float32 else 1e-10     # same LSTM, different organisation
    assert np.allclose(y, y_naive, atol=tol) and np.allclose(dx, dx_naive, atol=tol)

    def ours():
        m(x)
        m.backward(dy)

    def theirs():
        naive.forward(x)
        naive.backward(dy)

    t_ours, t_naive = median_times([ours, theirs], repeat)
    r = {"layer": "naive LSTM", "T": T, "N": N, "D": D, "H": H,
         "dtype": np.dtype(dtype).name, "minirnn_ms": 1e3 * t_ours, "naive_ms": 1e3 * t_naive,
         "speedup": t_naive / t_ours}
    print(f"| tutorial-style LSTM {T},{N},{D},{H} {r['dtype']}: {r['naive_ms']:.2f} ms vs "
          f"minirnn {r['minirnn_ms']:.2f} ms: minirnn is {r['speedup']:.1f}x faster")
    return r


def main(argv=None):
    p = argparse.ArgumentParser(prog="minirnn bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller grid, fewer repeats")
    p.add_argument("--inference", action="store_true", help="forward under no_grad only")
    p.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    p.add_argument("--layers", default="RNN,LSTM,GRU", help="comma-separated subset")
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--naive", action="store_true",
                   help="also time a tutorial-style LSTM (separate gate matrices, input "
                        "projected inside the loop) at (35, 64, 32, 256)")
    p.add_argument("--train", action="store_true",
                   help="time one training epoch end to end instead of the layer grid")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    p.add_argument("--torch-threads", type=int, metavar="N",
                   help="torch.set_num_threads(N) first (default: torch's own choice, one "
                        "per core); torch's small fused LSTM runs faster on one thread")
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("the benchmark compares with torch: pip install torch==2.13.0 "
                 "(or pip install -e .[test])")
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    if args.train:
        from bench_training import main as train_main
        dts = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
        rows = train_main(torch, dts)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"rows": rows}, f, indent=1)
        return rows
    grid = QUICK_GRID if args.quick else GRID
    repeat = args.repeat or (5 if args.quick else 9)
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    kinds = args.layers.split(",")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}, torch {torch.__version__}, torch threads "
          f"{torch.get_num_threads()}")
    peaks = {np.dtype(dt).name: numpy_matmul_rate(dt) for dt in dtypes}
    for name, rate in peaks.items():
        print(f"# numpy matmul rate ({name}, 1024x1024 @ 1024x1024): {rate / 1e9:.1f} GFLOP/s")
    header = (f"| {'layer':<12}| {'T,N,D,H':<16}| dtype   | {'minirnn ms':>10} | {'torch ms':>9} "
              f"| ratio | GFLOP/s | eff. | peak MB | min MB |")
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    rows = []
    configs = [(k, cfg, 1, False) for k in kinds for cfg in grid]
    if not args.quick and "LSTM" in kinds:
        configs.append(("LSTM", (35, 64, 32, 256), 2, True))
    for dt in dtypes:
        for kind, (T, N, D, H), layers, bidir in configs:
            r = bench_one(kind, T, N, D, H, dt, torch, repeat, args.inference, layers, bidir)
            r["efficiency"] = r["gflops"] * 1e9 / peaks[r["dtype"]]
            rows.append(r)
            print(f"| {r['layer']:<12}| {f'{T},{N},{D},{H}':<16}| {r['dtype']} | "
                  f"{r['minirnn_ms']:10.2f} | {r['torch_ms']:9.2f} | {r['ratio']:5.2f} | "
                  f"{r['gflops']:7.1f} | {r['efficiency']:4.0%} | {r['peak_mb']:7.1f} | "
                  f"{r['min_mb']:6.1f} |",
                  flush=True)
    if args.naive:
        for dt in dtypes:
            rows.append(bench_naive(dt, repeat))
    ratios = [r["ratio"] for r in rows if r["layer"] != "naive LSTM"]
    print(f"\nmedian ratio {statistics.median(ratios):.2f}, max {max(ratios):.2f} "
          f"over {len(rows)} entries ({'inference' if args.inference else 'forward+backward'})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "numpy_matmul_gflops": {k: v / 1e9 for k, v in
                                                             peaks.items()}}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
