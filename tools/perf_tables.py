"""The performance tables of docs/performance.md and README, built from the benchmark's JSON
files (``benchmarks/bench_rnn.py --json``); tools/update_results.py writes them, and
tests/test_documented_numbers.py checks that the docs are what this builds.

    docs/perf/threads1-run1.json .. run3.json   three consecutive full runs, one thread each:
        python benchmarks/bench_rnn.py --threads 1 --mode both --json docs/perf/threads1-runK.json
    docs/perf/default-threads.json               one full run, each library on its own threads:
        python benchmarks/bench_rnn.py --mode both --json docs/perf/default-threads.json
    docs/perf/training-threads1.json, training-default.json     one training epoch:
        python benchmarks/bench_rnn.py --train [--threads 1] --json docs/perf/training-....json
    docs/perf/before-threads1.json   the same one-thread run on the engine before this
        arrangement (commit 51b046c), for the gains
    docs/perf/elementwise.json       python benchmarks/bench_elementwise.py --json ...
    docs/perf/floor.json             python benchmarks/bench_floor.py --json ...
"""
import json
import os
import statistics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = [f"docs/perf/threads1-run{k}.json" for k in (1, 2, 3)]
DEFAULT = "docs/perf/default-threads.json"
BEFORE = "docs/perf/before-threads1.json"
ELEMENTWISE = "docs/perf/elementwise.json"
FLOOR = "docs/perf/floor.json"
TRAINING = {"one thread": "docs/perf/training-threads1.json",
            "default threads": "docs/perf/training-default.json"}
LARGE = [(35, 64, 32, 256), (35, 32, 256, 256), (100, 64, 128, 512)]
MODES = {"fwd+bwd": "forward+backward", "infer": "inference"}


