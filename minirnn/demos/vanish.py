"""Vanishing gradients: how much of the loss's gradient reaches the first steps?

DigitSum at length L = 35 (the models and recipe of ``minirnn.demos.digitsum``): the loss is
on the final output only, so all of its gradient enters at h_L, and BPTT carries it back:

    ∂L/∂h_{t−1} = ∂L/∂h_t · J_t,    J_t = ∂h_t/∂h_{t−1}   (one Jacobian per step, per example)

so ∂L/∂h_1 = ∂L/∂h_L · J_L ··· J_2, a product of L − 1 Jacobians. For the SRN,
J_t = diag(1 − h_t²) W_hh: when W_hh's spectral radius is below 1 (and tanh' ≤ 1 only
shrinks further) the product shrinks geometrically. The LSTM also carries the gradient along
its cell path, dc_{t−1} = dc_t ⊙ f_t: no weight matrix, no squashing, only the forget gate.

For each cell, at initialisation and after training, we record ‖∂L_n/∂h_t‖ for t = L..1:
each layer's weights are copied into the matching step cell (``nn.RNNCell``, ``LSTMCell``,
``GRUCell``), the cell is unrolled by hand, and the reversed loop reads dh before each step's
backward. L_n is example n's cross-entropy (a summed loss, so each row of the gradient is
one example's own); the curves average the norms over N_EXAMPLES held-out examples, and the
ratio ‖∂L/∂h_1‖ / ‖∂L/∂h_L‖ divides those averages. The unrolled cells give the same dx and
dh0 as the layer's own backward (``tests/test_vanish.py`` checks, and checks dh_t by finite
differences).

The default run trains QUICK_EPOCHS epochs of the book recipe; ``full=True`` trains the
recipe's full budget (500 epochs), whose numbers land in its own summary.json.
"""
import math
import os
import time

import numpy as np

from .. import nn
from ..data import DigitSum
from ..models import SequenceClassifier
from .._blas import blas_threads
from . import digitsum
from ._common import out_dir, progress_bar, save_plot, write_summary, wrote

SEED = digitsum.SEED
LENGTH = 35
RECIPE = "book"
QUICK_EPOCHS = 6                # the default run; full: the recipe's epochs (500)
CELLS = ("srn", "lstm", "gru")
NAMES = {"srn": "SRN", "lstm": "LSTM", "gru": "GRU"}
N_EXAMPLES = 256                # held-out examples whose gradient norms are averaged
STATES = ("init", "trained")


# ---- the layer's weights in a step cell --------------------------------------------------

