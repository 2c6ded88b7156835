"""Handwritten digits, read one pixel row per time step: SRN vs LSTM vs GRU.

An 8x8 image is a sequence of 8 steps, each step a row of 8 pixels in [0, 1] (MNIST: 28 steps
of 28). The recurrent layer reads the rows top to bottom and the label (0..9) is read from its
last hidden state, so the network must keep what the early rows showed (the top of a 7, the
loop of a 9) until the end:

    x (N, T, D) --RNN/LSTM/GRU--> h_T (N, H) --Linear--> logits (N, 10)

Data: scikit-learn's bundled 8x8 digits (1,797 images, no download), split 70/10/20 into
train/dev/test by the seed; or, with ``mnist=DIR``, the MNIST IDX files in DIR (its test set,
and ``MNIST_DEV`` images of its training set held out as dev). Each cell is trained with
``minirnn.train.fit`` (Adam, gradient norm clipped), and the weights of its best dev epoch are
tested. Figures: a confusion matrix per cell, the test digits each cell got wrong, the loss
curves.

Test accuracy, seed 0, 359 test images, on 2 shared cores (one machine's record: README says
which; other CPUs round differently and training amplifies it, by up to about 0.03 here):
  default  (hidden 64, Adam 1e-2, 25 epochs; about 20 s)    SRN 0.936  LSTM 0.986  GRU 0.986
  --full   (hidden 128, Adam 5e-3, 60 epochs; about 100 s)  SRN 0.967  LSTM 0.989  GRU 0.992
The dev set is small (180 images, one image = 0.006), so the best dev epoch is a noisy pick.
What held in every run measured (10 runs, 4 CPU settings): the gated cells reach 0.95 or more
and the SRN 0.92 or more; in the record every cell reads a 9 as a 5 and a 9 as an 8
(confusion.png). The MNIST settings were timed
on random 28x28 data, not on MNIST itself (no MNIST files were at hand).
"""
import os
import time

import numpy as np

from .. import _config, nn
from .._blas import blas_threads
from ..data import DataLoader
from ..data.digits import (PixelSequences, load_sklearn_digits, pixels, read_mnist,
                           split_indices)
from ..models._recurrent import check_cell, grad_of_top_hidden, make_rnn, top_hidden
from ..optim import Adam
from ..train import fit
from ._common import out_dir, progress_bar, save_plot, wrote

SEED = 0
CELLS = ("srn", "lstm", "gru")
NUM_CLASSES = 10
# scikit-learn's 8x8 digits: the default run and --full
# (about 20 s and 100 s for all three cells on 2 cores)
DEFAULT = dict(hidden=64, epochs=25, lr=1e-2, batch_size=32, clip=1.0, max_train=None)
FULL = dict(hidden=128, epochs=60, lr=5e-3, batch_size=32, clip=1.0, max_train=None)
# MNIST (28 steps of 28 pixels), by timing on random 28x28 data (2 cores, one BLAS thread):
# an LSTM 128 epoch takes about 1.7 s per 1,000 images, so the default run uses 10,000
# training images for 4 epochs (a few minutes for all three cells) and --full all 55,000 for
# 15 (most of an hour)
MNIST = dict(hidden=128, epochs=4, lr=2e-3, batch_size=64, clip=1.0, max_train=10_000)
MNIST_FULL = dict(hidden=128, epochs=15, lr=2e-3, batch_size=64, clip=1.0, max_train=None)
MNIST_DEV = 5000                      # training images held out as the dev set
SHOW_WRONG = 12                       # misclassified test digits drawn per cell


