"""The demos reproduce their documented numbers (fast settings where the default is long).

Training demos use their default seeds, but rounding differs between CPUs and BLAS kernels and
training amplifies it, so a training run is compared with a committed record only for its first
steps; after that the tests check what holds on any machine, with the margins measured across
kernels. The by-hand networks have tests/test_by_hand.py.
"""
import importlib.util
import json
import os
import sys

import numpy as np
import pytest

from minirnn.demos import charlm, digitsum, explode, gradcheck, hello, seq2seq

# compare imports torch, so it is a script of the checkout (demos/compare.py), not a module of
# the package; load it from there
_spec = importlib.util.spec_from_file_location(
    "compare", os.path.join(os.path.dirname(__file__), "..", "demos", "compare.py"))
compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare)
from minirnn._blas import blas_threads

PNG = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    with open(path, "rb") as f:
        head = f.read(8)
    assert head == PNG, f"{path} is not a PNG"
    assert len(open(path, "rb").read()) > 1000, f"{path} is (nearly) empty"


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Small matrices: one BLAS thread is faster and immune to busy neighbours."""
    with blas_threads(1):
        yield


# ---- hello, seq2seq --------------------------------------------------------------------------

def test_demos_run_without_matplotlib(monkeypatch, tmp_path, capsys):
    """A bare NumPy install: the plots are skipped with a note, the numbers still come."""
    for name in [m for m in sys.modules if m.split(".")[0] == "matplotlib"] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)           # `import matplotlib...` fails
    r = hello.run(out=tmp_path, verbose=True)
    assert r["files"] == [] and r["cell"][-1][0] == "ohlol"
    assert "pip install" in capsys.readouterr().out


def test_hello_reaches_ohlol_within_15_epochs(tmp_path):
    r = hello.run(out=tmp_path, verbose=False)
    assert r["cell_epoch"] is not None and r["cell_epoch"] <= 15
    assert r["embedding_epoch"] is not None and r["embedding_epoch"] <= 15
    assert r["cell"][-1][0] == "ohlol" and r["embedding"][-1][0] == "ohlol"
    losses = [loss for _, loss in r["cell"]]
    assert losses[-1] < losses[0]
    assert_png(tmp_path / "loss_cell.png")


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_seq2seq_translates_all_three(cell, tmp_path):
    r = seq2seq.run(cell=cell, out=tmp_path, verbose=False)
    assert r["translations"] == {"hello": "hola", "cat": "gato", "good": "bueno"}
    assert (r["correct"], r["total"]) == (3, 3)
    assert_png(tmp_path / f"loss_{cell}.png")


# ---- digitsum, explode -------------------------------------------------------------------------

@pytest.mark.slow
def test_digitsum_lstm_length_5_book_recipe():
    """The book's recipe (k=3, Adam 1e-3, batch 8, 500 epochs, best dev epoch): >= 0.9."""
    r = digitsum.train_one("lstm", 5, "book")
    assert r["test_accuracy"] >= 0.9, r["test_accuracy"]
    assert r["epochs"] == 500


def test_digitsum_run_writes_table_csv_and_plots(tmp_path):
    r = digitsum.run(models=["srn", "lstm"], lengths=[10], epochs=3, out=tmp_path / "o",
                     save_data=tmp_path / "data", verbose=False)
    assert [(row["model"], row["length"], row["epochs"]) for row in r["rows"]] == [
        ("srn", 10, 3), ("lstm", 10, 3)]
    assert r["table"].startswith("| model | L=10 |")
    for name in ("loss_srn_L10.png", "loss_lstm_L10.png", "accuracy_vs_length.png",
                 "lstm_gates.png"):
        assert_png(tmp_path / "o" / name)
    csv = (tmp_path / "o" / "results.csv").read_text().splitlines()
    assert csv[0].startswith("model,length,seeds,test_accuracy") and len(csv) == 3
    runs = (tmp_path / "o" / "runs.csv").read_text().splitlines()
    assert runs[0].startswith("model,length,seed,test_accuracy") and len(runs) == 3
    assert set(r["gates"]) >= {"i", "f", "o", "c"} and r["gates"]["c"].shape == (10, 32)
    # the saved text files read back to the same data, so the same run gives the same numbers
    again = digitsum.run(models=["srn", "lstm"], lengths=[10], epochs=3, out=tmp_path / "o2",
                         data_dir=tmp_path / "data", verbose=False, plots=False)
    assert [row["test_accuracy"] for row in again["rows"]] == [
        row["test_accuracy"] for row in r["rows"]]


