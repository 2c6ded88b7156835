"""The costs the engine's arrangements rest on, measured with NumPy alone on one thread.

    python benchmarks/bench_elementwise.py [--json docs/perf/elementwise.json]

- ns per element of np.exp and np.tanh, and of tanh through exp (minirnn's
  ``activations.tanh`` for large float64 arrays), on 16384 elements (a (64, 256) state);
- µs per call of one multiply on a small (32, 20) block: contiguous, a column slice of an
  (N, 4H) array, and with a Python scalar in place of an array operand;
- µs per call of a whole-chunk multiply on contiguous (16, 32, 20) arrays and on the same
  shape sliced out of a (16, 4, 32, 20) array.
Each figure is the best of several repeats (the least disturbed by other processes).
"""
import argparse
import json
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn._blas import blas_threads  # noqa: E402
from minirnn.functional import activations  # noqa: E402


def best(fn, number):
    """Seconds per call: the best of 7 repeats of ``number`` calls."""
    return min(timeit.repeat(fn, number=number, repeat=7)) / number


def per_element(dtype, n=16384):
    x = np.random.default_rng(0).uniform(-3, 3, n).astype(dtype)
    out = np.empty_like(x)
    ns = {"exp": best(lambda: np.exp(x, out=out), 200),
          "tanh": best(lambda: np.tanh(x, out=out), 200),
          "multiply": best(lambda: np.multiply(x, x, out=out), 2000)}
    if dtype == np.float64:
        ns["tanh through exp"] = best(lambda: activations.tanh(x, out), 200)
    return {k: 1e9 * v / n for k, v in ns.items()}


def per_call(dtype, N=32, H=20):
    rng = np.random.default_rng(0)
    rows = rng.uniform(size=(N, 4 * H)).astype(dtype)
    block = rng.uniform(size=(4, N, H)).astype(dtype)
    out = np.empty((N, H), dtype)
    two = np.full((N, H), 2, dtype)
    us = {"contiguous": best(lambda: np.multiply(block[0], block[1], out=out), 20000),
          "column slice": best(lambda: np.multiply(rows[:, :H], rows[:, H:2 * H], out=out),
                               20000),
          "array operand": best(lambda: np.multiply(block[0], two, out=out), 20000),
          "scalar operand": best(lambda: np.multiply(block[0], 2, out=out), 20000)}
    chunk = rng.uniform(size=(16, N, H)).astype(dtype)
    chunk_out = np.empty_like(chunk)
    gates = rng.uniform(size=(16, 4, N, H)).astype(dtype)
    us["chunk contiguous"] = best(lambda: np.multiply(chunk, chunk, out=chunk_out), 2000)
    us["chunk gate slice"] = best(lambda: np.multiply(gates[:, 1], gates[:, 2], out=chunk_out),
                                  2000)
    return {k: 1e6 * v for k, v in us.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    results = {}
    with blas_threads(1), np.errstate(over="ignore"):
        for dt in (np.float32, np.float64):
            name = np.dtype(dt).name
            results[name] = {"ns_per_element": per_element(dt), "us_per_call": per_call(dt)}
            print(name, json.dumps(results[name], indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": "python benchmarks/bench_elementwise.py --json " + args.json,
                       "results": results}, f, indent=1)
    return results


if __name__ == "__main__":
    main()
