"""Every DigitSum and explode number and figure in README and docs/digitsum comes from a
results file a command wrote, and what the docs claim of a rerun holds.

The results files are one machine's record (README names it). A run is the same computation on
every CPU only until rounding differences grow: the first epochs are checked against the record
to its 4 decimals, and the rest is checked as a statistic.

Fast: README, docs/digitsum/*.md and *.csv are exactly what tools/update_results.py builds from
the committed results files; each figure carries the hash of the data it was drawn from; each
results file's summary is the summary of its runs; every recorded run keeps the bounds the docs
claim (tools/update_results.py's CLAIMS); a fresh run's first epochs are the recorded ones.
(That ``minirnn explode`` starts as docs/digitsum/explode.json records is checked in
tests/test_demos.py, by the run it makes anyway.)
Slow (``pytest -m slow``): re-running ``minirnn digitsum`` keeps the claimed bounds, one
(recipe, seed, length) at a time -- all of them together are the whole command again (the
wall time is in each file; -k selects a part, e.g. ``-k "book and seed1 and L10"``).
"""
import importlib.util
import os

import pytest

import numpy as np

from minirnn.cli import build_parser
from minirnn.demos import digitsum, explode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    "update_results", os.path.join(ROOT, "tools", "update_results.py"))
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

RESULTS = {recipe: tool.load(path) for recipe, path in tool.RESULTS.items()}
# Measured with OPENBLAS_CORETYPE=Sandybridge and Haswell, NPY_DISABLE_CPU_FEATURES and the
# textbook tier: the first 3 epochs' losses of both recorded curves agree within 4e-16.
FIRST_EPOCHS = 3
RECORD_ATOL = 5e-5 + 1e-9          # the curves keep 4 decimals: half a unit of the 4th


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


@pytest.mark.parametrize("recipe", sorted(RESULTS))
def test_every_recorded_run_keeps_the_claimed_bounds(recipe):
    """A claim the record itself breaks would be false; each (model, length) has one."""
    res, claims = RESULTS[recipe], tool.CLAIMS[recipe]
    assert set(claims) == {(m, L) for m in res["models"] for L in res["lengths"]}
    for run in res["runs"]:
        low, high = claims[run["model"], run["length"]]
        assert low <= run["test_accuracy"] <= high, run


@pytest.mark.parametrize("recipe", sorted(RESULTS))
def test_a_fresh_run_starts_as_recorded(recipe):
    """The recorded loss curves' first epochs, before rounding differences grow."""
    c = RESULTS[recipe]["curves"]
    r = digitsum.train_one(c["model"], c["length"], recipe, epochs=FIRST_EPOCHS, seed=c["seed"])
    for key in ("train_loss", "dev_loss"):
        np.testing.assert_allclose(r["history"][key], c[key][:FIRST_EPOCHS], rtol=0,
                                   atol=RECORD_ATOL, err_msg=key)


# ---- slow: a rerun keeps the claims ----------------------------------------------------------

CELLS = [pytest.param(recipe, seed, length, id=f"{recipe}-seed{seed}-L{length}")
         for recipe, res in sorted(RESULTS.items()) for seed in res["seeds"]
         for length in res["lengths"]]


@pytest.mark.slow
@pytest.mark.parametrize("recipe, seed, length", CELLS)
def test_a_digitsum_rerun_keeps_the_claimed_bounds(recipe, seed, length, tmp_path):
    """Not the record's numbers: on another CPU (or the other tier) the same seed gives another
    run. What README claims of every run must hold on any CPU."""
    res = RESULTS[recipe]
    r = digitsum.run(models=res["models"], lengths=[length], recipe=recipe, full=True,
                     seed=seed, out=tmp_path, verbose=False, plots=False)
    assert [(row["model"], row["epochs"] <= res["settings"]["epochs"]) for row in r["rows"]] == [
        (m, True) for m in res["models"]]
    for row in r["rows"]:
        low, high = tool.CLAIMS[recipe][row["model"], length]
        assert low <= row["test_accuracy"] <= high, (row["model"], row["test_accuracy"])
