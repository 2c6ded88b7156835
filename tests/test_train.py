"""Tests for minirnn.train.runner: fit keeps and restores the best epoch, stops early at the
right epoch, overfits a tiny batch, evaluate restores modes, progress output is quiet off a
terminal. Ordered from simple to complex."""
import io
import math
import sys

import numpy as np
import pytest

import minirnn
from minirnn import nn, optim
from minirnn.data import DataLoader
from minirnn.train import History, accuracy, evaluate, fit, perplexity

from tiny_models import SRNClassifier


class SRNTagger(nn.Module):
    """ids (N, L) -> Embedding -> RNN (batch first) -> Linear at every step -> (N, L, C)."""

    def __init__(self, vocab=5, hidden=8, classes=3, rng=0):
        super().__init__()
        rng = np.random.default_rng(rng)
        self.emb = nn.Embedding(vocab, 4, rng=rng)
        self.rnn = nn.RNN(4, hidden, batch_first=True, rng=rng)
        self.out = nn.Linear(hidden, classes, rng=rng)

    def forward(self, ids, lengths=None):
        y, _ = self.rnn(self.emb(ids), lengths=lengths)             # (N, L, H)
        return self.out(y)

    def backward(self, grad):
        dx, _ = self.rnn.backward(self.out.backward(grad))
        self.emb.backward(dx)


def tiny_batch(n=8, length=6, vocab=5, classes=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.integers(0, vocab, size=(n, length)), rng.integers(0, classes, size=n)


def bias_task():
    """A model whose dev loss falls, then rises: Linear(1, 2) on x = 1 is a learnable bias.

    Training labels are all 1, so the logit gap grows every step; the dev labels are 70 % ones,
    so the dev loss is least when softmax gives p(1) = 0.7 and grows after that.
    """
    model = nn.Linear(1, 2, rng=0)
    model.weight.data[...] = 0.0
    model.bias.data[...] = 0.0
    train = [(np.ones((10, 1)), np.ones(10, dtype=np.int64))]
    dev = [(np.ones((10, 1)), np.array([1] * 7 + [0] * 3))]
    return model, train, dev


# ---- evaluate ------------------------------------------------------------------------------

def test_evaluate_accuracy_and_perplexity_match_by_hand():
    model = nn.Linear(2, 2, rng=0)
    x, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0, 1, 1])
    logits = model(x)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected_loss = -np.mean(np.log(p[np.arange(3), y]))
    loss, acc = evaluate(model, nn.CrossEntropyLoss(), [(x[:2], y[:2]), (x[2:], y[2:])])
    assert loss == pytest.approx(expected_loss, rel=1e-12)           # mean over targets
    assert acc == pytest.approx(np.mean(logits.argmax(1) == y))
    assert perplexity(model, [(x, y)]) == pytest.approx(math.exp(expected_loss))
    assert accuracy(model, [(x, y)]) == acc
    assert evaluate(model, nn.CrossEntropyLoss(), [(x, y)], metric=None)[1] is None


def test_evaluate_restores_each_modules_mode_and_disables_dropout():
    model = SRNClassifier(dropout=0.5)
    x, y = tiny_batch()
    loss = nn.CrossEntropyLoss()
    model.train()
    model.rnn.eval()                                                  # a mixed state
    first = evaluate(model, loss, [(x, y)])
    assert model.training and model.drop.training and not model.rnn.training
    assert evaluate(model, loss, [(x, y)]) == first                   # no dropout: deterministic
    model.eval()
    evaluate(model, loss, [(x, y)])
    assert not any(m.training for m in model.modules())
    assert all(not m._caches for m in model.modules())                # no_grad: no caches kept


def test_evaluate_ignores_padding_past_each_sequence_end():
    """A padded (x, y, lengths) batch scores the same as each sequence on its own."""
    model = SRNTagger()
    data = [(np.array([1, 2, 3, 4]), np.array([0, 1, 2, 0])),
            (np.array([2, 1]), np.array([1, 1])),
            (np.array([4, 4, 0]), np.array([2, 0, 1]))]
    (x, y, lengths), = list(DataLoader(data, batch_size=3))
    assert x.shape == (3, 4) and list(lengths) == [4, 2, 3]
    crit = nn.CrossEntropyLoss()
    padded = evaluate(model, crit, [(x, y, lengths)])
    singles = evaluate(model, crit, [(xi[None], yi[None]) for xi, yi in data])
    assert padded[0] == pytest.approx(singles[0], rel=1e-12)
    assert padded[1] == pytest.approx(singles[1])