def test_digitsum_seeds_give_mean_and_range_of_the_single_seed_runs(tmp_path):
    """seeds=2 runs seed and seed+1; each row is what a one-seed run with that seed gives,
    and the table shows their mean and range."""
    fast = dict(models=["srn"], lengths=[4], epochs=1, k=1, verbose=False, plots=False)
    both = digitsum.run(seed=3, seeds=2, out=tmp_path / "both", results=tmp_path / "r.json",
                        **fast)
    alone = [digitsum.run(seed=s, out=tmp_path / str(s), **fast)["rows"][0] for s in (3, 4)]
    keys = ("model", "length", "seed", "test_accuracy", "dev_accuracy", "best_epoch")
    assert [[row[k] for k in keys] for row in both["rows"]] == [[row[k] for k in keys]
                                                               for row in alone]
    acc = [row["test_accuracy"] for row in alone]
    (cell,) = both["summary"]
    assert (cell["seeds"], cell["test_min"], cell["test_max"]) == (2, min(acc), max(acc))
    assert cell["test_accuracy"] == round(sum(acc) / 2, 4)
    assert f"{min(acc):.2f}–{max(acc):.2f}" in both["table"]
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["seeds"] == [3, 4] and record["summary"] == both["summary"]
    assert "--seed 3" in record["command"] and "--seeds 2" in record["command"]
    with pytest.raises(ValueError, match="seeds"):
        digitsum.run(seeds=0, **fast)


def test_digitsum_refuses_short_lengths_and_missing_data(tmp_path):
    with pytest.raises(ValueError, match="length"):
        digitsum.run(lengths=[2], verbose=False)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        digitsum.run(lengths=[5], data_dir=tmp_path / "nowhere", verbose=False)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(OSError):            # at once, not after the 500 epochs
        digitsum.run(lengths=[5], results=tmp_path / "a_file" / "r.json", verbose=False)
    with pytest.raises(OSError):
        explode.run(results=tmp_path / "a_file" / "r.json", verbose=False)


@pytest.mark.slow
@pytest.mark.parametrize("length", [20, 35])
def test_digitsum_better_recipe_lstm(length):
    """The documented better recipe, seed 1: LSTM >= 0.85 test accuracy, what README claims of
    every run at L=20 (tools/update_results.py's CLAIMS), here at L=35 too (about 30 s and
    50 s). Seed 1 passed 0.95 on three CPU kernels, but seed 3 at L=20 got 0.94 with
    OPENBLAS_CORETYPE=Sandybridge."""
    r = digitsum.train_one("lstm", length, "better")
    assert r["test_accuracy"] >= 0.85, r["test_accuracy"]


# explode.json is one machine's record (README says which). A training run is the same
# computation everywhere only until rounding differences grow: the unclipped run multiplies them
# by about 100 per step from step 8 on, so other BLAS kernels, NumPy's SIMD loops or the other
# tier move its W_hh norm by 4e-12 at step 8 and 1e-5 at step 11 (the clipped run: by 1e-12 at
# step 52, 1e-7 at step 79). Measured on this machine with OPENBLAS_CORETYPE=Sandybridge,
# Haswell, NPY_DISABLE_CPU_FEATURES and the textbook tier: within 5e-15 up to these steps.
EXACT_STEPS = {"no_clip": 6, "clip": 38}          # the clipped run: its whole first epoch
RECORD_RTOL = 5e-6      # the record keeps 6 significant digits: half a unit of the 6th digit


