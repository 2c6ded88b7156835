"""Tests for minirnn.train.checkpoint: round trips, atomic writes, refusing unsafe or broken
files, architecture checks, and resuming bit-identically. Ordered from simple to complex."""
import os

import numpy as np
import pytest

import minirnn
from minirnn import _config, nn, optim
from minirnn.data import DataLoader
from minirnn.train import CheckpointError, checkpoint, fit

import tiny_models


class SRNClassifier(tiny_models.SRNClassifier):
    """The shared test classifier, small, with a ``config`` that checkpoints record."""

    def __init__(self, hidden=8, dropout=0.0, rng=0, vocab=5, classes=3):
        super().__init__(vocab=vocab, embed=4, hidden=hidden, classes=classes, dropout=dropout,
                         rng=rng)
        self.config = dict(hidden=hidden, dropout=dropout, vocab=vocab, classes=classes)


class OtherModel(SRNClassifier):
    pass


def trained(steps=3, seed=0):
    """A model and an Adam optimiser after a few steps (so the optimiser has state)."""
    model = SRNClassifier(rng=seed)
    opt = optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, 5, size=(4, 6)), rng.integers(0, 3, size=4)
    crit = nn.CrossEntropyLoss()
    for _ in range(steps):
        opt.zero_grad()
        logits = model(x)
        crit(logits, y)
        model.backward(crit.backward())
        opt.step()
    return model, opt


def assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


# ---- round trips ---------------------------------------------------------------------------

def test_round_trip_weights_optimizer_and_meta(tmp_path):
    path = tmp_path / "ckpt.npz"
    model, opt = trained()
    meta = dict(epoch=3, note="hello", history={"train_loss": [1.5, 0.25]},
                best=np.float64(0.125), shape=np.array([2, 3]))
    assert checkpoint.save(path, model, opt, **meta) == path
    assert set(os.listdir(tmp_path)) == {"ckpt.npz"}

    fresh = SRNClassifier(rng=7)
    fresh_opt = optim.Adam(fresh.parameters())
    saved = checkpoint.load(path, fresh, fresh_opt)
    assert_same_weights(model, fresh)
    assert saved["meta"] == dict(epoch=3, note="hello", history={"train_loss": [1.5, 0.25]},
                                 best=0.125, shape=[2, 3])
    assert saved["model_class"] == "SRNClassifier"
    assert saved["model_config"] == model.config
    a, b = opt.state_dict(), fresh_opt.state_dict()
    assert a["param_groups"] == b["param_groups"] and a["state"].keys() == b["state"].keys()
    for i in a["state"]:
        assert a["state"][i]["step"] == b["state"][i]["step"] == 3
        assert type(b["state"][i]["step"]) is int
        for k in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_array_equal(a["state"][i][k], b["state"][i][k])


def test_load_without_a_model_returns_the_arrays(tmp_path):
    path = tmp_path / "ckpt.npz"
    model, _ = trained()
    checkpoint.save(path, model, arrays={"best/x": np.arange(3.0)}, epoch=1)
    saved = checkpoint.load(path)
    assert saved["optimizer_state"] is None and saved["meta"] == {"epoch": 1}
    np.testing.assert_array_equal(saved["arrays"]["best/x"], np.arange(3.0))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(saved["model_state"][k], v)


def test_meta_must_be_json(tmp_path):
    model, _ = trained(steps=0)
    with pytest.raises(TypeError, match="JSON"):
        checkpoint.save(tmp_path / "c.npz", model, thing=object())
    assert os.listdir(tmp_path) == []


# ---- atomic writes -------------------------------------------------------------------------

@pytest.mark.parametrize("fail_in", ["savez", "replace"])
def test_a_failed_write_keeps_the_old_checkpoint(tmp_path, monkeypatch, fail_in):
    path = tmp_path / "ckpt.npz"
    model, opt = trained()
    checkpoint.save(path, model, opt, epoch=1)
    old_bytes = path.read_bytes()

    def half_written(f, **members):
        f.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    def no_rename(src, dst):
        raise OSError("crash before rename")

    if fail_in == "savez":
        monkeypatch.setattr(np, "savez", half_written)
    else:
        monkeypatch.setattr(os, "replace", no_rename)
    model2, opt2 = trained(steps=5, seed=1)
    with pytest.raises(OSError):
        checkpoint.save(path, model2, opt2, epoch=2)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["ckpt.npz"]                       # no temp file left
    fresh = SRNClassifier(rng=3)
    assert checkpoint.load(path, fresh)["meta"] == {"epoch": 1}
    assert_same_weights(model, fresh)