# ---- fit -----------------------------------------------------------------------------------

def test_fit_validates_its_arguments():
    model, train, dev = bias_task()
    opt = optim.SGD(model.parameters(), lr=0.1)
    crit = nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match="dev_loader"):
        fit(model, crit, opt, train, patience=2, verbose=False)
    with pytest.raises(ValueError, match="metric"):
        fit(model, crit, opt, train, dev, metric="f1", verbose=False)
    with pytest.raises(ValueError, match="reduction"):
        fit(model, nn.CrossEntropyLoss(reduction="none"), opt, train, verbose=False)
    with pytest.raises(ValueError, match="logits of shape"):
        fit(model, crit, opt, [(np.ones((4, 1)), np.ones((4, 2), dtype=int))], verbose=False)


def test_fit_records_one_entry_per_epoch():
    model, train, dev = bias_task()
    h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, dev,
            epochs=4, verbose=False)
    assert isinstance(h, History) and isinstance(h, dict)
    for key in ("epoch", "train_loss", "dev_loss", "dev_metric", "seconds", "grad_norm", "lr"):
        assert len(h[key]) == 4, key
    assert h["epoch"] == [1, 2, 3, 4] and h["lr"] == [0.1] * 4 and h.metric == "accuracy"
    assert all(s >= 0 for s in h["seconds"]) and all(g > 0 for g in h["grad_norm"])


def test_fit_overfits_a_tiny_batch_with_an_srn():
    minirnn.manual_seed(0)
    x, y = tiny_batch()
    model = SRNClassifier()
    crit = nn.CrossEntropyLoss()
    assert evaluate(model, crit, [(x, y)])[0] == pytest.approx(math.log(3), abs=0.3)  # ≈ ln C
    h = fit(model, crit, optim.Adam(model.parameters(), lr=0.05), [(x, y)], epochs=60,
            verbose=False)
    final_loss, final_acc = evaluate(model, crit, [(x, y)])
    assert h["train_loss"][-1] < 0.05
    assert final_loss < 0.05 and final_acc == 1.0


def test_fit_restores_the_best_epoch_not_the_last():
    model, train, dev = bias_task()
    h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, dev,
            epochs=12, metric=None, verbose=False)
    best = h.best_epoch                                             # counted from 1
    assert 1 < best < 12                                            # dev got worse later
    assert h.dev_loss[best - 1] == min(h.dev_loss) and h.best_score == h.dev_loss[best - 1]
    assert h.dev_loss[-1] > h.dev_loss[best - 1]

    # The same training stopped after epoch `best` gives the weights fit must have restored.
    reference, _, _ = bias_task()
    fit(reference, nn.CrossEntropyLoss(), optim.SGD(reference.parameters(), lr=0.1), train,
        epochs=best, verbose=False)
    for name, p in reference.named_parameters():
        np.testing.assert_array_equal(dict(model.named_parameters())[name].data, p.data)
        np.testing.assert_array_equal(h.best_state[name], p.data)   # a copy, never mutated

    last, _, _ = bias_task()
    fit(last, nn.CrossEntropyLoss(), optim.SGD(last.parameters(), lr=0.1), train, dev,
        epochs=12, metric=None, verbose=False, restore_best=False)
    assert not np.array_equal(last.bias.data, model.bias.data)


def test_perplexity_is_lower_is_better():
    model, train, dev = bias_task()
    h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, dev,
            epochs=12, metric="perplexity", verbose=False)
    np.testing.assert_allclose(h.dev_metric, np.exp(h.dev_loss), rtol=1e-12)
    assert h.best_epoch == int(np.argmin(h.dev_metric)) + 1          # epochs count from 1


def test_early_stopping_stops_patience_epochs_after_the_best():
    model, train, dev = bias_task()
    full = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, dev,
               epochs=12, metric=None, verbose=False)
    best = full.best_epoch
    assert best + 3 < 12                       # room to stop early
    model, train, dev = bias_task()
    h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, dev,
            epochs=12, metric=None, patience=3, verbose=False)
    assert h.stopped_epoch == best + 3 and h.epoch[-1] == best + 3
    assert h.train_loss == full.train_loss[:best + 3] and h.best_epoch == best
    np.testing.assert_array_equal(model.bias.data, full.best_state["bias"])


