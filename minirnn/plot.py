"""Figures for training runs and LSTM internals, written as PNG files (needs matplotlib).

    plot_losses(history, path)              train/dev loss per epoch, and the dev metric
    plot_metric_vs_length(results, path)    a metric against sequence length, one line per model
    plot_gates(lstm.last_gates, path)       heat maps of i, f, o and c (and h) over time
    plot_grad_norms(norms_by_name, path)    gradient L2 norms per step, log scale (and a
                                            threshold line, e.g. the clipping norm)
    plot_per_step(panels, path)             a few small line plots against the time step
                                            (the by-hand networks' states and gradients)

Every function draws on its own ``Figure`` rendered by the Agg backend and returns ``path``.
No window is ever opened; pyplot is not used, so the caller's matplotlib backend and pyplot's
list of open figures are left alone (a headless server and a notebook both work).
"""

import numpy as np

from ._io import atomic_write

_INSTALL = "plotting needs matplotlib: pip install minirnn[plot]"


def _figure(nrows=1, ncols=1, sharex=False, **kwargs):
    """(Figure on an Agg canvas, axes) -- the object-oriented API, no pyplot."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(_INSTALL) from None
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex)
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


def plot_losses(history, path, title=None, baseline=None, baseline_label="baseline"):
    """Training and dev loss per epoch (left) and the dev metric (right, if recorded).

    history  : ``fit``'s History, or a dict with lists 'train_loss' and optionally 'dev_loss',
               'dev_metric', 'epoch', and 'metric' (its name) and 'best_epoch' (marked)
    path     : the PNG file to write
    baseline : optional value of the metric to beat (e.g. the unigram perplexity), drawn on
               the metric panel as a dashed line labelled "<baseline_label> <value>"
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
        ax = axes[0, 1]
        ax.plot(epochs, metric, marker="o", ms=3, color="C2", label=f"dev {name}")
        ax.set(xlabel="epoch", ylabel=f"dev {name}", title=f"dev {name}")
        if baseline is not None:
            ax.axhline(baseline, color="C3", ls="--", lw=1.5,
                       label=f"{baseline_label} {baseline:.4g}")
        ax.legend()
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


