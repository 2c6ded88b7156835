"""DigitSum: how far back can an SRN, an LSTM and a GRU remember?

Each example is a digit sequence [n1, n2, 0, ..., 0] with one noise digit dropped somewhere
after the first two; the label is n1 + n2 (19 classes). The model reads the whole sequence
and answers from its last hidden state, so it must carry n1 and n2 across length − 2 steps
and ignore the noise. Model: Embedding(10, 32) -> SRN / LSTM / GRU (hidden 32) -> Linear(32, 19).

Recipes (``RECIPES``):
  book    the textbook's: k = 3 noisy copies of each of the 100 digit pairs (300 training
          examples), Adam lr 1e-3, batch 8, 500 epochs, keep the weights of the best dev epoch.
  better  more generated data, a larger batch and step, and clipping: k = 100 (10,000
          examples), batch 32, Adam 3e-3, gradient norm clipped at 1, 50 epochs, best dev
          epoch. There is no early stopping: at long lengths a model can sit on a plateau
          at chance for many epochs before it learns to carry the digits.
One run depends a lot on its seed (the data, the initial weights and the batch order all
come from it), so ``seeds=K`` trains every model at every length for seeds seed, seed+1, ...,
seed+K-1 and reports the mean and the range (min-max) of the test accuracy. What the recipes
give is in docs/digitsum/<recipe>.json (written by ``results=``, the CLI's ``--results``);
README and docs/digitsum/<recipe>.md are generated from those files by
tools/update_results.py, and tests/test_documented_numbers.py checks both.
The default run trains a quick subset (``QUICK``); ``full=True`` runs every model at every
length with the recipe's full number of epochs.

The gradient-explosion experiment lives in ``minirnn.demos.explode``.
"""
import csv
import json
import math
import os
import time

import numpy as np

from .. import get_impl, nn
from ..data import DataLoader, DigitSum, load_digitsum, save_digitsum
from ..models import SequenceClassifier
from ..optim import Adam
from .._blas import blas_threads
from .._io import atomic_write
from ..train import evaluate, fit
from ._common import out_dir, progress_bar, wrote

SEED = 1        # the first seed; with seeds=K the runs use SEED, SEED+1, ..., SEED+K-1
MODELS = ("srn", "lstm", "gru")
LENGTHS = (5, 10, 15, 20, 25, 30, 35)
EMBED_DIM, HIDDEN, NUM_CLASSES, VOCAB = 32, 32, 19, 10
EVAL_K = 1                      # dev and test: one noisy copy of each pair (100 examples)

RECIPES = {
    "book": dict(k=3, epochs=500, lr=1e-3, batch_size=8, clip=None, forget_bias=None,
                 patience=None),
    "better": dict(k=100, epochs=50, lr=3e-3, batch_size=32, clip=1.0, forget_bias=None,
                   patience=None),
}
# The default (quick) run: every model at the two shortest lengths of the book's list.
QUICK = dict(models=MODELS, lengths=(5, 10), epochs=500)
GATE_INPUT = [6, 7, 0, 0, 1, 0, 0, 0, 0, 0]     # shown in the LSTM gate heat maps (length 10)
CURVE_MODEL = "lstm"    # the results file keeps its loss curves (longest length, first seed)


# ---- data --------------------------------------------------------------------------------

def make_data(length, k, seed=SEED, data_dir=None):
    """(train, dev, test) DigitSum splits: generated (train with ``k`` copies per pair, dev and
    test with EVAL_K), or read from ``data_dir/<length>/{train,dev,test}.txt``."""
    if data_dir is not None:
        folder = os.path.join(data_dir, str(length))
        splits = load_digitsum(folder)
        if splits[0].length != length:
            raise ValueError(f"{folder}: expected sequences of length {length}, "
                             f"got {splits[0].length}")
        return splits
    return (DigitSum(length, k, "train", rng=seed), DigitSum(length, EVAL_K, "dev", rng=seed),
            DigitSum(length, EVAL_K, "test", rng=seed))


# ---- one model at one length -------------------------------------------------------------