class PixelClassifier(nn.Module):
    """RNN/LSTM/GRU over rows of pixels -> Linear on the last layer's final hidden state.

    input_size D, hidden_size H, num_classes C : ints;  cell : 'rnn' ('srn'), 'lstm' or 'gru'
    ``logits = model(x)``: x (N, T, D) floats -> (N, C).  ``model.backward(grad_logits)``.
    (``minirnn.models.SequenceClassifier`` is the same model behind an Embedding of token
    ids; pixels are already vectors, so there is no embedding here.)
    """

    def __init__(self, input_size, hidden_size, num_classes, cell="lstm", num_layers=1, *,
                 rng=None):
        super().__init__()
        cell = check_cell(cell)
        self.config = dict(input_size=input_size, hidden_size=hidden_size,
                           num_classes=num_classes, cell=cell, num_layers=num_layers)
        self.rnn = make_rnn(cell, input_size, hidden_size, num_layers, rng=rng)
        self.fc = nn.Linear(hidden_size, num_classes, rng=rng)

    def forward(self, x):
        """x (N, T, D) -> logits (N, C)."""
        _, state = self.rnn(x)                        # h_n (layers, N, H) or (h_n, c_n)
        self._push(state)
        return self.fc(top_hidden(state))

    def backward(self, grad_logits):
        """grad_logits (N, C) -> None; parameter gradients are added into ``.grad``."""
        state = self._pop()
        dh = self.fc.backward(grad_logits)            # (N, H): the gradient of h_T
        self.rnn.backward(None, grad_of_top_hidden(dh, state))      # BPTT over the rows
        return None


# ---- data ---------------------------------------------------------------------------------

def make_data(seed=SEED, mnist=None, max_train=None):
    """(train, dev, test) PixelSequences and a one-line description of where they came from.
    Default: scikit-learn's digits split by ``seed``; ``mnist``: a folder of IDX files (dev:
    MNIST_DEV training images drawn by ``seed``); ``max_train`` keeps the first N training
    images (after shuffling), for a quicker run."""
    if mnist is None:
        everything = load_sklearn_digits()
        train, dev, test = split_indices(len(everything), seed)
        train = train[:max_train]                       # [:None] keeps them all
        return (everything.subset(train), everything.subset(dev),
                everything.subset(test)), "scikit-learn's 8x8 digits"
    # bytes until cut: float32 pixels of 60,000 x 28 x 28 take 188 MB, float64 376 MB
    (images, labels), (test_images, test_labels) = read_mnist(mnist)
    order = np.random.default_rng(seed).permutation(len(images))
    n_dev = min(MNIST_DEV, len(images) // 10)
    train, dev = order[n_dev:][:max_train], order[:n_dev]
    splits = [PixelSequences(pixels(images[i], np.float32), labels[i]) for i in (train, dev)]
    splits.append(PixelSequences(pixels(test_images, np.float32), test_labels))
    return tuple(splits), f"MNIST from {mnist}"


# ---- one cell -----------------------------------------------------------------------------

def confusion_matrix(y_true, y_pred, num_classes=NUM_CLASSES):
    """(C, C) int counts: row = true label, column = predicted label."""
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def predict(model, x, batch_size=500):
    """Predicted labels (N,) for images x (N, T, D), in batches, without gradients."""
    model.eval()
    with _config.no_grad():
        out = [model(x[i:i + batch_size]).argmax(axis=1) for i in range(0, len(x), batch_size)]
    return np.concatenate(out)


def train_one(cell, data, settings, seed=SEED, bar=None):
    """Train one cell; returns dict: model, history, test_accuracy, dev_accuracy, best_epoch,
    epochs, seconds, confusion (C, C), predicted (N_test,)."""
    train, dev, test = data
    T, D = train.x.shape[1:]
    model = PixelClassifier(D, settings["hidden"], NUM_CLASSES, cell, rng=seed)
    loss = nn.CrossEntropyLoss()
    opt = Adam(model.parameters(), lr=settings["lr"])
    train_loader = DataLoader(train, settings["batch_size"], shuffle=True, rng=seed)
    dev_loader = DataLoader(dev, 1000)
    start = time.perf_counter()
    history = None
    for epoch in range(settings["epochs"]):       # one epoch per call, so a bar can tick
        history = fit(model, loss, opt, train_loader, dev_loader, epochs=epoch + 1,
                      clip=settings["clip"], history=history, verbose=False,
                      restore_best=False)
        if bar is not None:
            bar.update(1)
    model.load_state_dict(history.best_state)      # the best dev epoch's weights
    seconds = time.perf_counter() - start
    predicted = predict(model, test.x)
    return dict(model=model, history=history, test_accuracy=float(np.mean(predicted == test.y)),
                dev_accuracy=history["best_score"], best_epoch=history["best_epoch"],
                epochs=len(history["epoch"]), seconds=seconds, predicted=predicted,
                confusion=confusion_matrix(test.y, predicted))


# ---- figures ------------------------------------------------------------------------------

def plot_confusion(matrices, path, title=None):
    """One panel per cell: counts of (true row, predicted column) on the test set, the
    diagonal (right answers) and the mistakes on separate colour scales."""
    from ..plot import _figure, _save
    names = list(matrices)
    fig, axes = _figure(1, len(names), figsize=(4.2 * len(names), 4.9), layout="constrained")
    for ax, name in zip(axes[0], names):
        m = np.asarray(matrices[name])
        C = len(m)
        errors = m.copy()
        np.fill_diagonal(errors, 0)
        # mistakes in red (the interesting part), the diagonal shown as numbers only
        top = max(3, errors.max())
        ax.imshow(errors, cmap="Reds", vmin=0, vmax=top, interpolation="nearest")
        for i in range(C):
            for j in range(C):
                if i == j:
                    ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=8,
                            color="tab:blue", fontweight="bold")
                elif m[i, j]:               # white on the darkest reds, else black
                    ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if m[i, j] > 0.6 * top else "black")
        acc = np.trace(m) / m.sum()
        ax.set(title=f"{name}: {np.trace(m)}/{m.sum()} right ({acc:.3f})",
               xlabel="predicted digit", ylabel="true digit", xticks=range(C), yticks=range(C))
    return _save(fig, path, title)