def load(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return json.load(f)


def available():
    """True once every results file exists (before the first runs, no tables are built)."""
    paths = RUNS + [DEFAULT, BEFORE, ELEMENTWISE, FLOOR] + list(TRAINING.values())
    return all(os.path.exists(os.path.join(ROOT, p)) for p in paths)


def key(r):
    return (r["layer"], r["T"], r["N"], r["D"], r["H"], r["dtype"], r["mode"])


def size(r):
    return f"{r['T']}, {r['N']}, {r['D']}, {r['H']}"


def entry(r):
    return f"{r['layer']} ({size(r)}) {r['dtype']}"


def rows_of(res, mode):
    return [r for r in res["rows"] if r.get("mode") == mode]


def machine_block(res):
    m = res["machine"]
    rates = res["numpy_matmul_gflops"]
    coretype = "" if m["openblas_coretype"] is None else \
        f", OPENBLAS_CORETYPE={m['openblas_coretype']}"
    return (f"Measured on {m['cpu']}, {m['cores']} cores ({', '.join(m['simd'])}); NumPy "
            f"{m['numpy']} with {m['blas']}{coretype}; torch {m['torch']}. In the third run, "
            f"NumPy's rate for a 1024 × 1024 matrix product on one thread was "
            f"{rates['float32']:.1f} GFLOP/s in float32 and {rates['float64']:.1f} in "
            f"float64.\n")


def runs_block(runs):
    lines = ["| run | fwd+bwd median | fwd+bwd max | inference median | inference max | "
             "large sizes: × products alone, fwd+bwd / inference (max) |",
             "|---|---|---|---|---|---|"]
    for k, res in enumerate(runs, 1):
        cells = []
        for mode in MODES:
            rs = rows_of(res, mode)
            worst = max(rs, key=lambda r: r["ratio"])
            cells += [f"{statistics.median(r['ratio'] for r in rs):.2f}",
                      f"{worst['ratio']:.2f} ({entry(worst)})"]
        limits = [max(r["x_gemm"] for r in rows_of(res, mode)
                      if (r["T"], r["N"], r["D"], r["H"]) in LARGE) for mode in MODES]
        lines.append(f"| {k} | " + " | ".join(cells) +
                     f" | {limits[0]:.2f} / {limits[1]:.2f} |")
    return "\n".join(lines) + "\n"


def grid_block(res, default, mode):
    """One row per layer and size: both dtypes side by side, the default-threads ratio too."""
    rows = rows_of(res, mode)
    beside = {key(r): r for r in rows_of(default, mode)}
    order = []
    for r in rows:
        if (r["layer"], size(r)) not in order:
            order.append((r["layer"], size(r)))
    by = {(r["layer"], size(r), r["dtype"]): r for r in rows}
    lines = ["| layer | T, N, D, H | float32 minirnn / torch ms | ratio | float64 minirnn / "
             "torch ms | ratio | × products alone f32 / f64 | efficiency f32 / f64 | "
             "default threads: ratio f32 / f64 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for layer, sz in order:
        a, b = by[(layer, sz, "float32")], by[(layer, sz, "float64")]
        da, db = beside.get(key(a)), beside.get(key(b))
        dflt = " / ".join("–" if d is None else f"{d['ratio']:.2f}" for d in (da, db))
        lines.append(f"| {layer} | {sz} | {a['minirnn_ms']:.2f} / {a['torch_ms']:.2f} | "
                     f"**{a['ratio']:.2f}** | {b['minirnn_ms']:.2f} / {b['torch_ms']:.2f} | "
                     f"**{b['ratio']:.2f}** | {a['x_gemm']:.2f} / {b['x_gemm']:.2f} | "
                     f"{a['efficiency']:.0%} / {b['efficiency']:.0%} | {dflt} |")
    ratios = [r["ratio"] for r in rows]
    dratios = [r["ratio"] for r in rows_of(default, mode)]
    lines.append("")
    lines.append(f"One thread each: median ratio **{statistics.median(ratios):.2f}**, max "
                 f"{max(ratios):.2f}, over {len(ratios)} entries. Default threads: median "
                 f"{statistics.median(dratios):.2f}, max {max(dratios):.2f}.")
    return "\n".join(lines) + "\n"


def memory_block(res):
    lines = ["| layer | T, N, D, H | fwd+bwd peak / equations' minimum MB (f64) | "
             "inference peak / output MB (f64) |", "|---|---|---|---|"]
    infer = {(r["layer"], size(r), r["dtype"]): r for r in rows_of(res, "infer")}
    for r in rows_of(res, "fwd+bwd"):
        if r["dtype"] != "float64":
            continue
        i = infer[(r["layer"], size(r), "float64")]
        lines.append(f"| {r['layer']} | {size(r)} | {r['peak_mb']:.1f} / {r['min_mb']:.1f} | "
                     f"{i['peak_mb']:.1f} / {i['min_mb']:.1f} |")
    return "\n".join(lines) + "\n"


def training_block(results):
    lines = ["| training epoch | dtype | threads | minirnn s | torch s | ratio |",
             "|---|---|---|---|---|---|"]
    for threads, res in results.items():
        for r in res["rows"]:
            lines.append(f"| {r['task']} | {r['dtype']} | {threads} | {r['minirnn_s']:.2f} | "
                         f"{r['torch_s']:.2f} | **{r['ratio']:.2f}** |")
    return "\n".join(lines) + "\n"


def before_block(before, after):
    """Median and max ratio per layer and mode, before and after (one thread each)."""
    lines = ["| layers | forward+backward before → after: median, max | "
             "inference before → after: median, max |", "|---|---|---|"]
    groups = [("all", None)] + [(k, k) for k in ("RNN", "LSTM", "GRU")]
    for label, kind in groups:
        cells = []
        for mode in MODES:
            pair = []
            for res in (before, after):
                rs = [r["ratio"] for r in rows_of(res, mode)
                      if kind is None or r["layer"].split()[0] == kind]
                pair.append((statistics.median(rs), max(rs)))
            cells.append(f"{pair[0][0]:.2f}, {pair[0][1]:.2f} → **{pair[1][0]:.2f}**, "
                         f"**{pair[1][1]:.2f}**")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def elementwise_block(res):
    r = res["results"]
    f32, f64 = r["float32"], r["float64"]
    e32, e64 = f32["ns_per_element"], f64["ns_per_element"]
    c32, c64 = f32["us_per_call"], f64["us_per_call"]
    rows = [("np.exp, ns per element", e32["exp"], e64["exp"]),
            ("np.tanh, ns per element", e32["tanh"], e64["tanh"]),
            ("tanh through exp (activations.tanh), ns per element", None,
             e64["tanh through exp"]),
            ("np.multiply, ns per element", e32["multiply"], e64["multiply"]),
            ("multiply (32, 20), contiguous, µs per call", c32["contiguous"],
             c64["contiguous"]),
            ("multiply (32, 20), column slices of (32, 80), µs per call",
             c32["column slice"], c64["column slice"]),
            ("multiply (32, 20) by an array, µs per call", c32["array operand"],
             c64["array operand"]),
            ("multiply (32, 20) by the scalar 2, µs per call", c32["scalar operand"],
             c64["scalar operand"]),
            ("multiply (16, 32, 20), contiguous, µs per call", c32["chunk contiguous"],
             c64["chunk contiguous"]),
            ("multiply (16, 32, 20) sliced from (16, 4, 32, 20), µs per call",
             c32["chunk gate slice"], c64["chunk gate slice"])]
    lines = ["| NumPy, one thread | float32 | float64 |", "|---|---|---|"]
    for name, a, b in rows:
        lines.append(f"| {name} | {'–' if a is None else f'{a:.2f}'} | {b:.2f} |")
    return "\n".join(lines) + "\n"


def floor_block(res):
    lines = ["| LSTM inference, one thread each (T, N, D, H) | torch ms | minirnn | bare loop | "
             "folded | bound |", "|---|---|---|---|---|---|"]
    for r in res["rows"]:
        o = r["over_torch"]
        lines.append(f"| ({size(r)}) {r['dtype']} | {r['ms']['torch']:.3f} | "
                     f"{o['minirnn']:.2f} | {o['bare loop']:.2f} | {o['folded']:.2f} | "
                     f"{o['bound']:.2f} |")
    return "\n".join(lines) + "\n"


def readme_block(runs, default, training):
    last = runs[-1]
    lines = ["| minirnn / torch (below 1: minirnn faster) | median | max |", "|---|---|---|"]
    for mode, name in MODES.items():
        for label, res in (("one thread each", last), ("default threads", default)):
            rs = [r["ratio"] for r in rows_of(res, mode)]
            lines.append(f"| {name}, {label} | {statistics.median(rs):.2f} | {max(rs):.2f} |")
    for r in training["one thread"]["rows"]:
        lines.append(f"| one training epoch, {r['task']}, {r['dtype']}, one thread | "
                     f"{r['ratio']:.2f} | |")
    return "\n".join(lines) + "\n"


def blocks():
    """{(path, marker name): generated text} for every performance block."""
    if not available():
        return {}
    runs = [load(p) for p in RUNS]
    default = load(DEFAULT)
    training = {k: load(p) for k, p in TRAINING.items()}
    page = "docs/performance.md"
    return {(page, "perf:machine"): machine_block(runs[-1]),
            (page, "perf:runs"): runs_block(runs),
            (page, "perf:fwdbwd"): grid_block(runs[-1], default, "fwd+bwd"),
            (page, "perf:infer"): grid_block(runs[-1], default, "infer"),
            (page, "perf:memory"): memory_block(runs[-1]),
            (page, "perf:training"): training_block(training),
            (page, "perf:before"): before_block(load(BEFORE), runs[-1]),
            (page, "perf:elementwise"): elementwise_block(load(ELEMENTWISE)),
            (page, "perf:floor"): floor_block(load(FLOOR)),
            ("README.md", "perf:summary"): readme_block(runs, default, training)}
