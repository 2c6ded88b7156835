"""The benchmark's results files behind docs/performance.md say what they claim to be: full
grids, both libraries on one thread where the page says so, written by the command they name.
(That the page's tables are what tools/update_results.py builds from them is checked in
tests/test_documented_numbers.py.)"""
import importlib.util
import os
import shlex

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("perf_tables",
                                              os.path.join(ROOT, "tools", "perf_tables.py"))
perf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(perf)

pytestmark = pytest.mark.skipif(not perf.available(), reason="no benchmark results yet")

GRID = 6 * 3 * 2 + 2          # six sizes x three layers x two dtypes, plus the 2-layer bi LSTM


def options(res):
    argv = shlex.split(res["command"])
    assert argv[:2] == ["python", "benchmarks/bench_rnn.py"]
    return argv[2:]


@pytest.mark.parametrize("path", perf.RUNS + [perf.DEFAULT, perf.BEFORE])
def test_a_run_is_the_full_grid_in_both_modes(path):
    res = perf.load(path)
    for mode in perf.MODES:
        rows = perf.rows_of(res, mode)
        assert len(rows) == GRID and len({perf.key(r) for r in rows}) == GRID, (path, mode)
        assert all(r["ratio"] > 0 and r["efficiency"] <= 1.0 + 1e-9 for r in rows)


@pytest.mark.parametrize("path", perf.RUNS + [perf.BEFORE, perf.TRAINING["one thread"]])
def test_one_thread_runs_pinned_both_libraries(path):
    res = perf.load(path)
    assert res["machine"]["torch_threads"] == 1 and res["machine"]["blas_threads"] == 1
    assert "--threads 1" in " ".join(options(res))


@pytest.mark.parametrize("path", perf.RUNS + [perf.DEFAULT])
def test_a_run_names_the_command_that_wrote_it(path):
    argv = options(perf.load(path))
    assert "--mode both" in " ".join(argv)
    assert argv[argv.index("--json") + 1] == path
    assert ("--threads" in argv) == (path != perf.DEFAULT)


def test_the_runs_are_on_one_machine():
    machines = [perf.load(p)["machine"] for p in perf.RUNS + [perf.DEFAULT]]
    assert len({(m["cpu"], m["numpy"], m["torch"], m["blas"]) for m in machines}) == 1


def test_the_floor_run_supports_what_the_page_reads_from_it():
    """docs/performance.md ("Where the floor is") reads from floor.json: the bare loop above
    1.2x torch on the two 32-unit layers, minirnn above its own bare loop, the bound below
    torch; and the file names the command that wrote it."""
    res = perf.load(perf.FLOOR)
    assert res["command"] == f"python benchmarks/bench_floor.py --json {perf.FLOOR}"
    rows = {(r["T"], r["N"], r["D"], r["H"], r["dtype"]): r["over_torch"] for r in res["rows"]}
    for entry in [(35, 8, 32, 32, "float32"), (35, 64, 32, 32, "float32")]:
        assert rows[entry]["bare loop"] > 1.2, entry
    for o in rows.values():
        assert o["minirnn"] > o["bare loop"] and o["bound"] < 1.0
