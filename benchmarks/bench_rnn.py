"""Time minirnn's recurrent layers against torch's CPU layers in the same process.

    python benchmarks/bench_rnn.py                 # (or `minirnn bench`) the full grid,
                                                   #   float32 and float64, forward+backward
    python benchmarks/bench_rnn.py --quick         # fewer repeats, smaller grid
    python benchmarks/bench_rnn.py --inference     # forward only, under no_grad
    python benchmarks/bench_rnn.py --mode both     # forward+backward, then inference
    python benchmarks/bench_rnn.py --naive         # the tutorial-style LSTM as a baseline
    python benchmarks/bench_rnn.py --train         # one training epoch, end to end
    python benchmarks/bench_rnn.py --json out.json # also write the rows as JSON
    python benchmarks/bench_rnn.py --threads 1     # both libraries pinned to one thread (the
                                                   #   headline; default: each its own threads)

Each entry is the median of several timed runs after warm-up; the ratio is minirnn / torch
(below 1: minirnn is faster). Absolute times vary between machines and runs, ratios much
less. Before timing, each entry checks that both libraries give the same outputs and input
gradients. GFLOP/s counts matrix-product FLOPs only (forward: input projection, recurrent
product, projection; backward: twice that). "gemm ms" is the time of the same matrix products
alone, in NumPy, with the same shapes, into preallocated outputs, on the same threads: the
floor for any implementation built on these products; "x gemm" is minirnn's time over it.
Efficiency divides the GFLOP/s by NumPy's best matrix-product rate seen in the run (a
1024x1024 product or the entry's own products alone, whichever is faster), so it is at most
100% unless timing noise puts minirnn under its own products. Peak MB is tracemalloc's peak for
one forward+backward of minirnn (the caches kept for backward dominate it), or of one
inference forward (which keeps no cache: its peak is the output and a few per-step
buffers); min MB is the
least the equations need to keep for backward, per (t, n, h) of a layer:
    SRN   1 float:  h_t                         (+ the input x_t, per (t, n, d))
    LSTM  6 floats: i, f, g, o, c_t, h_t        (φ(c_t) is recomputed in backward)
    GRU   5 floats: r, z, n, h_t, W_hn h + b_hn (the last could be recomputed with an extra
                                                 matrix product per step)
(bidirectional and stacked layers multiply it by directions and layers).
"""
import argparse
import contextlib
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
from minirnn import _blas  # noqa: E402

GRID = [(50, 32, 10, 20), (35, 8, 32, 32), (35, 64, 32, 32), (35, 64, 32, 256),
        (35, 32, 256, 256), (100, 64, 128, 512)]
QUICK_GRID = [(50, 32, 10, 20), (35, 64, 32, 32), (35, 64, 32, 256)]
LARGE = GRID[3:]                                     # where the matrix products dominate
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


def gemm_alone(kind, T, N, D, H, dtype, inference, layers=1, dirs=1):
    """A function that runs just the matrix products of one pass of the layer, in NumPy.

    Forward, per layer and direction: the input projection (T·N, D) @ (D, G·H) and T
    recurrent products (N, H) @ (H, G·H); backward adds dx (T·N, G·H) @ (G·H, D), dW_ih and
    dW_hh (G·H, T·N) @ (T·N, D or H) and T products (N, G·H) @ (G·H, H). Every output is
    preallocated, so nothing but the products runs: a floor for any implementation that
    computes the layer with these products.
    """
    rng = np.random.default_rng(0)
    G = GATES[kind]

    def rand(*shape):
        return rng.standard_normal(shape).astype(dtype)

    work = []
    for layer in range(layers):
        d_in = D if layer == 0 else H * dirs
        for _ in range(dirs):
            work.append(dict(X=rand(T * N, d_in), W_ihT=rand(d_in, G * H), W_hhT=rand(H, G * H),
                             A=rand(T, N, G * H), S=rand(T, N, H), dX=rand(T * N, d_in),
                             W_ih=rand(G * H, d_in), W_hh=rand(G * H, H),
                             dW_ih=rand(G * H, d_in), dW_hh=rand(G * H, H), dh=rand(N, H)))

    def run():
        for w in work:
            A, S = w["A"], w["S"]
            np.matmul(w["X"], w["W_ihT"], out=A.reshape(T * N, G * H))
            for t in range(T):
                np.matmul(S[t], w["W_hhT"], out=A[t])
            if inference:
                continue
            dA = A.reshape(T * N, G * H)
            np.matmul(dA, w["W_ih"], out=w["dX"])
            np.matmul(dA.T, w["X"], out=w["dW_ih"])
            np.matmul(dA.T, S.reshape(T * N, H), out=w["dW_hh"])
            for t in range(T):
                np.matmul(A[t], w["W_hh"], out=w["dh"])
    return run


