"""Figures for training runs and LSTM internals, written as PNG files (needs matplotlib).

    plot_losses(history, path)              train/dev loss per epoch, and the dev metric
    plot_metric_vs_length(results, path)    a metric against sequence length, one line per model
    plot_gates(lstm.last_gates, path)       heat maps of i, f, o and c over time
    plot_grad_norms(norms_by_name, path)    gradient L2 norms per step, log scale

Every function draws on its own ``Figure`` rendered by the Agg backend and returns ``path``.
No window is ever opened; pyplot is not used, so the caller's matplotlib backend and pyplot's
list of open figures are left alone (a headless server and a notebook both work).
"""

import numpy as np

from ._io import atomic_write

_INSTALL = "plotting needs matplotlib: pip install minirnn[plot]"


def _figure(nrows=1, ncols=1, **kwargs):
    """(Figure on an Agg canvas, axes) -- the object-oriented API, no pyplot."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(_INSTALL) from None
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _integer_ticks(axis):
    from matplotlib.ticker import MaxNLocator
    axis.set_major_locator(MaxNLocator(integer=True))


def _save(fig, path, title):
    if title:
        fig.suptitle(title)
    with atomic_write(path, "wb") as f:           # never a half-written PNG
        fig.savefig(f, format="png", dpi=100)
    return path


def _values(seq):
    """A list with None -> NaN, as floats (matplotlib leaves gaps at NaN)."""
    return np.array([np.nan if v is None else float(v) for v in seq], dtype=float)


def plot_losses(history, path, title=None):
    """Training and dev loss per epoch (left) and the dev metric (right, if recorded).

    history : ``fit``'s History, or a dict with lists 'train_loss' and optionally 'dev_loss',
              'dev_metric', 'epoch', and 'metric' (its name) and 'best_epoch' (marked)
    path    : the PNG file to write
    Returns ``path``.
    """
    train = _values(history["train_loss"])
    epochs = np.asarray(history.get("epoch") or range(1, len(train) + 1))    # counted from 1
    dev = _values(history.get("dev_loss") or [None] * len(train))
    metric = _values(history.get("dev_metric") or [None] * len(train))
    has_metric = bool(np.isfinite(metric).any())
    fig, axes = _figure(1, 2 if has_metric else 1, figsize=(10 if has_metric else 5.5, 4),
                        layout="constrained")
    ax = axes[0, 0]
    ax.plot(epochs, train, marker="o", ms=3, label="train")
    if np.isfinite(dev).any():
        ax.plot(epochs, dev, marker="o", ms=3, label="dev")
    ax.set(xlabel="epoch", ylabel="loss", title="loss")
    for a in axes.ravel():
        _integer_ticks(a.xaxis)
    best = history.get("best_epoch")
    if best is not None:
        for a in axes.ravel():
            a.axvline(best, color="grey", ls="--", lw=1, label=f"best (epoch {best})")
    ax.legend()
    if has_metric:
        name = history.get("metric") or "metric"
        axes[0, 1].plot(epochs, metric, marker="o", ms=3, color="C2")
        axes[0, 1].set(xlabel="epoch", ylabel=f"dev {name}", title=f"dev {name}")
    return _save(fig, path, title)


def plot_metric_vs_length(results, path, metric="accuracy", title=None):
    """A metric against sequence length, one line per model.

    results : {model_name: {length: value}}, e.g. {'SRN': {5: 0.9, 10: 0.6}, 'LSTM': {...}}
    metric  : the y-axis label
    Returns ``path``.
    """
    if not results:
        raise ValueError("plot_metric_vs_length: expected at least one model's results")
    fig, axes = _figure(figsize=(6, 4), layout="constrained")
    ax = axes[0, 0]
    for name, by_length in results.items():
        lengths = sorted(by_length)
        ax.plot(lengths, [by_length[L] for L in lengths], marker="o", label=str(name))
    ax.set(xlabel="sequence length", ylabel=metric)
    _integer_ticks(ax.xaxis)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path, title or f"{metric} vs sequence length")


def plot_gates(gates, path, tokens=None, title=None, layer=0, batch=0, keys=("i", "f", "o", "c")):
    """Heat maps of LSTM gate activations over time: one panel per gate, hidden units on y.

    gates  : ``lstm.last_gates``: dict of arrays (layers·directions, L, N, H), or
             (layers·directions, L, H) for unbatched input; a dict of (L, H) arrays also works
    tokens : optional labels for the L time steps (x-axis ticks)
    layer  : which layer·direction (first axis) to show; batch : which sequence (N axis)
    keys   : which arrays to draw, in order ('g' is also available)
    Gates i, f, o are drawn on [0, 1]; the cell state c on a scale symmetric around 0.
    Returns ``path``.
    """
    panels = []
    for key in keys:
        if key not in gates:
            raise KeyError(f"plot_gates: expected a gate {key!r} in gates, got keys "
                           f"{sorted(gates)}")
        a = np.asarray(gates[key])
        if a.ndim == 4:
            a = a[layer, :, batch]          # (L, H)
        elif a.ndim == 3:
            a = a[layer]                    # unbatched: (L, H)
        elif a.ndim != 2:
            raise ValueError(f"plot_gates: expected gate {key!r} with 2 to 4 dimensions, got "
                             f"shape {a.shape}")
        panels.append((key, a.T))           # (H, L): hidden units on the y axis
    L = panels[0][1].shape[1]
    if tokens is not None and len(tokens) != L:
        raise ValueError(f"plot_gates: expected {L} tokens (one per time step), got {len(tokens)}")
    names = {"i": "input gate i", "f": "forget gate f", "g": "candidate g",
             "o": "output gate o", "c": "cell state c"}
    fig, axes = _figure(1, len(panels), figsize=(max(3.2 * len(panels), 0.35 * L * len(panels)),
                                                 3.6), layout="constrained")
    for ax, (key, a) in zip(axes[0], panels):
        if key in ("c", "g"):
            lim = float(np.max(np.abs(a))) or 1.0
            im = ax.imshow(a, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim,
                           interpolation="nearest")
        else:
            im = ax.imshow(a, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0,
                           interpolation="nearest")
        fig.colorbar(im, ax=ax)
        ax.set(title=names.get(key, key), xlabel="time step", ylabel="hidden unit")
        _integer_ticks(ax.yaxis)
        _integer_ticks(ax.xaxis)
        if tokens is not None:
            ax.set_xticks(range(L))
            ax.set_xticklabels([str(t) for t in tokens])
    return _save(fig, path, title)


def plot_grad_norms(norms_by_name, path, title=None, xlabel="step",
                    ylabel="gradient L2 norm"):
    """Gradient L2 norms per step for several series, on a log y-axis.

    norms_by_name : {name: sequence of norms}, e.g. the norm of dL/dh_t for t = 1..T per
                    model, or the per-batch norms of a run; a single sequence is allowed too
    Non-positive values cannot be drawn on a log scale and are left out.
    Returns ``path``.
    """
    if not isinstance(norms_by_name, dict):
        norms_by_name = {"grad norm": norms_by_name}
    if not norms_by_name:
        raise ValueError("plot_grad_norms: expected at least one series")
    fig, axes = _figure(figsize=(6, 4), layout="constrained")
    ax = axes[0, 0]
    for name, norms in norms_by_name.items():
        v = _values(norms)
        v[~(v > 0)] = np.nan                      # log scale: drop zeros, negatives, NaN
        ax.plot(np.arange(1, len(v) + 1), v, marker="o", ms=2, label=str(name))
    ax.set_yscale("log")
    _integer_ticks(ax.xaxis)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return _save(fig, path, title)