def set_forget_bias(model, value):
    """LSTM only: forget-gate bias b_f = value (in bias_ih; bias_hh's f block zeroed)."""
    rnn, H = model.rnn, model.rnn.hidden_size
    for layer in range(rnn.num_layers):
        getattr(rnn, f"bias_ih_l{layer}").data[H:2 * H] = value     # rows i | f | g | o
        getattr(rnn, f"bias_hh_l{layer}").data[H:2 * H] = 0.0


def check_recipe(r):
    """``r`` if its clip is None or a finite number > 0 and its forget_bias None or finite,
    else ValueError: a negative clip would turn every step into gradient ascent, a NaN one
    would fill the weights with NaN."""
    clip, bias = r["clip"], r["forget_bias"]
    if clip is not None and not (isinstance(clip, (int, float)) and math.isfinite(clip)
                                 and clip > 0):
        raise ValueError(f"expected clip to be None (no clipping) or a finite number > 0, "
                         f"got {clip!r}")
    if bias is not None and not (isinstance(bias, (int, float)) and math.isfinite(bias)):
        raise ValueError(f"expected forget_bias to be None or a finite number, got {bias!r}")
    return r


def train_one(cell, length, recipe="book", epochs=None, seed=SEED, data=None, data_dir=None,
              k=None, bar=None, overrides=None):
    """Train one model on one length. Returns a dict: model, history, test_accuracy,
    dev_accuracy, epochs (run), best_epoch (1-based), seconds.

    recipe    : 'book' or 'better' (see RECIPES); ``epochs``, ``k`` and ``overrides`` (a dict
                of RECIPES keys, e.g. {'clip': 5.0, 'forget_bias': 1.0}) change it
    data      : (train, dev, test) to use instead of generating them
    bar       : a progress bar advanced once per epoch, or None
    """
    r = check_recipe(dict(RECIPES[recipe], **(overrides or {})))
    epochs = r["epochs"] if epochs is None else epochs
    k = r["k"] if k is None else k
    train, dev, test = data or make_data(length, k, seed, data_dir)
    model = SequenceClassifier(VOCAB, EMBED_DIM, HIDDEN, NUM_CLASSES, cell=cell, rng=seed)
    if r["forget_bias"] is not None and model.config["cell"] == "lstm":
        set_forget_bias(model, r["forget_bias"])
    loss = nn.CrossEntropyLoss()
    opt = Adam(model.parameters(), lr=r["lr"])
    train_loader = DataLoader(train, r["batch_size"], shuffle=True, rng=seed)
    dev_loader = DataLoader(dev, 500)
    start = time.perf_counter()
    history = None
    with blas_threads(1):
        for epoch in range(epochs):          # one epoch per call, so a bar can tick per epoch
            history = fit(model, loss, opt, train_loader, dev_loader, epochs=epoch + 1,
                          clip=r["clip"], patience=r["patience"], history=history,
                          verbose=False, restore_best=False)
            if bar is not None:
                bar.update(1)
            if history["stopped_epoch"] is not None:
                if bar is not None:
                    bar.update(epochs - epoch - 1)
                break
        model.load_state_dict(history.best_state)       # the best dev epoch's weights
        seconds = time.perf_counter() - start
        _, test_acc = evaluate(model, loss, DataLoader(test, 500), "accuracy")
    return dict(model=model, history=history, test_accuracy=test_acc,
                dev_accuracy=history["best_score"], epochs=len(history["epoch"]),
                best_epoch=history["best_epoch"], seconds=round(seconds, 1))   # as recorded


# ---- the LSTM's gates --------------------------------------------------------------------

def lstm_gates(model, digits=GATE_INPUT):
    """Run ``digits`` through a trained LSTM classifier: (gates {i, f, o, c: (T, H)},
    predicted sum)."""
    logits = model(np.array([digits]))                      # (1, 19)
    gates = {k: v[0, :, 0, :] for k, v in model.rnn.last_gates.items()}   # layer 0, batch 0
    model.clear_caches()
    return gates, int(logits.argmax())


# ---- seeds: mean and range ---------------------------------------------------------------