def plot_wrong(images, true, predicted, path, per_row=SHOW_WRONG, title=None):
    """The misclassified test digits, one row per cell: ``images`` {cell: (T, D) test images},
    ``true`` (N,), ``predicted`` {cell: (N,)}. Each digit is captioned 'true → predicted'."""
    from ..plot import _figure, _save
    names = list(predicted)
    fig, axes = _figure(len(names), per_row, figsize=(1.1 * per_row, 1.45 * len(names) + 0.4),
                        layout="constrained")
    for r, name in enumerate(names):
        wrong = np.flatnonzero(predicted[name] != true)
        for c in range(per_row):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                shown = f"\n(first {per_row})" if len(wrong) > per_row else ""
                ax.set_ylabel(f"{name}\n{len(wrong)} wrong{shown}", fontsize=9)
            if c >= len(wrong):
                for spine in ax.spines.values():
                    spine.set_visible(False)
                continue
            for spine in ax.spines.values():      # a light frame shows the image's extent
                spine.set_color("0.8")
            i = wrong[c]
            ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(f"{true[i]} → {predicted[name][i]}", fontsize=9, color="tab:red")
    return _save(fig, path, title)


def _save_figure(path, plot, *args, **kwargs):
    """``plot(*args, path=path, **kwargs)``; returns ``path``, or None (with a note) when
    matplotlib is missing."""
    try:
        return plot(*args, path=path, **kwargs)
    except ImportError as e:
        print(f"  (plot {os.path.basename(path)} skipped: {e})")
        return None


# ---- the experiment -----------------------------------------------------------------------

def markdown_table(rows):
    """Test accuracy, best dev epoch and seconds per cell."""
    lines = ["| cell | test accuracy | dev accuracy | best epoch / epochs | seconds |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['cell'].upper()} | {r['test_accuracy']:.3f} | "
                     f"{r['dev_accuracy']:.3f} | {r['best_epoch']}/{r['epochs']} | "
                     f"{r['seconds']:.1f} |")
    return "\n".join(lines)