def numpy_matmul_rate(dtype, n=1024, repeat=5):
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    out = np.empty_like(a)
    t = median_time(lambda: np.matmul(a, a, out=out), repeat)
    return 2 * n ** 3 / t


def make_pair(kind, D, H, layers, bidir, dtype, torch):
    m = getattr(mnn, kind)(D, H, num_layers=layers, bidirectional=bidir, dtype=dtype, rng=0)
    tm = getattr(torch.nn, kind)(D, H, num_layers=layers, bidirectional=bidir)
    tm = tm.to(torch.float32 if dtype == np.float32 else torch.float64)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return m, tm


def check_same(name, ours, theirs, dtype):
    """Raise unless minirnn's array matches torch's (the benchmark times the same function)."""
    tol = 1e-4 if dtype == np.float32 else 1e-10
    err = np.max(np.abs(ours - theirs)) / max(1.0, np.max(np.abs(theirs)))
    if not err <= tol:
        raise AssertionError(f"minirnn and torch disagree on {name}: {err:.2e} > {tol:g}")


def inference_fns(m, tm, x, xt, torch):
    """The two timed functions of an inference entry: each library's forward under its
    no_grad, returning the output."""
    def ours():
        with minirnn.no_grad():
            return m(x)[0]

    def theirs():
        with torch.no_grad():
            return tm(xt)[0]
    return ours, theirs


def bench_one(kind, T, N, D, H, dtype, torch, repeat, inference=False, layers=1, bidir=False):
    rng = np.random.default_rng(0)
    m, tm = make_pair(kind, D, H, layers, bidir, dtype, torch)
    x = rng.standard_normal((T, N, D)).astype(dtype)
    dirs = 2 if bidir else 1
    dy = rng.standard_normal((T, N, dirs * H)).astype(dtype)
    xt = torch.from_numpy(x.copy())
    dyt = torch.from_numpy(dy.copy())

    if inference:
        ours, theirs = inference_fns(m, tm, x, xt, torch)
        check_same("the output", ours(), theirs().numpy(), dtype)
    else:
        xt.requires_grad_(True)

        def ours():
            y = m(x)[0]
            return y, m.backward(dy)[0]

        def theirs():
            xt.grad = None
            out, _ = tm(xt)
            out.backward(dyt)
            return out, xt.grad
        (y, dx), (ty, tdx) = ours(), theirs()
        check_same("the output", y, ty.detach().numpy(), dtype)
        check_same("dx", dx, tdx.numpy(), dtype)

    gemm = gemm_alone(kind, T, N, D, H, dtype, inference, layers, dirs)
    t_ours, t_torch, t_gemm = median_times([ours, theirs, gemm], repeat, budget=30.0, blocks=5)
    flops = matmul_flops(kind, T, N, D, H, layers, dirs) * (1 if inference else 3)
    tracemalloc.start()
    ours()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    itemsize = np.dtype(dtype).itemsize
    out_bytes = T * N * dirs * H * itemsize
    min_bytes = layers * dirs * T * N * H * MIN_CACHE_FLOATS[kind] * itemsize + x.nbytes
    return {"layer": kind + (f" {layers}L bi" if bidir else ""), "T": T, "N": N, "D": D,
            "H": H, "dtype": np.dtype(dtype).name, "mode": "infer" if inference else "fwd+bwd",
            "minirnn_ms": 1e3 * t_ours, "torch_ms": 1e3 * t_torch, "ratio": t_ours / t_torch,
            "gemm_ms": 1e3 * t_gemm, "x_gemm": t_ours / t_gemm,
            "gflops": flops / t_ours / 1e9, "gemm_gflops": flops / t_gemm / 1e9,
            "peak_mb": peak / 2 ** 20,
            "min_mb": (out_bytes if inference else min_bytes) / 2 ** 20}


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


