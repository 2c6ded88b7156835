"""The dates task: forms, determinism per seed, disjoint splits, fixed vocabularies, checks."""
import datetime

import numpy as np
import pytest

from minirnn.data import DataLoader, DatePairs, date_pairs, date_splits
from minirnn.data.dates import FORMATS, ordinal

SMALL = (300, 50, 50)


def test_ordinals():
    assert [ordinal(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 30, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "30th",
        "31st"]


def test_the_forms_of_one_date():
    t = datetime.date(1998, 3, 3)
    assert [f(t) for f in FORMATS] == [
        "3rd of March 1998", "03/03/98", "March 3, 1998", "3 Mar 1998",
        "Tuesday, March 3, 1998", "03.03.1998", "1998/03/03", "mar 3 98", "3 March 1998",
        "Tue 3 Mar 1998", "the 3rd of march, 1998", "MARCH 03 1998"]


def test_targets_are_the_iso_dates_of_the_sources():
    for src, tgt in date_pairs("train", SMALL, seed=3):
        date = datetime.date.fromisoformat(tgt)
        assert src in {f(date) for f in FORMATS}


def test_deterministic_per_seed_and_different_across_seeds():
    assert date_pairs("dev", SMALL, 1) == date_pairs("dev", SMALL, 1)
    assert date_pairs("dev", SMALL, 1) != date_pairs("dev", SMALL, 2)


def test_splits_hold_disjoint_dates_and_the_default_sizes():
    train, dev, test = date_splits()
    assert (len(train), len(dev), len(test)) == (10_000, 1_000, 1_000)
    dates = [{t for _, t in d.pairs} for d in (train, dev, test)]
    assert not (dates[0] & dates[1]) and not (dates[0] & dates[2]) and not (dates[1] & dates[2])
    assert len(dates[0]) == 10_000                  # distinct dates, one form each


def test_arrays_round_trip_and_share_vocabularies():
    d = DatePairs("test", SMALL, seed=0)
    assert d.decoder_input_ids.shape == d.decoder_target_ids.shape == (50, 11)
    for i in range(len(d)):
        src, tgt = d.pairs[i]
        assert d.decode_source(d.source_ids[i]) == src
        assert d.decode_target(d.decoder_target_ids[i]) == tgt
        assert d.source_lengths[i] == len(src)
    assert d.source_vocab == DatePairs("train", SMALL, seed=9).source_vocab
    assert d.target_vocab[3:] == list("-0123456789")
    batch = next(iter(DataLoader(d, batch_size=8)))
    assert batch[0].shape[0] == 8 and batch[0].dtype == np.int64


@pytest.mark.parametrize("kwargs, error", [
    (dict(split="valid"), ValueError), (dict(sizes=(10, 0, 5)), ValueError),
    (dict(sizes=(10, 5)), ValueError), (dict(sizes=(10, 5, 2.0)), ValueError),
    (dict(sizes=(40_000, 1, 1)), ValueError), (dict(seed=-1), ValueError),
    (dict(seed=1.5), ValueError), (dict(seed=True), ValueError)])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        date_pairs(**{"split": "train", "sizes": SMALL, **kwargs})


# ---- the demo: minirnn seq2seq --task dates -----------------------------------------------------
# The numbers docs/seq2seq.md reports (seed 0, one machine: README names it). Other CPUs round
# differently and training amplifies it. Measured with this AVX-512 machine's own kernels,
# OPENBLAS_CORETYPE=Sandybridge and NPY_DISABLE_CPU_FEATURES=X86_V3,X86_V4,AVX512_ICL: the
# default run gave exactly these numbers; the full run's attention model 1.000 everywhere, but
# its model without attention 0.211/0.208 and 0.228/0.220 exact match (greedy/beam) and BLEU
# within 0.004 of these. So that one number is allowed 0.05 (50 of the 1,000 test dates).
DEFAULT = {"no_attention": {"greedy": (0.002, 0.671), "beam": (0.003, 0.671)},
           "attention": {"greedy": (0.973, 0.997), "beam": (0.974, 0.997)}}
FULL = {"no_attention": {"greedy": (0.205, 0.843), "beam": (0.210, 0.840)},
        "attention": {"greedy": (1.0, 1.0), "beam": (1.0, 1.0)}}
FULL_NO_ATTENTION_EXACT_TOL = 0.05


def assert_numbers(results, documented, tol=0.01, exact_tol=None):
    """Each exact match and BLEU within ``tol`` of the documented one (``exact_tol``, if
    given, for the exact match of the model without attention)."""
    for key, decoders in documented.items():
        for decoder, (exact, bleu) in decoders.items():
            r = results[key][decoder]
            e_tol = exact_tol if exact_tol is not None and key == "no_attention" else tol
            assert r["exact_match"] == pytest.approx(exact, abs=e_tol), (key, decoder, r)
            assert r["bleu"] == pytest.approx(bleu, abs=tol), (key, decoder, r)


def test_cli_help_names_the_dates_task(capsys):
    from minirnn import cli
    with pytest.raises(SystemExit) as e:
        cli.main(["seq2seq", "--help"])
    assert e.value.code == 0 and "--task" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        cli.main(["seq2seq", "--task", "french"])
    assert e.value.code == 2


def test_dates_demo_default_run_reproduces_its_numbers(tmp_path, capsys):
    """`minirnn seq2seq --task dates` (about 1.5 minutes on 2 cores): attention >= 0.95."""
    import json
    from minirnn import cli
    assert cli.main(["seq2seq", "--task", "dates", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "exact match" in out and "wrote" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["task"] == "dates" and summary["epochs"] == 2
    assert summary["results"]["attention"]["greedy"]["exact_match"] >= 0.95
    assert_numbers(summary["results"], DEFAULT)
    for name in ("loss_dates.png", "attention_dates.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_dates_demo_full_run_reproduces_its_numbers(tmp_path):
    from minirnn.demos import seq2seq
    r = seq2seq.run(task="dates", full=True, out=tmp_path, verbose=False)
    assert r["epochs"] == 8
    assert r["results"]["attention"]["greedy"]["exact_match"] >= 0.95
    assert_numbers(r["results"], FULL, exact_tol=FULL_NO_ATTENTION_EXACT_TOL)