def run(cells=CELLS, full=False, mnist=None, epochs=None, hidden=None, max_train=None,
        seed=SEED, out="out/digits", verbose=True, plots=True):
    """Train each cell on the digits; print and return the test accuracies and write the
    figures into ``out``.

    cells     : from 'srn', 'lstm', 'gru'
    full      : the longer settings (FULL, or MNIST_FULL with ``mnist``)
    mnist     : a folder with the MNIST IDX files instead of scikit-learn's digits
    epochs, hidden, max_train : override the settings (max_train: use only the first N
                training images of the shuffled training set; MNIST's default is 10,000)
    Returns dict: rows [per cell: cell, test_accuracy, dev_accuracy, best_epoch, epochs,
    seconds], accuracy {cell: test accuracy}, confusion {cell: (10, 10) list}, table
    (markdown), settings, data (sizes and source), seconds (total), files.
    """
    cells = tuple(str(c).lower() for c in cells)
    for c in cells:
        check_cell(c)                          # 'srn' and 'rnn' both name the SRN
    settings = dict((MNIST_FULL if full else MNIST) if mnist else (FULL if full else DEFAULT))
    if epochs is not None:
        settings["epochs"] = epochs
    if hidden is not None:
        settings["hidden"] = hidden
    if max_train is not None:
        settings["max_train"] = max_train
    say = print if verbose else (lambda *a, **k: None)
    start = time.perf_counter()
    data, where = make_data(seed, mnist, settings["max_train"])
    train, dev, test = data
    T, D = train.x.shape[1:]
    say(f"Digits as sequences: {where}, {T} steps of {D} pixels; {len(train)} train / "
        f"{len(dev)} dev / {len(test)} test images (seed {seed})")
    say(f"cells {', '.join(c.upper() for c in cells)}, hidden {settings['hidden']}, Adam lr "
        f"{settings['lr']}, batch {settings['batch_size']}, clip {settings['clip']}, "
        f"{settings['epochs']} epochs; test accuracy of the best dev epoch's weights")
    rows, results = [], {}
    with blas_threads(1):
        for cell in cells:
            bar = progress_bar(settings["epochs"], desc=cell.upper())
            r = train_one(cell, data, settings, seed, bar)
            if bar is not None:
                bar.close()
            results[cell] = r
            rows.append(dict(cell=cell, **{k: r[k] for k in ("test_accuracy", "dev_accuracy",
                                                             "best_epoch", "epochs",
                                                             "seconds")}))
            say(f"  {cell.upper():4s}  test accuracy {r['test_accuracy']:.3f}  (best dev "
                f"{r['dev_accuracy']:.3f} at epoch {r['best_epoch']}/{r['epochs']}, "
                f"{r['seconds']:.1f}s)")
    table = markdown_table(rows)
    say("\n" + table)
    files = []
    if plots:
        out_dir(out)
        names = {c: c.upper() for c in cells}
        files.append(_save_figure(os.path.join(out, "confusion.png"), plot_confusion,
                                  {names[c]: results[c]["confusion"] for c in cells},
                                  title="Test set: true digit (rows) vs predicted (columns); "
                                        "right answers in blue, mistakes in red"))
        files.append(_save_figure(os.path.join(out, "misclassified.png"), plot_wrong,
                                  test.x, test.y,
                                  {names[c]: results[c]["predicted"] for c in cells},
                                  title="Misclassified test digits (true → predicted); each "
                                        "pixel row is one time step, read top to bottom"))
        for c in cells:
            files.append(save_plot("plot_losses", results[c]["history"],
                                   os.path.join(out, f"loss_{c}.png"),
                                   title=f"{names[c]} on {T}x{D} digits"))
        files = [f for f in files if f]
        say("\n" + wrote(files))
    return dict(rows=rows, accuracy={c: results[c]["test_accuracy"] for c in cells},
                confusion={c: results[c]["confusion"].tolist() for c in cells}, table=table,
                settings=dict(settings, seed=seed, cells=list(cells)),
                data=dict(source=where, steps=int(T), pixels_per_step=int(D), train=len(train),
                          dev=len(dev), test=len(test)),
                seconds=time.perf_counter() - start, files=files)
