"""Every DigitSum and explode number and figure in README and docs/digitsum comes from a
results file a command wrote, and those files reproduce.

Fast: README, docs/digitsum/*.md and *.csv are exactly what tools/update_results.py builds from
the committed results files; each figure carries the hash of the data it was drawn from; each
results file's summary is the summary of its runs. (That ``minirnn explode`` reproduces
docs/digitsum/explode.json is checked in tests/test_demos.py, by the run it makes anyway.)
Slow (``pytest -m slow``): re-running ``minirnn digitsum`` gives the committed runs, one
(recipe, seed, length) at a time -- all of them together are the whole command again (the
wall time is in each file; -k selects a part, e.g. ``-k "book and seed1 and L10"``).
"""
import importlib.util
import os

import pytest

from minirnn import get_impl
from minirnn.cli import build_parser
from minirnn.demos import digitsum, explode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    "update_results", os.path.join(ROOT, "tools", "update_results.py"))
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

RESULTS = {recipe: tool.load(path) for recipe, path in tool.RESULTS.items()}
COMPARED = ("test_accuracy", "dev_accuracy", "epochs", "best_epoch")      # not the seconds


@pytest.mark.parametrize("path", sorted(tool.generated()))
def test_the_docs_are_what_the_tool_builds_from_the_results(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        assert f.read() == tool.generated()[path], (
            f"{path} differs from the results files: rerun the command, then "
            f"`python tools/update_results.py` (never edit the numbers by hand)")


@pytest.mark.parametrize("path", sorted(tool.figures()))
def test_each_figure_is_drawn_from_the_committed_results(path):
    _, data = tool.figures()[path]
    assert tool.read_stamp(os.path.join(ROOT, path)) == tool.digest(data), (
        f"{path} was not drawn from the committed results: `python tools/update_results.py "
        f"--figures`")


def test_no_digitsum_figure_is_left_over_from_an_older_run():
    on_disk = {f"docs/img/{name}" for name in os.listdir(os.path.join(ROOT, "docs", "img"))
               if name.startswith("digitsum_")}
    assert on_disk == {path for path in tool.figures() if "/digitsum_" in path}


@pytest.mark.parametrize("recipe", sorted(RESULTS))
def test_a_results_file_is_consistent_and_names_its_command(recipe):
    res = RESULTS[recipe]
    assert res["summary"] == digitsum.summarize(res["runs"], res["models"], res["lengths"])
    assert {(r["model"], r["length"], r["seed"]) for r in res["runs"]} == {
        (m, L, s) for m in res["models"] for L in res["lengths"] for s in res["seeds"]}
    assert res["settings"] == digitsum.RECIPES[recipe]
    args = build_parser().parse_args(res["command"].split()[1:])
    assert (args.recipe or "book", args.seeds or 1, args.results) == (
        recipe, len(res["seeds"]), tool.RESULTS[recipe])
    assert (args.seed or digitsum.SEED) == res["seeds"][0]


def test_the_readme_says_what_explode_runs():
    line = next(x for x in open(os.path.join(ROOT, "README.md"), encoding="utf-8")
                if x.startswith("| `minirnn explode` |"))
    assert f"length {explode.LENGTH}" in line and f"SGD {explode.LR:g}" in line
    assert f"at {explode.MAX_NORM:g}" in line


# ---- slow: the results reproduce -------------------------------------------------------------

CELLS = [pytest.param(recipe, seed, length, id=f"{recipe}-seed{seed}-L{length}")
         for recipe, res in sorted(RESULTS.items()) for seed in res["seeds"]
         for length in res["lengths"]]


@pytest.mark.slow
@pytest.mark.parametrize("recipe, seed, length", CELLS)
def test_the_committed_digitsum_runs_reproduce(recipe, seed, length, tmp_path):
    res = RESULTS[recipe]
    if get_impl() != res["impl"]:
        pytest.skip(f"the runs were made with the {res['impl']} tier; hundreds of epochs "
                    f"amplify the tiers' 1e-12 differences into other runs")
    r = digitsum.run(models=res["models"], lengths=[length], recipe=recipe, full=True,
                     seed=seed, out=tmp_path, verbose=False, plots=False)
    got = [{k: row[k] for k in ("model", "length", "seed") + COMPARED} for row in r["rows"]]
    want = [{k: row[k] for k in ("model", "length", "seed") + COMPARED} for row in res["runs"]
            if row["seed"] == seed and row["length"] == length]
    assert got == want
    if seed == res["seeds"][0] and res.get("gates") and length == len(digitsum.GATE_INPUT):
        assert r["gate_prediction"] == res["gates"]["prediction"]
        for key in ("i", "f", "o", "c"):
            assert (r["gates"][key].round(4) == res["gates"][key]).all()
    if seed == res["seeds"][0] and res.get("curves") and length == max(res["lengths"]):
        assert r["curves"] == res["curves"]