def summarize(rows, models, lengths):
    """Per model and length, over the seeds that ran: a list of dicts with model, length,
    seeds (how many), test_accuracy (the mean, 4 decimals), test_min, test_max,
    test_accuracies and best_epochs (per seed, in the order run), epochs (the most run) and
    seconds (mean training time)."""
    summary = []
    for m in models:
        for L in lengths:
            runs = [r for r in rows if r["model"] == m and r["length"] == L]
            if not runs:
                continue
            acc = [r["test_accuracy"] for r in runs]
            summary.append(dict(model=m, length=L, seeds=len(runs),
                                test_accuracy=round(float(np.mean(acc)), 4),
                                test_min=min(acc), test_max=max(acc), test_accuracies=acc,
                                best_epochs=[r["best_epoch"] for r in runs],
                                epochs=max(r["epochs"] for r in runs),
                                seconds=round(float(np.mean([r["seconds"] for r in runs])), 1)))
    return summary


def mean_and_range(cell):
    """'0.86' for one seed, '0.86 (0.80–0.90)' (mean, lowest–highest) for several."""
    mean = f"{cell['test_accuracy']:.2f}"
    if cell["seeds"] == 1:
        return mean
    return f"{mean} ({cell['test_min']:.2f}–{cell['test_max']:.2f})"


