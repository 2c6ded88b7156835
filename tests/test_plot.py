"""Tests for minirnn.plot: every figure is written as a non-empty PNG, nothing is displayed,
and a missing matplotlib gives an install hint."""
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from minirnn import nn, optim, plot                                    # noqa: E402
from minirnn.train import fit                                          # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)


def small_history():
    model = nn.Linear(2, 2, rng=0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 2)), rng.integers(0, 2, size=16)
    return fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5),
               [(x, y)], [(x, y)], epochs=5, verbose=False)


def test_plot_losses_from_a_fit_history(tmp_path):
    path = tmp_path / "losses.png"
    assert plot.plot_losses(small_history(), path, title="demo") == path
    assert_png(path)


def test_plot_losses_without_dev_set(tmp_path):
    path = tmp_path / "train_only.png"
    plot.plot_losses({"train_loss": [1.0, 0.5, 0.25]}, path)
    assert_png(path)


def test_plot_metric_vs_length(tmp_path):
    results = {"SRN": {5: 0.95, 10: 0.7, 20: 0.4}, "LSTM": {20: 0.9, 5: 1.0, 10: 0.97}}
    path = plot.plot_metric_vs_length(results, tmp_path / "length.png")
    assert_png(path)


def test_plot_gates_of_a_real_lstm(tmp_path):
    lstm = nn.LSTM(3, 4, num_layers=2, rng=0)
    lstm(np.random.default_rng(0).normal(size=(6, 2, 3)))             # (L, N, H_in)
    path = plot.plot_gates(lstm.last_gates, tmp_path / "gates.png", tokens=list("hello!"),
                           title="gates", layer=1, batch=1)
    assert_png(path)
    with pytest.raises(ValueError, match="expected 6 tokens"):
        plot.plot_gates(lstm.last_gates, tmp_path / "bad.png", tokens=list("abc"))


def test_plot_grad_norms_log_scale(tmp_path):
    T = np.arange(1, 21)
    norms = {"SRN": 0.5 ** T, "LSTM": 0.95 ** T, "with a zero": np.r_[0.0, np.ones(19)]}
    path = plot.plot_grad_norms(norms, tmp_path / "norms.png", xlabel="time step")
    assert_png(path)


def test_plotting_leaves_the_backend_alone_and_opens_no_figures(tmp_path):
    import matplotlib
    backend = matplotlib.get_backend()
    plot.plot_metric_vs_length({"a": {1: 0.5}}, tmp_path / "x.png")
    assert matplotlib.get_backend() == backend
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)        # import now fails
    with pytest.raises(ImportError, match=r"pip install minirnn\[plot\]"):
        plot.plot_losses({"train_loss": [1.0]}, tmp_path / "x.png")