def machine_facts(torch):
    """What the numbers depend on: CPU, its vector extensions, NumPy's BLAS, the threads."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    simd = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
            if f in flags]
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version')}"
    except Exception:                                  # an old NumPy or another build
        blas = "unknown"
    getter = (_blas._openblas() or (None, None))[1]
    return {"cpu": model, "cores": os.cpu_count(), "simd": simd, "numpy": np.__version__,
            "blas": blas, "blas_threads": getter() if getter else None,
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads()}


def summarise(rows, mode):
    """The summary line of a run: median and max ratio, the worst entries, the GEMM limit."""
    rows = [r for r in rows if "ratio" in r]
    ratios = [r["ratio"] for r in rows]
    worst = sorted(rows, key=lambda r: -r["ratio"])[:3]
    large = [r for r in rows if (r["T"], r["N"], r["D"], r["H"]) in LARGE]
    lines = [f"median ratio {statistics.median(ratios):.2f}, max {max(ratios):.2f} over "
             f"{len(rows)} entries ({mode})",
             "worst: " + "; ".join(f"{r['layer']} {r['T']},{r['N']},{r['D']},{r['H']} "
                                   f"{r['dtype']} {r['ratio']:.2f}" for r in worst)]
    if large:
        lines.append(f"at the large sizes, minirnn / its matrix products alone: max "
                     f"{max(r['x_gemm'] for r in large):.2f}, median "
                     f"{statistics.median(r['x_gemm'] for r in large):.2f}")
    return lines


def argv_used(args):
    """The options of this run, as a command line (for the JSON file)."""
    out = []
    for key in ("quick", "naive", "train"):
        if getattr(args, key):
            out.append("--" + key)
    for key in ("mode", "dtype", "layers", "repeat", "threads", "torch_threads", "json"):
        value = getattr(args, key)
        if value is not None and not (key == "dtype" and value == "both") and not (
                key == "layers" and value == "RNN,LSTM,GRU"):
            out.append(f"--{key.replace('_', '-')} {value}")
    if args.inference and args.mode is None:
        out.append("--inference")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="minirnn bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller grid, fewer repeats")
    p.add_argument("--inference", action="store_true", help="forward under no_grad only "
                   "(the same as --mode infer)")
    p.add_argument("--mode", choices=["fwd+bwd", "infer", "both"], default=None,
                   help="what to time: forward+backward (default), inference, or both")
    p.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    p.add_argument("--layers", default="RNN,LSTM,GRU", help="comma-separated subset")
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--naive", action="store_true",
                   help="also time a tutorial-style LSTM (separate gate matrices, input "
                        "projected inside the loop) at (35, 64, 32, 256)")
    p.add_argument("--train", action="store_true",
                   help="time one training epoch end to end instead of the layer grid")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    p.add_argument("--threads", type=int, metavar="N",
                   help="pin both libraries to N threads: torch.set_num_threads(N) and NumPy's "
                        "OpenBLAS on N (default: each library's own, one thread per core)")
    p.add_argument("--torch-threads", type=int, metavar="N",
                   help="torch.set_num_threads(N) only (NumPy's BLAS keeps its own threads)")
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("the benchmark compares with torch: pip install torch==2.13.0 "
                 "(or pip install -e .[test])")
    for n in (args.threads, args.torch_threads):
        if n is not None and n < 1:
            p.error("thread counts must be at least 1")
    if args.threads or args.torch_threads:
        torch.set_num_threads(args.threads or args.torch_threads)
    pinned = _blas.blas_threads(args.threads) if args.threads else contextlib.nullcontext()
    with pinned:
        return _run(args, torch)


def _run(args, torch):
    facts = machine_facts(torch)
    print(f"# {facts['cpu']}, {facts['cores']} cores ({' '.join(facts['simd'])}); numpy "
          f"{facts['numpy']} with {facts['blas']} on {facts['blas_threads']} thread(s)"
          f"{'' if facts['openblas_coretype'] is None else ', OPENBLAS_CORETYPE=' + facts['openblas_coretype']}"
          f"; torch {facts['torch']} on {facts['torch_threads']} thread(s)")
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    if args.train:
        from bench_training import main as train_main
        rows = train_main(torch, dtypes)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"command": "python benchmarks/bench_rnn.py " +
                           " ".join(argv_used(args)), "machine": facts, "rows": rows}, f,
                          indent=1)
        return rows
    grid = QUICK_GRID if args.quick else GRID
    repeat = args.repeat or (5 if args.quick else 9)
    kinds = args.layers.split(",")
    peaks = {np.dtype(dt).name: numpy_matmul_rate(dt) for dt in dtypes}
    for name, rate in peaks.items():
        print(f"# numpy matmul rate ({name}, 1024x1024 @ 1024x1024): {rate / 1e9:.1f} GFLOP/s")
    configs = [(k, cfg, 1, False) for k in kinds for cfg in grid]
    if not args.quick and "LSTM" in kinds:
        configs.append(("LSTM", (35, 64, 32, 256), 2, True))
    mode = args.mode or ("infer" if args.inference else "fwd+bwd")
    rows, summary = [], {}
    for inference in {"fwd+bwd": [False], "infer": [True], "both": [False, True]}[mode]:
        header = (f"| {'layer':<12}| {'T,N,D,H':<16}| dtype   | {'minirnn ms':>10} | "
                  f"{'torch ms':>9} | ratio | gemm ms | x gemm | GFLOP/s | eff. | peak MB | "
                  f"min MB |")
        print(f"\n{'inference' if inference else 'forward+backward'}:")
        print(header)
        print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
        block = []
        for dt in dtypes:
            for kind, (T, N, D, H), layers, bidir in configs:
                r = bench_one(kind, T, N, D, H, dt, torch, repeat, inference, layers, bidir)
                best = max(peaks[r["dtype"]], r["gemm_gflops"] * 1e9)
                r["efficiency"] = r["gflops"] * 1e9 / best
                block.append(r)
                print(f"| {r['layer']:<12}| {f'{T},{N},{D},{H}':<16}| {r['dtype']} | "
                      f"{r['minirnn_ms']:10.2f} | {r['torch_ms']:9.2f} | {r['ratio']:5.2f} | "
                      f"{r['gemm_ms']:7.2f} | {r['x_gemm']:6.2f} | {r['gflops']:7.1f} | "
                      f"{r['efficiency']:4.0%} | {r['peak_mb']:7.1f} | {r['min_mb']:6.1f} |",
                      flush=True)
        name = "inference" if inference else "forward+backward"
        summary[name] = summarise(block, name)
        print()
        for line in summary[name]:
            print(line)
        rows += block
    if args.naive:
        for dt in dtypes:
            rows.append(bench_naive(dt, repeat))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": "python benchmarks/bench_rnn.py " + " ".join(argv_used(args)),
                       "machine": facts, "rows": rows, "summary": summary,
                       "numpy_matmul_gflops": {k: v / 1e9 for k, v in peaks.items()}}, f,
                      indent=1)
    return rows


if __name__ == "__main__":
    main()
