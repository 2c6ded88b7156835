"""DigitSum: how far back can an SRN, an LSTM and a GRU remember?

Each example is a digit sequence [n1, n2, 0, ..., 0] with one noise digit dropped somewhere
after the first two; the label is n1 + n2 (19 classes). The model reads the whole sequence
and answers from its last hidden state, so it must carry n1 and n2 across length − 2 steps
and ignore the noise. Model: Embedding(10, 32) -> SRN / LSTM / GRU (hidden 32) -> Linear(32, 19).

Recipes (``RECIPES``):
  book    the textbook's: k = 3 noisy copies of each of the 100 digit pairs (300 training
          examples), Adam lr 1e-3, batch 8, 500 epochs, keep the weights of the best dev epoch.
          With only 300 examples the LSTM memorises them at long lengths and test accuracy
          falls (about 0.6 at length 35 even with PyTorch's LSTM). Even at length 5 the result
          depends on the seed: 0.83 to 0.97 over seeds 0-8 (median 0.92) on the 100 test
          examples; the default seed gives 0.97.
  better  more generated data, a larger batch and step, and clipping: k = 100 (10,000
          examples), batch 32, Adam lr 3e-3, gradient norm clipped at 1, 50 epochs, best dev
          epoch. More data is what matters: the LSTM can no longer memorise the training set,
          so it has to learn to carry the first two digits (test accuracy 0.96-1.0 at length
          35 over seeds 0-4). At length 35 it first sits on a plateau at chance for 5 to 16
          epochs, depending on the seed, which is why there is no early stopping. Initialising the forget-gate bias to 1 (the usual
          advice, ``forget_bias``) made that plateau longer here (about 15 epochs instead of
          8 at length 35), so it is off; clipping changed little but guards the large steps.
The default run trains a quick subset (``QUICK``); ``full=True`` runs every model at every
length with the recipe's full number of epochs.

The gradient-explosion experiment lives in ``minirnn.demos.explode``.
"""
import csv
import math
import os
import time

import numpy as np

from .. import nn
from ..data import DataLoader, DigitSum, load_digitsum, save_digitsum
from ..models import SequenceClassifier
from ..optim import Adam
from .._blas import blas_threads
from .._io import atomic_write
from ..train import evaluate, fit
from ._common import out_dir, progress_bar, save_plot, wrote

SEED = 1        # the book's recipe gives the LSTM 0.83-0.97 at length 5 across seeds 0-8
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
                best_epoch=history["best_epoch"], seconds=seconds)


# ---- the LSTM's gates --------------------------------------------------------------------

def lstm_gates(model, digits=GATE_INPUT):
    """Run ``digits`` through a trained LSTM classifier: (gates {i, f, o, c: (T, H)},
    predicted sum)."""
    logits = model(np.array([digits]))                      # (1, 19)
    gates = {k: v[0, :, 0, :] for k, v in model.rnn.last_gates.items()}   # layer 0, batch 0
    model.clear_caches()
    return gates, int(logits.argmax())


# ---- the experiment ----------------------------------------------------------------------

