"""minirnn.demos.charlm_compare: five character LMs on one corpus and one budget."""
import json
import math
import os

import numpy as np
import pytest

import minirnn
from minirnn._blas import blas_threads
from minirnn.cli import write_summary
from minirnn.demos import charlm_compare

TINY = dict(hidden=12, epochs=2, max_chars=4000)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def one_blas_thread():
    with blas_threads(1):
        yield


def test_bidirectional_lm_backward_matches_finite_differences():
    model = charlm_compare.BidirectionalCharLM(5, 3, "lstm", rng=0)
    ids = np.random.default_rng(1).integers(0, 5, size=(2, 4))
    errors = minirnn.gradcheck(model, ids)
    assert max(errors.values()) < 1e-7, errors


def test_bidirectional_lm_sees_the_future():
    """Changing the last character changes the logits at the first step: the model reads
    ahead, which is exactly why its perplexity is not comparable."""
    model = charlm_compare.BidirectionalCharLM(5, 4, "gru", rng=0)
    a = model(np.array([[1, 2, 3, 4]]))
    b = model(np.array([[1, 2, 3, 0]]))
    model.clear_caches()
    assert not np.allclose(a[0, 0], b[0, 0])


def test_tiny_run_writes_the_table_and_plot_and_is_reproducible(tmp_path, capsys):
    r = charlm_compare.run(out=tmp_path, **TINY)
    printed = capsys.readouterr().out
    names = [m[0] for m in charlm_compare.MODELS]
    assert [row["name"] for row in r["rows"]] == names
    for row in r["rows"]:
        assert len(row["held_out_ppl"]) == len(row["train_ppl"]) == TINY["epochs"]
        assert all(math.isfinite(p) and p >= 1 for p in row["held_out_ppl"] + row["train_ppl"])
        assert row["parameters"] > 0 and row["seconds"] > 0
    assert math.isfinite(r["unigram_ppl"])
    table = (tmp_path / "compare.md").read_text(encoding="utf-8")
    assert r["table"] in table and r["table"] in printed
    for name in names + ["unigram baseline"]:
        assert f"| {name} |" in table
    assert "sees the future" in table
    with open(tmp_path / "compare.png", "rb") as f:
        assert f.read(8) == PNG
    assert os.path.getsize(tmp_path / "compare.png") > 1000
    summary = json.load(open(write_summary(str(tmp_path), r), encoding="utf-8"))
    assert summary["table"] == r["table"] and len(summary["rows"]) == len(names)

    again = charlm_compare.run(out=None, plots=False, verbose=False, **TINY)
    assert [row["held_out_ppl"] for row in again["rows"]] == \
           [row["held_out_ppl"] for row in r["rows"]]
    other = charlm_compare.run(out=None, plots=False, verbose=False, seed=1,
                               models=charlm_compare.MODELS[:1], **TINY)
    assert other["rows"][0]["held_out_ppl"] != r["rows"][0]["held_out_ppl"]


@pytest.mark.slow
def test_default_run_gives_the_documented_perplexities():
    """The numbers in the module docstring are what the default run (about a minute) gives."""
    r = charlm_compare.run(out=None, plots=False, verbose=False)
    text = " ".join(charlm_compare.__doc__.split())
    assert f"unigram {r['unigram_ppl']:.2f}" in text
    for row in r["rows"]:
        assert f"{row['name']} {row['held_out_ppl'][-1]:.2f}" in text, row["name"]
    assert r["rows"][-1]["held_out_ppl"][-1] < 1.2                # it reads the answer
    assert r["rows"][1]["held_out_ppl"][-1] < 0.4 * r["unigram_ppl"]