def test_explode_starts_as_recorded_and_clipping_tames_it(tmp_path):
    """The first steps of both runs are docs/digitsum/explode.json's (the data of README's
    figure) to the record's 6 digits; what follows is chaotic, so only what holds on every
    machine is checked: the unclipped run explodes, then its gradients vanish and its loss
    stays far above the clipped run's."""
    r = explode.run(out=tmp_path, verbose=False, results=tmp_path / "explode.json")
    committed = os.path.join(os.path.dirname(__file__), "..", "docs", "digitsum", "explode.json")
    with open(committed, encoding="utf-8") as f:
        committed = json.load(f)
    again = json.loads((tmp_path / "explode.json").read_text())
    assert {k: v for k, v in again.items() if k not in ("no_clip", "clip", "impl")} == {
        k: v for k, v in committed.items() if k not in ("no_clip", "clip", "impl")}
    for key, k in EXACT_STEPS.items():
        np.testing.assert_allclose(r[key]["norms"]["W_hh"][:k], committed[key]["w_hh_norms"][:k],
                                   rtol=RECORD_RTOL, atol=0, err_msg=key)
    np.testing.assert_allclose(r["clip"]["losses"][0], committed["clip"]["losses"][0],
                               rtol=RECORD_RTOL, atol=0)
    plain, clipped = r["no_clip"], r["clip"]
    steps = explode.EPOCHS * (300 // explode.BATCH + (300 % explode.BATCH > 0))
    for run in (plain, clipped):
        assert set(run["norms"]) == {"W_ih", "W_hh", "b"}
        assert all(len(v) == steps for v in run["norms"].values())
    # Measured over 7 kernels and tiers (the record's, SkylakeX, Haswell, Sandybridge, NumPy
    # without its AVX2/AVX-512 loops, both, the textbook tier): peak 121 at step 11 in all;
    # median of the last 1000 unclipped norms 6e-7 to 1.3e-4; final loss per example 18.7-21.8
    # unclipped, 3.12-3.22 clipped (ln 19 = 2.94); W_hh's norm 39.8-50.7 against 17.5-21.4;
    # clipped test accuracy 0.03-0.11 (1/19 = 0.05). docs/bptt.md states these bounds.
    assert max(plain["norms"]["W_hh"]) > 100 > 10 * explode.MAX_NORM  # it does explode
    assert np.median(plain["norms"]["W_hh"][-1000:]) < 1e-2          # then tanh saturates
    assert plain["losses"][-1] > 15 > 2 * clipped["losses"][-1]      # and never recovers
    assert plain["weight_norms"]["W_hh"] > 1.3 * clipped["weight_norms"]["W_hh"]
    assert abs(clipped["losses"][-1] - np.log(19)) < 0.6 and clipped["test_accuracy"] < 0.2
    for name in ("grad_norms_no_clip.png", "grad_norms_clip.png", "grad_norms_W_hh.png"):
        assert_png(tmp_path / name)


# ---- charlm -------------------------------------------------------------------------------------

FAST_LM = dict(hidden=128, epochs=5, max_chars=30_000)


def test_charlm_beats_the_unigram_baseline(tmp_path):
    r = charlm.run(cell="gru", sampling="sequential", out=tmp_path, verbose=False, **FAST_LM)
    assert r["held_out_ppl"][-1] < 0.75 * r["unigram_ppl"], (r["held_out_ppl"], r["unigram_ppl"])
    assert r["train_ppl"][-1] < r["train_ppl"][0]
    for prefix, texts in r["samples"].items():
        assert set(texts) == {"greedy", "T=0.5", "T=1"}
        assert all(t.startswith(prefix) and len(t) == len(prefix) + charlm.GENERATE
                   for t in texts.values())
    assert_png(tmp_path / "perplexity.png")


def test_charlm_random_sampling_learns_too():
    r = charlm.run(cell="rnn", sampling="random", verbose=False, plots=False, **FAST_LM)
    assert r["held_out_ppl"][-1] < r["unigram_ppl"]


def test_charlm_reads_any_utf8_corpus(tmp_path):
    path = tmp_path / "chinese.txt"
    path.write_text("床前明月光，疑是地上霜。举头望明月，低头思故乡。\n" * 80, encoding="utf-8")
    r = charlm.run(cell="lstm", corpus_path=path, hidden=32, epochs=2, verbose=False,
                   plots=False)
    assert r["vocab_size"] == len(set(path.read_text(encoding="utf-8"))) + 1   # + unknown
    assert r["samples"] and all(p in "床前明月光" for p in "".join(r["samples"]))


def test_charlm_refuses_bad_corpora_and_bidirectional(tmp_path):
    with pytest.raises(FileNotFoundError):
        charlm.run(corpus_path=tmp_path / "missing.txt", verbose=False)
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        charlm.run(corpus_path=tmp_path / "empty.txt", verbose=False)
    with pytest.raises(ValueError, match="sees the future"):
        charlm.run(bidirectional=True, verbose=False)


# ---- compare, gradcheck ---------------------------------------------------------------------

def test_compare_counts_and_agreement():
    pytest.importorskip("torch")
    r = compare.run(repeats=1, verbose=False)
    assert r["counts"]["LSTM"] == (2480, 2560)
    assert r["counts"]["RNN"] == (620, 640) and r["counts"]["GRU"] == (1860, 1920)
    for name, errors in r["agreement"].items():
        assert max(errors.values()) < 1e-12, (name, errors)
    assert set(r["speed"]) == {"RNN", "LSTM", "GRU"}


def test_compare_without_torch_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)        # `import torch` now fails
    r = compare.run(verbose=True)
    assert r["torch"] is False and r["counts"]["LSTM"] == (2480, 2560)
    text = capsys.readouterr().out
    assert "pip install torch==2.13.0" in text and "pip install -e .[test]" in text


def test_gradcheck_demo_passes_every_layer(capsys):
    results = gradcheck.run()
    assert len(results) >= 10
    worst = max(max(e.values()) for e in results.values())
    assert worst < gradcheck.TOLERANCE
    assert "every backward agrees" in capsys.readouterr().out