def markdown_table(rows, models, lengths):
    """Test accuracy (best dev epoch / epochs run, seconds) per model (rows) and length
    (columns)."""
    cell = {(r["model"], r["length"]): r for r in rows}
    head = "| model | " + " | ".join(f"L={L}" for L in lengths) + " |"
    lines = [head, "|" + "---|" * (len(lengths) + 1)]
    for m in models:
        parts = []
        for L in lengths:
            r = cell.get((m, L))
            parts.append("" if r is None else
                         f"{r['test_accuracy']:.2f} (epoch {r['best_epoch']}/{r['epochs']}, "
                         f"{r['seconds']:.0f}s)")
        lines.append(f"| {m.upper()} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def run(models=None, lengths=None, recipe="book", full=False, epochs=None, k=None, seed=SEED,
        out="out/digitsum", data_dir=None, save_data=None, overrides=None, verbose=True,
        plots=True):
    """Train every model at every length; write the table, CSV and plots into ``out``.

    models, lengths : default QUICK's (or every one with ``full``)
    epochs          : default QUICK's with the book recipe, else the recipe's (``full``: the
                      recipe's); k overrides the recipe's number of noisy copies per pair
    data_dir        : read the text files from here instead of generating data
    save_data       : also write the data used to this folder (text files)
    overrides       : dict of recipe settings to change, e.g. {'clip': None, 'forget_bias': 1}
    Returns {'rows': [dict per run: model, length, test_accuracy, dev_accuracy, epochs,
    best_epoch, seconds], 'table': markdown str, 'files': [paths written], 'gates': dict or
    None, 'gate_prediction': int or None}.
    """
    if recipe not in RECIPES:
        raise ValueError(f"expected recipe in {sorted(RECIPES)}, got {recipe!r}")
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
    n_epochs = epochs or r["epochs"]
    say = print if verbose else (lambda *a, **kw: None)
    data = (f"data read from {data_dir}" if data_dir is not None else
            f"k={r['k']} ({100 * r['k']} training examples)")
    say(f"DigitSum, recipe {recipe!r}: {data}, Adam lr {r['lr']}, batch {r['batch_size']}, "
        f"up to {n_epochs} epochs, clip {r['clip']}, forget bias {r['forget_bias']}, "
        f"patience {r['patience']}")
    say(f"models {', '.join(m.upper() for m in models)}; lengths {list(lengths)}; "
        f"test accuracy of the best-dev epoch's weights")
    out_dir(out)
    files, rows, gates, prediction = [], [], None, None
    with blas_threads(1):
        for length in lengths:
            data = make_data(length, r["k"], seed, data_dir)
            if save_data is not None:
                save_digitsum(os.path.join(save_data, str(length)), *data)
            for cell in models:
                bar = progress_bar(n_epochs, desc=f"{cell.upper()} L={length}")
                result = train_one(cell, length, recipe, n_epochs, seed, data=data,
                                   bar=bar, overrides=overrides)
                if bar is not None:
                    bar.close()
                row = {key: result[key] for key in ("test_accuracy", "dev_accuracy", "epochs",
                                                    "best_epoch", "seconds")}
                row.update(model=cell, length=length)
                rows.append(row)
                say(f"  {cell.upper():4s} L={length:2d}  test accuracy {row['test_accuracy']:.2f}"
                    f"  (best dev {row['dev_accuracy']:.2f} at epoch {row['best_epoch']}, "
                    f"{row['epochs']} epochs, {row['seconds']:.1f}s)")
                if plots:
                    path = save_plot("plot_losses", result["history"],
                                     os.path.join(out, f"loss_{cell}_L{length}.png"),
                                     title=f"{cell.upper()}, length {length}")
                    files += [path] if path else []
                if cell == "lstm" and length == len(GATE_INPUT):
                    gates, prediction = lstm_gates(result["model"])
    table = markdown_table(rows, models, lengths)
    say("\n" + table)
    files += write_tables(rows, table, models, lengths, out)
    if plots:
        by_model = {m.upper(): {row["length"]: row["test_accuracy"] for row in rows
                                if row["model"] == m} for m in models}
        path = save_plot("plot_metric_vs_length", by_model,
                         os.path.join(out, "accuracy_vs_length.png"), metric="test accuracy")
        files += [path] if path else []
    if gates is not None:
        say(f"\nLSTM (length 10) on {GATE_INPUT}: predicts {prediction} (true sum "
            f"{GATE_INPUT[0] + GATE_INPUT[1]})")
        if plots:
            path = save_plot("plot_gates", gates, os.path.join(out, "lstm_gates.png"),
                             tokens=GATE_INPUT, title=f"LSTM gates and cell state on {GATE_INPUT}")
            files += [path] if path else []
    say("\n" + wrote(files))
    return dict(rows=rows, table=table, files=files, gates=gates, gate_prediction=prediction)


def write_tables(rows, table, models, lengths, out):
    """results.md and results.csv in ``out``; returns their paths."""
    md, csv_path = os.path.join(out, "results.md"), os.path.join(out, "results.csv")
    with atomic_write(md, encoding="utf-8") as f:
        f.write("Test accuracy of the best dev epoch's weights (best epoch / epochs run, "
                "training seconds)\n\n" + table + "\n")
    with atomic_write(csv_path, newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["model", "length", "test_accuracy", "dev_accuracy", "epochs",
                               "best_epoch", "seconds"])
        w.writeheader()
        for row in rows:
            w.writerow({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})
    return [md, csv_path]