def plot_gates(gates, path, tokens=None, title=None, layer=0, batch=0, keys=("i", "f", "o", "c"),
               gate_activation=None, token_label=None, stacked=False, annotate=False):
    """Heat maps of LSTM gate activations over time: one panel per gate, hidden units on y.

    gates  : ``lstm.last_gates``: dict of arrays (layers·directions, L, N, H), or
             (layers·directions, L, H) for unbatched input; a dict of (L, H) arrays also works
             (add 'h', e.g. the layer's output, to draw the hidden state h_t too)
    tokens : optional labels for the L time steps, shown under the step numbers t = 1..L
    layer  : which layer·direction (first axis) to show; batch : which sequence (N axis)
    keys   : which arrays to draw, in order ('g' and 'h' are also available)
    gate_activation : optional name of the gates' activation ('sigmoid', 'step'), shown in
             the gate panels' titles
    token_label : what the tokens are (default 'input'), shown in the x-axis label
    stacked  : panels one above the other, sharing the time axis (else side by side)
    annotate : write each value in its cell (for a few units and steps)
    Gates i, f, o are drawn on [0, 1]; c, g and h on a scale symmetric around 0.
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
    H, L = panels[0][1].shape
    if tokens is not None and len(tokens) != L:
        raise ValueError(f"plot_gates: expected {L} tokens (one per time step), got {len(tokens)}")
    act = f" ({gate_activation})" if gate_activation else ""
    names = {"i": f"input gate i{act}", "f": f"forget gate f{act}", "g": "candidate g",
             "o": f"output gate o{act}", "c": "cell state c", "h": "hidden state h"}
    n = len(panels)
    if stacked:
        size = (max(6.0, 0.6 * L + 2), 0.4 + n * (0.35 * min(H, 16) + 0.9))
        fig, axes = _figure(n, 1, figsize=size, layout="constrained", sharex=True)
        axes = axes[:, 0]
    else:
        size = (max(3.2 * n, 0.35 * L * n), 3.6 + (0.3 if tokens is not None else 0))
        fig, axes = _figure(1, n, figsize=size, layout="constrained")
        axes = axes[0]
    steps = [str(t) for t in range(1, L + 1)]               # step t counts from 1
    labels = steps if tokens is None else [f"{t}\n{tok}" for t, tok in zip(steps, tokens)]
    xlabel = "time step t" + (f" (below: {token_label or 'input'})" if tokens is not None
                              else "")
    for k, (ax, (key, a)) in enumerate(zip(axes, panels)):
        if key in ("c", "g", "h"):
            lim = float(np.max(np.abs(a))) or 1.0
            im = ax.imshow(a, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim,
                           interpolation="nearest")
        else:
            im = ax.imshow(a, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0,
                           interpolation="nearest")
        fig.colorbar(im, ax=ax, pad=0.01)
        ax.set_title(names.get(key, key), loc="left" if stacked else "center")
        if H <= 12:                          # every unit named; else integer ticks
            ax.set_yticks(range(H))
            ax.set_yticklabels([f"unit {u}" for u in range(1, H + 1)])
        else:
            _integer_ticks(ax.yaxis)
            ax.yaxis.set_major_formatter(lambda v, _: f"unit {int(v) + 1}")
        if not stacked:
            ax.set_ylabel("hidden unit")
        if not stacked or k == n - 1:
            ax.set_xticks(range(L))
            ax.set_xticklabels(labels)
            ax.set_xlabel(xlabel)
        if annotate:
            for u in range(H):
                for t in range(L):
                    v = a[u, t]
                    light = abs(v) > 0.6 * lim if key in ("c", "g", "h") else v < 0.5
                    ax.text(t, u, f"{v:.3g}", ha="center", va="center", fontsize=9,
                            color="white" if light else "black")
    return _save(fig, path, title)


def plot_grad_norms(norms_by_name, path, title=None, xlabel="step",
                    ylabel="gradient L2 norm", threshold=None, threshold_label="threshold",
                    styles=None):
    """Gradient L2 norms per step for several series, on a log y-axis.

    norms_by_name : {name: sequence of norms}, e.g. the norm of dL/dh_t for t = 1..T per
                    model, or the per-batch norms of a run; a single sequence is allowed too
    threshold     : optional value drawn as a dashed horizontal line labelled
                    "<threshold_label> = <value>" (e.g. the clipping norm)
    styles        : optional {name: matplotlib line options}, e.g. {'SRN': {'ls': '--'}}
    Non-positive values cannot be drawn on a log scale and are left out.
    Returns ``path``.
    """
    if not isinstance(norms_by_name, dict):
        norms_by_name = {"grad norm": norms_by_name}
    if not norms_by_name:
        raise ValueError("plot_grad_norms: expected at least one series")
    fig, axes = _figure(figsize=(6.4, 4.8), layout="constrained")
    ax = axes[0, 0]
    for name, norms in norms_by_name.items():
        v = _values(norms)
        v[~(v > 0)] = np.nan                      # log scale: drop zeros, negatives, NaN
        style = dict(marker="o", ms=2, **(styles or {}).get(name, {}))
        ax.plot(np.arange(1, len(v) + 1), v, label=str(name), **style)
    if threshold is not None:
        ax.axhline(threshold, color="C3", ls="--", lw=1.5, zorder=3,
                   label=f"{threshold_label} = {threshold:g}")
    ax.set_yscale("log")
    _integer_ticks(ax.xaxis)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3, which="both")
    # below the axes: dense per-step curves leave no free corner inside them
    n = len(ax.get_legend_handles_labels()[1])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(n, 2), frameon=False)
    return _save(fig, path, title)


def plot_per_step(panels, path, title=None, annotate=False):
    """Small line plots against the time step t = 1..T, one panel each, side by side.

    panels   : list of dicts with 'series' ({name: sequence of T values}), and optionally
               'title', 'ylabel', 'log' (a log y-axis; non-positive values are left out),
               'ylim' and 'styles' ({name: matplotlib line options}, e.g. {'x': {'ls': '--'}})
    annotate : write each value (4 significant digits) next to its point (for a few steps)
    Returns ``path``.
    """
    if not panels:
        raise ValueError("plot_per_step: expected at least one panel")
    fig, axes = _figure(1, len(panels), figsize=(5.2 * len(panels), 4.2), layout="constrained")
    for ax, panel in zip(axes[0], panels):
        if not panel.get("series"):
            raise ValueError(f"plot_per_step: expected series in panel {panel.get('title')!r}")
        for k, (name, values) in enumerate(panel["series"].items()):
            v = _values(values)
            if panel.get("log"):
                v[~(v > 0)] = np.nan              # log scale: drop zeros, negatives, NaN
            t = np.arange(1, len(v) + 1)
            style = {"marker": "o", "ms": 4, "color": f"C{k}",
                     **panel.get("styles", {}).get(name, {})}
            ax.plot(t, v, label=str(name), **style)
            if annotate:
                for tt, vv in zip(t, v):
                    if np.isfinite(vv):
                        ax.annotate(f"{vv:.4g}", (tt, vv), textcoords="offset points",
                                    xytext=(4, 4), fontsize=8, color=style["color"])
        if panel.get("log"):
            ax.set_yscale("log")
        if panel.get("ylim") is not None:
            ax.set_ylim(*panel["ylim"])
        _integer_ticks(ax.xaxis)
        ax.margins(x=0.12)                        # room for the last point's label
        ax.set(xlabel="time step t", ylabel=panel.get("ylabel", ""), title=panel.get("title", ""))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return _save(fig, path, title)
