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


# ---- what the figures say (the figure is caught before it is saved) ------------------------

@pytest.fixture
def figures(monkeypatch):
    """The Figure objects the plot functions draw, in order."""
    caught = []
    save = plot._save
    monkeypatch.setattr(plot, "_save", lambda fig, path, title: caught.append(fig) or
                        save(fig, path, title))
    return caught


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_gates_names_units_steps_and_the_gate_activation(tmp_path, figures):
    T = 4
    gates = {k: np.eye(T)[:, :1] for k in ("i", "f", "o")}            # (T, H=1)
    gates.update(c=np.arange(T, dtype=float)[:, None], h=-np.ones((T, 1)))
    path = plot.plot_gates(gates, tmp_path / "lecture.png", keys=("i", "f", "o", "c", "h"),
                           tokens=["3", "2", "7", "1"], token_label="x1",
                           gate_activation="step", stacked=True, annotate=True)
    assert_png(path)
    axes = [ax for ax in figures[0].axes if ax.get_label() != "<colorbar>"]
    assert [ax.get_title(loc="left") for ax in axes] == [
        "input gate i (step)", "forget gate f (step)", "output gate o (step)", "cell state c",
        "hidden state h"]
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["unit 1"]
    bottom = axes[-1]
    assert [t.get_text() for t in bottom.get_xticklabels()] == ["1\n3", "2\n2", "3\n7", "4\n1"]
    assert bottom.get_xlabel() == "time step t (below: x1)"
    assert [t.get_text() for t in axes[3].texts] == ["0", "1", "2", "3"]      # annotated


def test_plot_gates_side_by_side_counts_steps_from_1(tmp_path, figures):
    lstm = nn.LSTM(3, 20, rng=0)
    lstm(np.random.default_rng(0).normal(size=(5, 3)))
    plot.plot_gates(lstm.last_gates, tmp_path / "gates.png")
    ax = figures[0].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "4", "5"]
    assert ax.get_title() == "input gate i" and ax.get_ylabel() == "hidden unit"
    figures[0].canvas.draw()
    assert all(t.get_text().startswith("unit ") for t in ax.get_yticklabels() if t.get_text())


def test_plot_grad_norms_draws_the_threshold_and_styles(tmp_path, figures):
    norms = {"clipped": [1.0, 10.0, 3.0], "other": [2.0, 2.0, 2.0]}
    plot.plot_grad_norms(norms, tmp_path / "n.png", threshold=5.0, threshold_label="clip",
                         styles={"other": {"ls": "--", "color": "k"}})
    ax = figures[0].axes[0]
    assert legend_texts(ax) == ["clipped", "other", "clip = 5"]
    line = [ln for ln in ax.get_lines() if ln.get_label() == "clip = 5"][0]
    assert list(line.get_ydata()) == [5.0, 5.0] and line.get_linestyle() == "--"
    assert ax.get_lines()[1].get_linestyle() == "--"


def test_plot_losses_draws_the_baseline_on_the_metric_panel(tmp_path, figures):
    history = {"train_loss": [3.0, 2.0], "dev_loss": [3.1, 2.5],
               "dev_metric": [22.0, 12.2], "metric": "perplexity"}
    plot.plot_losses(history, tmp_path / "ppl.png", baseline=23.6, baseline_label="unigram")
    metric_ax = figures[0].axes[1]
    assert legend_texts(metric_ax) == ["dev perplexity", "unigram 23.6"]
    plot.plot_losses(history, tmp_path / "ppl2.png")                     # no baseline: none
    assert legend_texts(figures[1].axes[1]) == ["dev perplexity"]


def test_plot_per_step_panels_and_bad_input(tmp_path):
    panels = [dict(title="h", series={"a": [1.0, 2.0, 3.0]}),
              dict(title="grad", log=True, series={"b": [1e-3, 0.0, 1.0]},
                   styles={"b": {"ls": "--"}})]
    assert_png(plot.plot_per_step(panels, tmp_path / "steps.png", annotate=True))
    with pytest.raises(ValueError, match="at least one panel"):
        plot.plot_per_step([], tmp_path / "none.png")
    with pytest.raises(ValueError, match="expected series"):
        plot.plot_per_step([dict(title="empty")], tmp_path / "empty.png")