# ---- refusing what does not fit ------------------------------------------------------------

def test_architecture_mismatch_names_what_differs(tmp_path):
    path = tmp_path / "ckpt.npz"
    model, opt = trained()
    checkpoint.save(path, model, opt)
    with pytest.raises(ValueError, match=r"rnn.weight_hh_l0: saved \(8, 8\), model \(16, 16\)"):
        checkpoint.load(path, SRNClassifier(hidden=16))
    with pytest.raises(ValueError, match="saved from a SRNClassifier"):
        checkpoint.load(path, OtherModel())
    with pytest.raises(ValueError, match="dropout: saved 0.0, model 0.5"):
        checkpoint.load(path, SRNClassifier(dropout=0.5))
    with pytest.raises(ValueError, match=r"missing parameters \['weight', 'bias'\]"):
        checkpoint.load(path, _Unrelated())
    with pytest.raises(ValueError, match="does not fit the optimiser"):
        checkpoint.load(path, SRNClassifier(), optim.SGD(SRNClassifier().parameters(), lr=1.0))
    untouched = SRNClassifier(rng=5)
    before = untouched.state_dict()
    with pytest.raises(ValueError):
        checkpoint.load(path, untouched, optim.RMSprop(untouched.parameters()))
    for k, v in before.items():                      # nothing changed when anything failed
        np.testing.assert_array_equal(untouched.state_dict()[k], v)
    other = OtherModel(rng=5)
    checkpoint.load(path, other, strict=False)       # same parameters: loads when not strict
    assert_same_weights(model, other)