def test_clip_bounds_each_update_and_reports_the_norm_before_clipping():
    model, train, _ = bias_task()
    before = model.bias.data.copy()
    h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1.0), train,
            epochs=1, clip=1e-3, verbose=False)
    change = np.sqrt(np.sum((model.bias.data - before) ** 2) + np.sum(model.weight.data ** 2))
    assert change == pytest.approx(1e-3, rel=1e-3)
    assert h.grad_norm[0] > 0.1                                     # unclipped norm


def test_fit_trains_on_variable_length_batches():
    data = [(np.arange(1, 1 + L) % 5, L % 3) for L in (2, 3, 4, 5, 6, 3)]
    loader = DataLoader(data, batch_size=3)
    model = SRNClassifier()
    h = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05), loader,
            loader, epochs=40, metric=None, verbose=False)
    assert h.train_loss[-1] < h.train_loss[0] and min(h.dev_loss) < 0.1


# ---- progress output -----------------------------------------------------------------------

def test_progress_is_silent_off_a_terminal(capsys):
    model, train, dev = bias_task()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, dev,
        epochs=3, verbose=False)
    assert capsys.readouterr() == ("", "")
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, dev,
        epochs=3, verbose=True)                                      # not a TTY: one line each
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert err == "" and "\r" not in out and len(lines) == 3
    assert lines[0].startswith("epoch 1/3") and "dev_accuracy" in lines[0]


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    model, train, dev = bias_task()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, dev,
        epochs=2, verbose=True)
    text = tty.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text and "loss" in text and "batch" in text
    assert capsys.readouterr().out == ""


def test_progress_falls_back_to_lines_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)               # "not installed"
    monkeypatch.setattr(sys, "stderr", FakeTTY())
    model, train, dev = bias_task()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, dev,
        epochs=2, verbose=True)
    assert capsys.readouterr().out.splitlines()[1].startswith("epoch 2/2")


# ---- continuing a run ----------------------------------------------------------------------

def test_continuing_with_the_history_equals_one_long_run():
    model, train, dev = bias_task()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    full = fit(model, nn.CrossEntropyLoss(), opt, train, dev, epochs=8, metric=None,
               verbose=False, restore_best=False)
    model, train, dev = bias_task()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    h = fit(model, crit, opt, train, dev, epochs=3, metric=None, verbose=False,
            restore_best=False)
    with pytest.raises(ValueError, match="start_epoch=3"):
        fit(model, crit, opt, train, dev, epochs=8, metric=None, history=h, start_epoch=2)
    h = fit(model, crit, opt, train, dev, epochs=8, metric=None, history=h, verbose=False,
            restore_best=False)
    assert h.epoch == list(range(1, 9)) and h.train_loss == full.train_loss
    assert h.best_epoch == full.best_epoch
    np.testing.assert_array_equal(h.best_state["bias"], full.best_state["bias"])


def test_diverging_training_stops_with_a_clear_error_and_finite_weights():
    """Weights that overflow the logits are caught at the first non-finite loss or gradient,
    before the step that would write inf or NaN into every weight."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=(16, 6))
    y = rng.integers(0, 3, size=16)
    model = SRNClassifier(rng=0)
    model.out.weight.data[...] = 1e308               # finite, but the logits overflow
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(FloatingPointError, match="diverged at batch 0"):
        with np.errstate(all="ignore"):
            fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                DataLoader(list(zip(x, y)), batch_size=4), epochs=3, verbose=False)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def test_a_batch_whose_targets_are_all_ignored_adds_nothing():
    model = nn.Linear(3, 4, rng=0)
    x = np.random.default_rng(0).standard_normal((4, 3))
    good, ignored = (x, np.array([0, 1, 2, 3])), (x, np.full(4, -100))
    for reduction in ("mean", "sum"):
        crit = nn.CrossEntropyLoss(reduction=reduction)
        loss, _ = evaluate(model, crit, [good, ignored])
        assert loss == evaluate(model, crit, [good])[0]
    h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
            [good, ignored], epochs=1, verbose=False)
    assert np.isfinite(h.train_loss[0])
