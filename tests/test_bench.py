"""benchmarks/bench_rnn.py runs and reports what its docstring says (no timing is asserted:
the numbers belong to the benchmark, not to a test)."""
import importlib.util
import pathlib

import numpy as np
import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_rnn", ROOT / "benchmarks" / "bench_rnn.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("inference", [False, True], ids=["fwd+bwd", "infer"])
def test_an_entry_checks_both_libraries_agree_and_reports_its_columns(kind, inference):
    r = bench.bench_one(kind, 4, 3, 2, 5, np.float64, torch, repeat=1, inference=inference)
    for key in ("minirnn_ms", "torch_ms", "ratio", "gemm_ms", "x_gemm", "gflops", "peak_mb",
                "min_mb"):
        assert np.isfinite(r[key]) and r[key] > 0, key
    assert r["mode"] == ("infer" if inference else "fwd+bwd")


def test_a_disagreement_stops_the_benchmark():
    with pytest.raises(AssertionError, match="disagree on dx"):
        bench.check_same("dx", np.ones(3), np.zeros(3), np.float64)
    bench.check_same("dx", np.ones(3) + 1e-12, np.ones(3), np.float64)


@pytest.mark.parametrize("inference", [False, True])
def test_the_matrix_products_alone_do_the_flops_the_columns_count(inference):
    """gemm_alone runs exactly the products matmul_flops counts (forward, and backward twice
    that): counted here by wrapping np.matmul."""
    calls = []
    real = np.matmul

    def counting(a, b, out=None):
        calls.append(2 * a.shape[-2] * a.shape[-1] * b.shape[-1])
        return real(a, b, out=out)

    run = bench.gemm_alone("LSTM", 3, 2, 4, 5, np.float64, inference, layers=2, dirs=2)
    bench.np.matmul = counting
    try:
        run()
    finally:
        bench.np.matmul = real
    flops = bench.matmul_flops("LSTM", 3, 2, 4, 5, layers=2, dirs=2)
    assert sum(calls) == flops * (1 if inference else 3)


def test_the_summary_names_the_worst_entries_and_the_gemm_limit():
    rows = [dict(layer="LSTM", T=35, N=64, D=32, H=256, dtype="float32", ratio=1.1, x_gemm=1.4),
            dict(layer="GRU", T=50, N=32, D=10, H=20, dtype="float64", ratio=0.5, x_gemm=5.0)]
    lines = bench.summarise(rows, "inference")
    assert lines[0] == "median ratio 0.80, max 1.10 over 2 entries (inference)"
    assert lines[1].startswith("worst: LSTM 35,64,32,256 float32 1.10")
    assert "max 1.40" in lines[2]


def test_machine_facts_name_the_blas_and_the_threads():
    facts = bench.machine_facts(torch)
    assert facts["cores"] >= 1 and facts["torch_threads"] >= 1
    assert facts["blas"] and facts["numpy"] == np.__version__


floor_spec = importlib.util.spec_from_file_location("bench_floor",
                                                    ROOT / "benchmarks" / "bench_floor.py")
floor = importlib.util.module_from_spec(floor_spec)
floor_spec.loader.exec_module(floor)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_floor_loops_compute_torchs_lstm(dtype):
    """bench_floor.py's bare and folded loops are the LSTM (measure checks both, and minirnn,
    against torch before timing) and it reports every column over torch's time."""
    r = floor.measure(5, 3, 4, 6, dtype, torch, blocks=1, budget=0.0)
    assert set(r["over_torch"]) == {"torch", "minirnn", "bare loop", "folded", "bound"}
    assert all(np.isfinite(v) and v > 0 for v in r["ms"].values())


def test_a_wrong_floor_loop_stops_the_floor_benchmark(monkeypatch):
    real = floor.bare_loops

    def off_by_one(x, W_ih, W_hh, b):
        return real(x, W_ih, W_hh, b + 1)
    monkeypatch.setattr(floor, "bare_loops", off_by_one)
    with pytest.raises(AssertionError, match="bare loop disagrees with torch"):
        floor.measure(5, 3, 4, 6, "float64", torch, blocks=1, budget=0.0)