def markdown_table(summary, models, lengths):
    """Test accuracy per model (rows) and length (columns): the mean over the seeds and, for
    more than one seed, the range (lowest–highest) in brackets."""
    cell = {(c["model"], c["length"]): c for c in summary}
    lines = ["| model | " + " | ".join(f"L={L}" for L in lengths) + " |",
             "|" + "---|" * (len(lengths) + 1)]
    for m in models:
        parts = ["" if (m, L) not in cell else mean_and_range(cell[(m, L)]) for L in lengths]
        lines.append(f"| {m.upper()} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def seed_table(rows, models, lengths):
    """One line per model and seed: test accuracy (best dev epoch / epochs run, training
    seconds) at each length."""
    cell = {(r["model"], r["seed"], r["length"]): r for r in rows}
    seeds = sorted({r["seed"] for r in rows})
    lines = ["| model | seed | " + " | ".join(f"L={L}" for L in lengths) + " |",
             "|" + "---|" * (len(lengths) + 2)]
    for m in models:
        for s in seeds:
            parts = []
            for L in lengths:
                r = cell.get((m, s, L))
                parts.append("" if r is None else
                             f"{r['test_accuracy']:.2f} (epoch {r['best_epoch']}/{r['epochs']}, "
                             f"{r['seconds']:.0f}s)")
            lines.append(f"| {m.upper()} | {s} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


# ---- figures (the command and tools/update_results.py draw them with these) ----------------

def plot_accuracy(summary, path, title=None):
    """Test accuracy against length, one line per model through the means over the seeds, a
    bar from the lowest to the highest seed. Needs matplotlib; returns ``path``."""
    from ..plot import _figure, _integer_ticks, _save
    fig, axes = _figure(figsize=(6, 4), layout="constrained")
    ax = axes[0, 0]
    models = list(dict.fromkeys(c["model"] for c in summary))
    for i, m in enumerate(models):
        cells = sorted((c for c in summary if c["model"] == m), key=lambda c: c["length"])
        x = np.array([c["length"] for c in cells]) + 0.4 * (i - (len(models) - 1) / 2)
        mean = np.array([c["test_accuracy"] for c in cells])
        low, high = [np.array([c[k] for c in cells]) for k in ("test_min", "test_max")]
        ax.errorbar(x, mean, yerr=[mean - low, high - mean], marker="o", capsize=4,
                    label=m.upper())        # x nudged apart so that the bars do not overlap
    k = max(c["seeds"] for c in summary)
    lengths = sorted({c["length"] for c in summary})
    ax.set(xlabel="sequence length", ylabel="test accuracy", ylim=(0, 1.03), xticks=lengths,
           xlim=(lengths[0] - 2.5, lengths[-1] + 2.5))
    ax.grid(alpha=0.3)
    ax.legend()
    spread = f"mean and range over {k} seeds" if k > 1 else "one seed"
    return _save(fig, path, title or f"test accuracy vs length ({spread})")


def plot_gate_maps(gates, path):
    """The LSTM's gates and cell state on GATE_INPUT (``gates``: {i, f, o, c: (T, H)})."""
    from .. import plot
    return plot.plot_gates({k: np.asarray(gates[k]) for k in ("i", "f", "o", "c")}, path,
                           tokens=GATE_INPUT, title=f"LSTM gates and cell state on {GATE_INPUT}")


def plot_curves(history, path, title):
    """Train and dev loss and dev accuracy per epoch of one run (a History or the results
    file's 'curves')."""
    from .. import plot
    return plot.plot_losses(history, path, title=title)


def try_plot(fn, *args, **kwargs):
    """fn(*args, **kwargs), or None (with a note) when matplotlib is missing."""
    try:
        return fn(*args, **kwargs)
    except ImportError as e:
        print(f"  (plot {os.path.basename(str(args[-1]))} skipped: {e})")
        return None


# ---- the experiment ----------------------------------------------------------------------

def run(models=None, lengths=None, recipe="book", full=False, epochs=None, k=None, seed=SEED,
        seeds=1, out="out/digitsum", data_dir=None, save_data=None, overrides=None,
        verbose=True, plots=True, results=None):
    """Train every model at every length for ``seeds`` seeds; write the tables, CSVs and plots
    into ``out`` (and, with ``results``, the results file the docs are generated from).

    models, lengths : default QUICK's (or every one with ``full``)
    epochs          : default QUICK's with the book recipe, else the recipe's (``full``: the
                      recipe's); k overrides the recipe's number of noisy copies per pair
    seed, seeds     : the runs use seeds seed, seed+1, ..., seed+seeds-1
    data_dir        : read the text files from here instead of generating data (the same data
                      for every seed; the seed still sets the initial weights and batch order)
    save_data       : also write the data used (the first seed's) to this folder
    overrides       : dict of recipe settings to change, e.g. {'clip': None, 'forget_bias': 1}
    results         : a JSON file to write everything the docs show into (see results_record)
    Returns {'rows': [dict per run: model, length, seed, test_accuracy, dev_accuracy, epochs,
    best_epoch, seconds], 'summary': summarize(rows), 'table': markdown str, 'seeds': [...],
    'wall_seconds': float, 'files': [paths written], 'gates': dict or None,
    'gate_prediction': int or None, 'curves': curve_record of CURVE_MODEL at the longest
    length, first seed, or None}.
    """
    if recipe not in RECIPES:
        raise ValueError(f"expected recipe in {sorted(RECIPES)}, got {recipe!r}")
    if not (isinstance(seeds, int) and seeds >= 1):
        raise ValueError(f"expected seeds to be an integer >= 1, got {seeds!r}")
    if data_dir is not None and not os.path.isdir(data_dir):
        raise FileNotFoundError(f"{data_dir}: no such folder (expected "
                                f"{os.path.join(data_dir, '<length>', 'train.txt')} etc.)")
    models = tuple(models or (MODELS if full else QUICK["models"]))
    lengths = tuple(lengths or (LENGTHS if full else QUICK["lengths"]))
    for L in lengths:
        if L < 3:
            raise ValueError(f"expected every length >= 3 (two digits to add and at least one "
                             f"noise position), got {L}")
    if epochs is None and not full and recipe == "book":
        epochs = QUICK["epochs"]
    overrides = dict(overrides or {}, **({"k": k} if k is not None else {}))
    unknown = set(overrides) - set(RECIPES[recipe])
    if unknown:
        raise ValueError(f"unknown recipe settings {sorted(unknown)}; expected some of "
                         f"{sorted(RECIPES[recipe])}")
    r = check_recipe(dict(RECIPES[recipe], **overrides))
    if results is not None:
        writable_folder_of(results)         # before the training, which can take hours
    n_epochs = epochs or r["epochs"]
    seed_list = [seed + i for i in range(seeds)]
    say = print if verbose else (lambda *a, **kw: None)
    data = (f"data read from {data_dir}" if data_dir is not None else
            f"k={r['k']} ({100 * r['k']} training examples)")
    say(f"DigitSum, recipe {recipe!r}: {data}, Adam lr {r['lr']}, batch {r['batch_size']}, "
        f"up to {n_epochs} epochs, clip {r['clip']}, forget bias {r['forget_bias']}, "
        f"patience {r['patience']}")
    say(f"models {', '.join(m.upper() for m in models)}; lengths {list(lengths)}; "
        f"seeds {seed_list}; test accuracy of the best-dev epoch's weights")
    out_dir(out)
    files, rows, gates, prediction, curves = [], [], None, None, None
    start = time.perf_counter()
    with blas_threads(1):
        for s in seed_list:
            for length in lengths:
                data = make_data(length, r["k"], s, data_dir)
                if save_data is not None and s == seed:
                    save_digitsum(os.path.join(save_data, str(length)), *data)
                for cell in models:
                    row, result = _one_run(cell, length, recipe, n_epochs, s, data, overrides)
                    rows.append(row)
                    say(f"  {cell.upper():4s} L={length:2d} seed {s}  test accuracy "
                        f"{row['test_accuracy']:.2f}  (best dev {row['dev_accuracy']:.2f} at "
                        f"epoch {row['best_epoch']}, {row['epochs']} epochs, "
                        f"{row['seconds']:.1f}s)")
                    if plots:
                        name = f"loss_{cell}_L{length}" + (f"_seed{s}" if seeds > 1 else "")
                        files.append(try_plot(plot_curves, result["history"],
                                              os.path.join(out, name + ".png"),
                                              f"{cell.upper()}, length {length}, seed {s}"))
                    if s == seed and cell == "lstm" and length == len(GATE_INPUT):
                        gates, prediction = lstm_gates(result["model"])
                    if s == seed and cell == CURVE_MODEL and length == max(lengths):
                        curves = curve_record(result["history"], cell, length, s)
    wall = time.perf_counter() - start
    summary = summarize(rows, models, lengths)
    table = markdown_table(summary, models, lengths)
    say("\n" + table)
    files += write_tables(rows, summary, table, models, lengths, out)
    if plots:
        files.append(try_plot(plot_accuracy, summary,
                              os.path.join(out, "accuracy_vs_length.png")))
    if gates is not None:
        say(f"\nLSTM (length 10, seed {seed}) on {GATE_INPUT}: predicts {prediction} (true sum "
            f"{GATE_INPUT[0] + GATE_INPUT[1]})")
        if plots:
            files.append(try_plot(plot_gate_maps, gates, os.path.join(out, "lstm_gates.png")))
    say(f"{len(rows)} runs in {wall:.0f} s")
    if results is not None:
        record = results_record(
            recipe, r, models, lengths, seed_list, rows, wall, gates, prediction, curves,
            command=command_line(recipe, full, models, lengths, epochs, k, seed, seeds,
                                 overrides, results))
        files.append(str(write_results(results, record)))
    say("\n" + wrote(files))
    return dict(rows=rows, summary=summary, table=table, seeds=seed_list, wall_seconds=wall,
                files=[f for f in files if f], gates=gates, gate_prediction=prediction,
                curves=curves)


def _one_run(cell, length, recipe, epochs, seed, data, overrides):
    """(row for the tables, train_one's result), with a progress bar on a terminal."""
    bar = progress_bar(epochs, desc=f"{cell.upper()} L={length} seed {seed}")
    result = train_one(cell, length, recipe, epochs, seed, data=data, bar=bar,
                       overrides=overrides)
    if bar is not None:
        bar.close()
    row = dict(model=cell, length=length, seed=seed)
    row.update({key: result[key] for key in ("test_accuracy", "dev_accuracy", "epochs",
                                             "best_epoch", "seconds")})
    return row, result


def write_tables(rows, summary, table, models, lengths, out):
    """results.md (mean and range, then every seed), results.csv (mean and range per model
    and length) and runs.csv (every run) in ``out``; returns their paths."""
    md = os.path.join(out, "results.md")
    with atomic_write(md, encoding="utf-8") as f:
        f.write("Test accuracy of the best dev epoch's weights: mean over the seeds "
                "(lowest–highest)\n\n" + table + "\n\nEvery seed: test accuracy (best dev "
                "epoch / epochs run, training seconds)\n\n" + seed_table(rows, models, lengths)
                + "\n")
    paths = [md]
    for name, records, keys in (
            ("results.csv", summary, ["model", "length", "seeds", "test_accuracy", "test_min",
                                      "test_max", "epochs", "seconds"]),
            ("runs.csv", rows, ["model", "length", "seed", "test_accuracy", "dev_accuracy",
                                "epochs", "best_epoch", "seconds"])):
        path = os.path.join(out, name)
        with atomic_write(path, newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, keys, extrasaction="ignore")
            w.writeheader()
            for rec in records:
                w.writerow({k: (round(v, 4) if isinstance(v, float) else v)
                            for k, v in rec.items()})
        paths.append(path)
    return paths


# ---- the results file the docs are generated from ----------------------------------------

def curve_record(history, cell, length, seed):
    """One run's loss curves, rounded to 4 decimals, for the results file."""
    rounded = {key: [None if v is None else round(float(v), 4) for v in history[key]]
               for key in ("train_loss", "dev_loss", "dev_metric")}
    return dict(model=cell, length=length, seed=seed, best_epoch=history["best_epoch"],
                metric="accuracy", **rounded)


def command_line(recipe, full, models, lengths, epochs, k, seed, seeds, overrides, results):
    """The minirnn command that reproduces a run() call (written into the results file)."""
    parts = ["minirnn digitsum"]
    if recipe != "book":
        parts.append(f"--recipe {recipe}")
    if full:
        parts.append("--full")
    if tuple(models) != MODELS:
        parts.append("--models " + ",".join(models))
    if tuple(lengths) != (LENGTHS if full else QUICK["lengths"]):
        parts.append("--lengths " + ",".join(map(str, lengths)))
    for flag, value in (("--epochs", epochs), ("--k", k), ("--seed", None if seed == SEED
                                                            else seed)):
        if value is not None:
            parts.append(f"{flag} {value}")
    for key, flag in (("clip", "--clip"), ("forget_bias", "--forget-bias")):
        if key in overrides:
            parts.append(f"{flag} {overrides[key] or 0}")
    if seeds > 1:
        parts.append(f"--seeds {seeds}")
    parts.append(f"--results {results}")
    return " ".join(parts)


def results_record(recipe, settings, models, lengths, seeds, rows, wall_seconds, gates,
                   prediction, curves, command):
    """Everything README and docs/digitsum/<recipe>.md show about one run of the command, as
    a JSON-ready dict: the command, the settings, the tier that computed it (``impl``; 500
    epochs amplify the tiers' 1e-12 differences, so another tier gives other runs), every
    run (test accuracy, best epoch, training seconds), the summary (mean and range), the wall time, the LSTM's gates on
    GATE_INPUT (first seed) and CURVE_MODEL's loss curves at the longest length."""
    runs = [dict(row) for row in rows]            # seconds already rounded by train_one
    return dict(
        command=command, recipe=recipe, settings=dict(settings), models=list(models),
        lengths=list(lengths), seeds=list(seeds), impl=get_impl(),
        wall_seconds=round(wall_seconds, 1), cpus=os.cpu_count(), runs=runs,
        summary=summarize(runs, models, lengths),
        gates=None if gates is None else dict(
            input=list(GATE_INPUT), seed=seeds[0], prediction=prediction,
            **{key: np.round(np.asarray(gates[key], dtype=float), 4).tolist()
               for key in ("i", "f", "o", "c")}),
        curves=curves)


def writable_folder_of(path):
    """The folder of ``path``, created if missing; PermissionError if it is not writable."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"{path}: cannot write into {folder}")
    return folder


def write_results(path, record):
    """Write ``record`` as JSON to ``path`` (atomically); returns ``path``."""
    writable_folder_of(path)
    with atomic_write(path, encoding="utf-8") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    return path
