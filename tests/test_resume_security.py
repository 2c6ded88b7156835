"""Resuming from a crafted checkpoint: loading a file never runs code, and a refused resume
changes nothing (hardening issue, items 1 and 2)."""
import json
import os

import numpy as np
import pytest

import minirnn
from minirnn import nn, optim
from minirnn.data import DataLoader
from minirnn.train import checkpoint, fit
from minirnn.train.checkpoint import CheckpointError

from tiny_models import SRNClassifier


def data():
    rng = np.random.default_rng(42)
    return [(rng.integers(0, 5, size=L), int(rng.integers(0, 3))) for L in rng.integers(2, 7, 8)]


def train(path, epochs=2, resume=False, metric="accuracy", with_dev=True, seed=0):
    model = SRNClassifier(hidden=8, rng=seed)
    opt = optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(data(), batch_size=4, shuffle=True, rng=seed)
    dev = DataLoader(data(), batch_size=4) if with_dev else None
    fit(model, nn.CrossEntropyLoss(), opt, loader, dev, epochs=epochs, metric=metric,
        verbose=False, checkpoint=path, resume=resume)
    return model, opt


def rewrite_meta(path, change):
    """Rewrite the JSON header of checkpoint ``path`` with ``change(header)``."""
    with np.load(path, allow_pickle=False) as f:
        members = {k: f[k] for k in f.files}
    header = json.loads(members["__meta__"].tobytes().decode())
    change(header)
    members["__meta__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **members)


def snapshot(model, opt):
    return ({k: v.copy() for k, v in model.state_dict().items()},
            json.dumps(opt.state_dict(), default=lambda a: np.asarray(a).tolist()),
            json.dumps(minirnn._config._generator.bit_generator.state))


def resume_refused(path, match, exc=ValueError, **kw):
    """Resume from ``path`` must raise ``exc`` matching ``match`` and change nothing."""
    model = SRNClassifier(hidden=8, rng=5)
    opt = optim.Adam(model.parameters(), lr=0.01)
    before = snapshot(model, opt)
    loader = DataLoader(data(), batch_size=4, shuffle=True, rng=5)
    dev = DataLoader(data(), batch_size=4) if kw.pop("with_dev", True) else None
    with pytest.raises(exc, match=match):
        fit(model, nn.CrossEntropyLoss(), opt, loader, dev, epochs=4, verbose=False,
            checkpoint=path, resume=True, **kw)
    after = snapshot(model, opt)
    for k in before[0]:
        np.testing.assert_array_equal(after[0][k], before[0][k], err_msg=k)
    assert after[1:] == before[1:]


@pytest.mark.parametrize("name", ["test", "seed", "show_config", "__class__", "RandomState",
                                  "Generator", "BitGenerator", "SeedSequence", "", "pcg64"])
def test_a_bit_generator_name_outside_the_allow_list_runs_nothing(tmp_path, monkeypatch, name):
    path = tmp_path / "ck.npz"
    train(path)
    rewrite_meta(path, lambda h: h["meta"]["rng"]["states"][0].update(bit_generator=name))
    # np.random.test() would start pytest, which imports a conftest.py from the working dir
    marker = tmp_path / "ran"
    (tmp_path / "conftest.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(tmp_path)
    legacy = np.random.get_state()[1].copy()
    resume_refused(path, "expected 'bit_generator' to be one of", CheckpointError)
    assert not marker.exists()
    np.testing.assert_array_equal(np.random.get_state()[1], legacy)   # np.random.seed not run


@pytest.mark.parametrize("change, match", [
    (lambda s: s.update(state="x"), "to have the keys"),
    (lambda s: s["state"].update(state=2 ** 200), "not a valid PCG64 state"),
    (lambda s: s["state"].update(state=2 ** 128), "PCG64 state"),
    (lambda s: s["state"].update(state=-1), "PCG64"),
    (lambda s: s["state"].update(inc=1.5), "to be an integer"),
    (lambda s: s.update(has_uint32=True), "to be an integer"),
    (lambda s: s.update(extra=1), "to have the keys"),
    (lambda s: s.pop("uinteger"), "to have the keys"),
])
def test_a_malformed_generator_state_is_refused_before_anything_changes(tmp_path, change, match):
    path = tmp_path / "ck.npz"
    train(path)
    rewrite_meta(path, lambda h: change(h["meta"]["rng"]["states"][0]))
    resume_refused(path, match, CheckpointError)


@pytest.mark.parametrize("change, match", [
    (lambda r: r.update(states=[]), "non-empty list"),
    (lambda r: r.update(states={"a": 1}), "non-empty list"),
    (lambda r: r["owners"].update({"loader:0": 7}), "index into 'states'"),
    (lambda r: r["owners"].update({"loader:0": True}), "index into 'states'"),
    (lambda r: r["owners"].update({"module:x": 0}), "expected generators for"),
    (lambda r: r.update(more=1), "keys 'states' and 'owners'"),
])
def test_a_malformed_rng_record_is_refused(tmp_path, change, match):
    path = tmp_path / "ck.npz"
    train(path)
    rewrite_meta(path, lambda h: change(h["meta"]["rng"]))
    resume_refused(path, match, CheckpointError)


@pytest.mark.parametrize("change, match", [
    (lambda m: m.update(epoch=7), "expected 'epoch' to be 2"),
    (lambda m: m.update(epoch="2"), "expected 'epoch' to be 2"),
    (lambda m: m.update(epoch=True), "expected 'epoch' to be 2"),
    (lambda m: m.update(history=[]), "expected a dict"),
    (lambda m: m["history"].update(epoch="ab"), "'epoch' to be a list"),
    (lambda m: m["history"].update(epoch=[0, 1]), "count up by one from an int >= 1"),
    (lambda m: m["history"].update(train_loss=[1.0]), "lists of one length"),
    (lambda m: m["history"].update(train_loss=["a", 1.0]), "'train_loss' to hold numbers"),
    (lambda m: m["history"].update(metric="bleu"), "'metric' in"),
    (lambda m: m["history"].update(best_epoch=9), "'best_epoch' to be None or one of"),
    (lambda m: m["history"].update(best_score="high"), "'best_score' to be a number"),
    (lambda m: m["history"].update(surprise=1), "unexpected fields"),
])
def test_edited_header_fields_are_refused_before_anything_changes(tmp_path, change, match):
    path = tmp_path / "ck.npz"
    train(path)
    rewrite_meta(path, lambda h: change(h["meta"]))
    resume_refused(path, match)


def test_a_metric_mismatch_is_refused_before_the_weights_load(tmp_path):
    path = tmp_path / "ck.npz"
    train(path)
    resume_refused(path, "recorded with metric 'accuracy', this run uses 'perplexity'",
                   metric="perplexity")


def test_a_missing_dev_loader_is_named_in_the_metric_mismatch(tmp_path):
    path = tmp_path / "ck.npz"
    train(path)
    resume_refused(path, r"this run uses None \(no dev_loader, so no metric\)", with_dev=False)


def test_an_untouched_checkpoint_still_resumes(tmp_path):
    path = tmp_path / "ck.npz"
    train(path, epochs=2)
    model, _ = train(path, epochs=3, resume=True, seed=9)
    assert checkpoint.load(path)["meta"]["epoch"] == 3
    assert os.path.exists(path)


@pytest.mark.parametrize("clip", [-1, 0, float("nan"), float("inf"), "1", True])
def test_fit_refuses_a_clip_that_is_not_a_positive_finite_number(tmp_path, clip):
    """clip=-1 turned training into gradient ascent; NaN made every weight NaN."""
    model = SRNClassifier(hidden=8, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = snapshot(model, opt)
    with pytest.raises(ValueError, match="expected clip to be a finite number > 0"):
        fit(model, nn.CrossEntropyLoss(), opt, DataLoader(data(), batch_size=4), epochs=1,
            clip=clip, verbose=False)
    after = snapshot(model, opt)
    for k in before[0]:
        np.testing.assert_array_equal(after[0][k], before[0][k])


def test_resume_from_a_symlink_loop_is_an_error_not_a_fresh_start(tmp_path):
    path = tmp_path / "loop.npz"
    os.symlink(path, path)
    with pytest.raises(CheckpointError, match="loop|link"):
        train(path, resume=True)