def step_cell(layer):
    """The step cell (RNNCell, LSTMCell or GRUCell) holding layer 0 of ``layer``'s weights."""
    if isinstance(layer, nn.LSTM):
        cell = nn.LSTMCell(layer.input_size, layer.hidden_size, dtype=layer.dtype)
    elif isinstance(layer, nn.GRU):
        cell = nn.GRUCell(layer.input_size, layer.hidden_size, dtype=layer.dtype)
    else:
        cell = nn.RNNCell(layer.input_size, layer.hidden_size, nonlinearity=layer.nonlinearity,
                          dtype=layer.dtype)
    cell.load_state_dict({name: getattr(layer, f"{name}_l0").data.copy()
                          for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    return cell


# ---- ∂L/∂h_t for every t -----------------------------------------------------------------

def hidden_grads(model, ids, labels, h_shift=None):
    """BPTT through a classifier's recurrent layer, unrolled with its step cell.

    model  : a SequenceClassifier (one layer)
    ids    : (N, T) digits; labels : (N,) classes
    h_shift: optional (t, (N, H) array) added to h_t in the forward (for finite differences)
    Returns dict: loss (the summed cross-entropy, float), dh (T, N, H) with dh[t − 1] =
    ∂L/∂h_t, dx (N, T, E) the gradient of the layer's input, dh0 (N, H) = ∂L/∂h_0.
    The model's parameter gradients are left untouched.
    """
    cell, lstm = step_cell(model.rnn), isinstance(model.rnn, nn.LSTM)
    crit = nn.CrossEntropyLoss(reduction="sum")     # row n of the gradient: example n's own
    x = model.embedding(ids)                        # (N, T, E)
    model.embedding.clear_caches()
    N, T, _ = x.shape
    state = None
    for t in range(T):
        state = cell(x[:, t], state)                # h_t, or (h_t, c_t)
        if h_shift is not None and h_shift[0] == t + 1:
            state = (state[0] + h_shift[1], state[1]) if lstm else state + h_shift[1]
    h = state[0] if lstm else state
    loss = crit(model.fc(h), labels)
    dh_next = crit.backward() @ model.fc.weight.data      # ∂L/∂h_T: logits = h W_fcᵀ + b
    model.fc.clear_caches()
    dc_next = None                  # the LSTM's gradient carried along its cell path
    dh, dx = np.empty((T,) + h.shape), np.empty_like(x)
    for t in reversed(range(T)):    # dh_next is ∂L/∂h_t here: everything after t reached it
        dh[t] = dh_next
        if lstm:
            dx[:, t], (dh_next, dc_next) = cell.backward((dh_next, dc_next))
        else:
            dx[:, t], dh_next = cell.backward(dh_next)
    return dict(loss=loss, dh=dh, dx=dx, dh0=dh_next)


def grad_norms(model, ids, labels):
    """(T,) mean over the N examples of ‖∂L_n/∂h_t‖, for t = 1..T."""
    with blas_threads(1):           # small products: one thread is faster, and never stalls
        dh = hidden_grads(model, ids, labels)["dh"]      # (T, N, H)
    return np.linalg.norm(dh, axis=2).mean(axis=1)


def spectral_radius(W):
    """max |λ| over the eigenvalues λ of a square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def at_steps(norms):
    """The numbers the summary keeps: the norm at t = 1, L // 2, L, the ratio
    ‖∂L/∂h_1‖ / ‖∂L/∂h_L‖, and per_step = ratio^(1/(L − 1)), the factor by which the norm
    shrinks per step back in time on average (geometric mean over the L − 1 Jacobians)."""
    L = len(norms)
    ratio = float(norms[0] / norms[-1])
    return {"t=1": float(norms[0]), f"t={L // 2}": float(norms[L // 2 - 1]),
            f"t={L}": float(norms[-1]), "ratio_1_to_L": ratio,
            "per_step": float(ratio ** (1 / (L - 1)))}


# ---- the experiment ----------------------------------------------------------------------

def examples(length=LENGTH, seed=SEED, n=N_EXAMPLES):
    """``n`` held-out DigitSum examples (ids (n, length), labels (n,)), drawn per seed."""
    data = DigitSum(length, math.ceil(n / 100), "test", rng=seed)
    pick = np.random.default_rng(seed).permutation(len(data.y))[:n]
    return data.x[pick], data.y[pick]


def initial_model(cell, seed=SEED):
    """The classifier ``digitsum.train_one`` starts from (same constructor, same seed)."""
    return SequenceClassifier(digitsum.VOCAB, digitsum.EMBED_DIM, digitsum.HIDDEN,
                              digitsum.NUM_CLASSES, cell=cell, rng=seed)


def run(full=False, epochs=None, seed=SEED, cells=CELLS, out="out/vanish", verbose=True,
        plots=True):
    """Gradient norms per step for each cell, at initialisation and after training.

    epochs : training epochs (default QUICK_EPOCHS; ``full``: the recipe's, 500)
    cells  : which of CELLS to run (all three by default)
    Returns dict: length, examples, recipe, epochs, seed, norms {cell: {state: [T floats]}}
    (state 'init' or 'trained'), at_steps {cell: {state: {'t=1', 't=17', 't=35',
    'ratio_1_to_L', 'per_step'}}} (see ``at_steps``), spectral_radius {state: float} (the
    SRN's W_hh), test_accuracy and best_epoch {cell: ...} of the trained weights, seconds,
    files.
    """
    say = print if verbose else (lambda *a, **k: None)
    if epochs is None:
        epochs = digitsum.RECIPES[RECIPE]["epochs"] if full else QUICK_EPOCHS
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"expected epochs to be a positive integer, got {epochs!r}")
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells:
        raise ValueError(f"expected cells from {list(CELLS)}, got {list(cells)}")
    start = time.perf_counter()
    ids, labels = examples(LENGTH, seed)
    say(f"DigitSum at length L = {LENGTH}; the loss is on the last output only. "
        f"‖∂L/∂h_t‖ averaged over {len(labels)} held-out examples, at initialisation and "
        f"after {epochs} epochs of the {RECIPE!r} recipe (best dev epoch's weights)")
    data = digitsum.make_data(LENGTH, digitsum.RECIPES[RECIPE]["k"], seed)
    norms, accuracy, best_epoch, radius = {}, {}, {}, {}
    with blas_threads(1):
        for cell in cells:
            bar = progress_bar(epochs, desc=f"{NAMES[cell]} L={LENGTH}")
            trained = digitsum.train_one(cell, LENGTH, RECIPE, epochs, seed, data=data, bar=bar)
            if bar is not None:
                bar.close()
            models = {"init": initial_model(cell, seed), "trained": trained["model"]}
            norms[cell] = {s: grad_norms(m, ids, labels).tolist() for s, m in models.items()}
            accuracy[cell], best_epoch[cell] = trained["test_accuracy"], trained["best_epoch"]
            if cell == "srn":
                radius = {s: spectral_radius(m.rnn.weight_hh_l0.data) for s, m in models.items()}
    table = {c: {s: at_steps(norms[c][s]) for s in STATES} for c in norms}
    seconds = time.perf_counter() - start
    for line in report(table, radius, accuracy) + accuracy_note(accuracy, epochs):
        say(line)
    files = []
    if plots:
        series = figure_series(norms, epochs)
        path = save_plot("plot_grad_norms", series,
                         os.path.join(out_dir(out), "grad_norms_per_step.png"),
                         title=f"‖∂L/∂h_t‖ per step, DigitSum L = {LENGTH}\n(loss on the output "
                               f"at t = {LENGTH} only; mean over {len(labels)} examples)",
                         xlabel=f"time step t   (the gradient enters at t = {LENGTH} and flows "
                                f"back to t = 1)",
                         ylabel="‖∂L/∂h_t‖ (log scale)", styles=figure_styles(series))
        files += [path] if path else []
        say(wrote(files))
    return dict(length=LENGTH, examples=len(labels), recipe=RECIPE, epochs=epochs, seed=seed,
                norms=norms, at_steps=table, spectral_radius=radius, test_accuracy=accuracy,
                best_epoch=best_epoch, seconds=seconds, files=files)


def figure_series(norms, epochs):
    """{legend label: norms}, one line per cell and state."""
    after = {"init": "at initialisation", "trained": f"trained (best dev epoch of {epochs})"}
    return {f"{NAMES[c]}, {after[s]}": norms[c][s] for c in norms for s in STATES}


def figure_styles(series):
    """{legend label: line options}: a colour per cell, solid at init, dashed trained."""
    return {label: dict(color=f"C{k // 2}", ls="-" if k % 2 == 0 else "--")
            for k, label in enumerate(series)}


def report(table, radius, accuracy):
    """The printed table: norms at t = 1, L/2, L and the ratio, per cell and state."""
    keys = list(next(iter(next(iter(table.values())).values())))[:3]     # t=1, t=L/2, t=L
    lines = [f"{'':14s}" + "".join(f"{k:>11s}" for k in keys)
             + "   ‖∂L/∂h_1‖/‖∂L/∂h_L‖   per step"]
    for c, by_state in table.items():
        for s, row in by_state.items():
            lines.append(f"{NAMES[c] + ', ' + s:14s}" + "".join(f"{row[k]:11.3e}" for k in keys)
                         + f"   {row['ratio_1_to_L']:20.3e}   {row['per_step']:8.3f}")
    if radius:
        lines.append(f"SRN W_hh spectral radius: {radius['init']:.3f} at init, "
                     f"{radius['trained']:.3f} trained")
    lines.append("test accuracy after training: " +
                 ", ".join(f"{NAMES[c]} {a:.2f}" for c, a in accuracy.items()))
    return lines


def chance_accuracy():
    """The test accuracy of always answering the most common DigitSum label (the sum 9 of two
    uniform digits: 10 of the 100 pairs), the level a model that learned nothing reaches."""
    sums = np.add.outer(np.arange(10), np.arange(10)).ravel()
    return np.bincount(sums).max() / sums.size


def accuracy_note(accuracy, epochs):
    """Lines saying what the accuracies mean, and where the numbers are explained."""
    chance = chance_accuracy()
    lines = []
    if max(accuracy.values(), default=0) < 2 * chance:
        full = digitsum.RECIPES[RECIPE]["epochs"]
        more = f" (--full trains {full})" if epochs < full else ""
        lines += [f"These accuracies are about chance: always answering the most common sum (9) "
                  f"scores {chance:.2f}.",
                  f"After {epochs} epochs the models have not learned the task at L = {LENGTH}"
                  f"{more}; what this",
                  "demo shows is the gradient per step, not the accuracy."]
    lines.append("docs/vanishing.md reads these numbers and the figure.")
    return lines


def add_arguments(parser):
    """The demo's own options, --full and --epochs (cli.py's ``command`` adds --seed, --out)."""
    parser.add_argument("--full", action="store_true",
                        help=f"train with the recipe's full budget "
                             f"({digitsum.RECIPES[RECIPE]['epochs']} epochs; several minutes)")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"training epochs (default {QUICK_EPOCHS})")


def main(argv=None):
    """``python -m minirnn.demos.vanish [--full] [--epochs N] [--seed S] [--out DIR]``: run,
    then write out/vanish/summary.json as ``minirnn <subcommand>`` does."""
    import argparse
    parser = argparse.ArgumentParser(prog="python -m minirnn.demos.vanish",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=None, help=f"random seed (default {SEED})")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="folder for the plot and summary.json (default ./out/vanish)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    out = args.out or os.path.join("out", "vanish")
    write_summary(out, run(full=args.full, epochs=args.epochs,
                           seed=SEED if args.seed is None else args.seed, out=out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