class _Unrelated(nn.Module):
    """Parameters the checkpoint lacks (and none of those it has)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(np.zeros((3, 8)))
        self.bias = nn.Parameter(np.zeros(3))


def test_pickled_objects_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))        # unpickling would create the marker

    path = tmp_path / "evil.npz"
    model, _ = trained(steps=0)
    checkpoint.save(path, model)
    with np.load(path) as good:
        members = {k: good[k] for k in good.files}
    evil = np.empty(1, dtype=object)
    evil[0] = Evil()
    members["param/out.bias"] = evil
    np.savez(path, **members)
    with pytest.raises(CheckpointError, match="pickle") as info:
        checkpoint.load(path, SRNClassifier())
    assert str(path) in str(info.value)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="pickle"):
        checkpoint.load(path)
    assert not marker.exists()
    # Control: the same file does run code when unpickling is allowed.
    with np.load(path, allow_pickle=True) as unsafe:
        unsafe["param/out.bias"]
    assert marker.exists()


def test_a_plain_pickle_or_npy_file_is_refused(tmp_path):
    path = tmp_path / "c.npz"
    np.save(path, np.zeros(3))                          # .npy, not a zip: not a checkpoint
    os.replace(str(path) + ".npy", path)
    with pytest.raises(CheckpointError, match="not a .npz"):
        checkpoint.load(path)
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a minirnn checkpoint"):
        checkpoint.load(tmp_path / "plain.npz")


def test_truncated_or_corrupt_files_raise_a_clear_error(tmp_path):
    path = tmp_path / "ckpt.npz"
    model, opt = trained()
    checkpoint.save(path, model, opt, epoch=1)
    data = path.read_bytes()
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        checkpoint.load(tmp_path / "missing.npz")
    for cut in (0, 10, len(data) // 2, len(data) - 10):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError) as info:
            checkpoint.load(path, SRNClassifier())
        assert str(path) in str(info.value)
    corrupt = bytearray(data)
    start = data.index(b"param/rnn.weight_ih_l0") + 200        # inside that array's bytes
    corrupt[start:start + 8] = b"\xff" * 8
    path.write_bytes(bytes(corrupt))
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        checkpoint.load(path, SRNClassifier())


# ---- RNG state and resuming ----------------------------------------------------------------

def test_rng_state_round_trip_keeps_sharing_with_the_global_generator():
    minirnn.manual_seed(0)
    drop = nn.Dropout(0.5)                                         # shares the global one
    state = checkpoint.get_rng_state(drop)
    expected = _config._generator.random(3)
    minirnn.manual_seed(123)
    other = nn.Dropout(0.5, rng=9)                                 # own generator now
    checkpoint.set_rng_state(state, other)
    assert other._rng is _config._generator
    np.testing.assert_array_equal(_config._generator.random(3), expected)


def run(path, epochs, resume=False, seed=0):
    """fit an SRN with dropout on shuffled variable-length data (global RNG for shuffling)."""
    minirnn.manual_seed(seed)
    rng = np.random.default_rng(42)
    data = [(rng.integers(0, 5, size=L), int(rng.integers(0, 3))) for L in rng.integers(2, 7, 12)]
    train = DataLoader(data, batch_size=4, shuffle=True)             # rng=None: global
    wrong = [(x, (y + 1) % 3) for x, y in data[:6]]      # dev gets worse as training goes on,
    dev = DataLoader(wrong, batch_size=3, shuffle=True, rng=seed + 1)  # so the best epoch is early
    model = SRNClassifier(hidden=8, dropout=0.3, rng=seed)
    opt = optim.Adam(model.parameters(), lr=0.02)
    h = fit(model, nn.CrossEntropyLoss(), opt, train, dev, epochs=epochs, clip=1.0,
            verbose=False, checkpoint=path, resume=resume)
    return model, h


def test_resuming_from_a_checkpoint_equals_uninterrupted_training(tmp_path):
    full_model, full = run(tmp_path / "full.npz", epochs=6)
    run(tmp_path / "part.npz", epochs=3)                             # "interrupted" after 3
    # A new process would build everything afresh, with other seeds: the checkpoint must
    # restore weights, optimiser state, every RNG, the history and the best weights.
    model, h = run(tmp_path / "part.npz", epochs=6, resume=True, seed=99)
    assert h.epoch == list(range(1, 7)) and h.train_loss == full.train_loss
    assert h.dev_loss == full.dev_loss and h.best_epoch == full.best_epoch <= 3
    assert_same_weights(full_model, model)                          # the restored best
    last_full = checkpoint.load(tmp_path / "full.npz")["model_state"]
    last_part = checkpoint.load(tmp_path / "part.npz")["model_state"]
    for k in last_full:                                             # the last epoch's weights
        np.testing.assert_array_equal(last_full[k], last_part[k])


def test_resume_without_a_checkpoint_file_starts_afresh(tmp_path):
    _, fresh = run(tmp_path / "a.npz", epochs=2, resume=True)
    _, plain = run(tmp_path / "b.npz", epochs=2)
    assert fresh.train_loss == plain.train_loss
    _, again = run(tmp_path / "a.npz", epochs=2, resume=True)      # nothing left to do
    assert again.train_loss == plain.train_loss and len(again.epoch) == 2


def test_written_files_get_ordinary_permissions(tmp_path):
    """Atomic writes go through a private temporary file; the result must not stay private."""
    import minirnn.nn as mnn
    from minirnn.train import checkpoint
    mask = os.umask(0o022)
    try:
        path = checkpoint.save(str(tmp_path / "ck.npz"), mnn.Linear(2, 3, rng=0))
    finally:
        os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_resume_from_a_checkpoint_not_written_by_fit_changes_nothing(tmp_path):
    path = tmp_path / "plain.npz"
    model, opt = trained()
    checkpoint.save(path, model, opt)                               # no epoch/history/rng
    fresh = SRNClassifier(rng=5)
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    before = {k: v.copy() for k, v in fresh.state_dict().items()}
    with pytest.raises(ValueError, match="not written by fit"):
        fit(fresh, nn.CrossEntropyLoss(), fresh_opt, [(np.zeros((2, 6), int), np.zeros(2, int))],
            epochs=1, verbose=False, checkpoint=path, resume=True)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    assert fresh_opt.param_groups[0]["lr"] == 0.5 and not any(fresh_opt.state)


def test_non_numeric_weights_are_refused_before_anything_changes(tmp_path):
    path, bad = tmp_path / "c.npz", tmp_path / "complex.npz"
    model, _ = trained()
    checkpoint.save(path, model, optim.SGD(model.parameters(), lr=0.5))
    members = dict(np.load(path))
    name = next(k for k in members if k.startswith("param/"))
    members[name] = members[name].astype(complex)
    np.savez(bad, **members)
    target = SRNClassifier(rng=1)
    opt = optim.SGD(target.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="not numbers"):
        checkpoint.load(bad, target, opt)
    assert opt.param_groups[0]["lr"] == 0.1
