"""Exploding gradients in an SRN, and gradient-norm clipping as the cure.

The SRN classifier of the DigitSum experiment at length 20, trained with plain SGD at a large
learning rate (0.2) on the *summed* (not averaged) loss of each batch of 8, so the updates
are big. After every backward pass we log the L2 norm of each weight's gradient:

    W_ih  rnn.weight_ih_l0   input -> hidden         W_hh  rnn.weight_hh_l0   hidden -> hidden
    b     rnn.bias_ih_l0 (= the gradient of bias_hh_l0 too: both are added in a_t)

BPTT multiplies the gradient by W_hhᵀ diag(φ'(a_t)) once per step, so when those factors are
larger than 1 the gradient grows geometrically with the length -- it explodes, and one huge
step throws the weights far away. Run 1 trains without clipping; run 2 rescales the whole
gradient whenever its global norm exceeds 5 (``minirnn.optim.clip_grad_norm_``), which keeps
the direction and bounds the step. Both runs start from the same weights.

``results=FILE`` (the CLI's ``--results``) writes the W_hh norms of both runs and the numbers
printed to a JSON file; README's figure docs/img/grad_norms_W_hh.png is drawn from
docs/digitsum/explode.json by tools/update_results.py, with ``plot_w_hh`` as here.
"""
import json
import os

import numpy as np

from .. import get_impl, nn
from ..data import DataLoader, DigitSum
from ..models import SequenceClassifier
from ..optim import SGD, clip_grad_norm_
from ..train import evaluate
from .._blas import blas_threads
from .._io import atomic_write
from ._common import out_dir, progress, save_plot, wrote

SEED = 0
LENGTH, K = 20, 3                   # the book's DigitSum data at length 20
EPOCHS, LR, BATCH = 50, 0.2, 8
MAX_NORM = 5.0
WATCHED = {"W_ih": "rnn.weight_ih_l0", "W_hh": "rnn.weight_hh_l0", "b": "rnn.bias_ih_l0"}


def train(clip, epochs=EPOCHS, seed=SEED, desc=None):
    """One run. Returns dict: norms {name: [norm per step, before clipping]}, losses (per
    epoch, summed over the epoch / examples), test_accuracy, diverged_step (or None)."""
    train_set = DigitSum(LENGTH, K, "train", rng=seed)
    test_set = DigitSum(LENGTH, 1, "test", rng=seed)
    model = SequenceClassifier(10, 32, 32, 19, cell="srn", rng=seed)
    params = dict(model.named_parameters())
    crit = nn.CrossEntropyLoss(reduction="sum")          # summed: larger gradients
    opt = SGD(model.parameters(), lr=LR)
    loader = DataLoader(train_set, BATCH, shuffle=True, rng=seed)
    norms = {name: [] for name in WATCHED}
    losses, diverged = [], None
    with np.errstate(over="ignore", invalid="ignore"):   # a diverging run overflows, by design
        for _ in progress(range(epochs), total=epochs, desc=desc):
            total = 0.0
            for x, y in loader:
                opt.zero_grad()
                loss = crit(model(x), y)
                model.backward(crit.backward())
                for name, pname in WATCHED.items():
                    norms[name].append(float(np.linalg.norm(params[pname].grad)))
                if clip is not None:
                    clip_grad_norm_(model.parameters(), clip)
                opt.step()
                total += loss
                if diverged is None and not np.isfinite(loss):
                    diverged = len(norms["W_hh"])
            losses.append(total / len(train_set))
            if diverged is not None:
                break
        _, acc = evaluate(model, nn.CrossEntropyLoss(), DataLoader(test_set, 500))
    weight_norms = {name: float(np.linalg.norm(params[p].data)) for name, p in WATCHED.items()}
    return dict(norms=norms, losses=losses, test_accuracy=acc, diverged_step=diverged,
                weight_norms=weight_norms)


def summary(name, run, clipped=False):
    n = run["norms"]
    steps = len(n["W_hh"])
    finite = {k: np.asarray(v)[np.isfinite(v)] for k, v in n.items()}
    peaks = ", ".join(f"{k} {v.max():.3g}" if v.size else f"{k} inf" for k, v in finite.items())
    lines = [f"{name}: {steps} steps, largest gradient norms: {peaks}"]
    if clipped:      # the norms are logged before clip_grad_norm_, so they still read large
        lines.append(f"   (logged before clipping: a step whose whole gradient's norm exceeded "
                     f"{MAX_NORM:g} was applied rescaled to {MAX_NORM:g})")
    if run["diverged_step"] is not None:
        lines.append(f"   the loss became inf/NaN at step {run['diverged_step']}: the weights "
                     f"blew up")
    big = sum(1 for v in n["W_hh"] if not np.isfinite(v) or v > 10 * MAX_NORM)
    lines.append(f"   steps with |grad W_hh| > {10 * MAX_NORM:g}"
                 f"{' before clipping' if clipped else ''}: {big};  final training loss "
                 f"{run['losses'][-1]:.3f} per example")
    lines.append(f"   (ln 19 = 2.944 is chance);  test accuracy {run['test_accuracy']:.2f}")
    w = run["weight_norms"]
    lines.append(f"   weight norms at the end: W_ih {w['W_ih']:.3g}, W_hh {w['W_hh']:.3g}, "
                 f"b {w['b']:.3g}")
    return "\n".join(lines)


def plot_w_hh(no_clip, clip, path):
    """Both runs' W_hh gradient norms per step on one log plot, with the clipping norm."""
    from .. import plot
    both = {"W_hh, no clipping": no_clip, f"W_hh, clipped at {MAX_NORM:g}": clip}
    return plot.plot_grad_norms(both, path, title="gradient norm of W_hh per step, before "
                                "clipping", threshold=MAX_NORM,
                                threshold_label="clipping norm (whole gradient)")


def _sig(v, digits=6):
    """``v`` rounded to ``digits`` significant digits (inf and NaN kept)."""
    return float(f"{v:.{digits}g}")


def results_record(plain, clipped, epochs, seed):
    """What the README shows of both runs, as a JSON-ready dict: the settings, the tier that
    computed it (``impl``: the tiers agree to about 1e-12 per step, but the unclipped run is
    chaotic, so after a few steps its norms differ between tiers), and per run the W_hh
    gradient norm at every step (6 significant digits), the loss per epoch, the test
    accuracy, the step the loss overflowed (or None) and the final weight norms."""
    def one(r):
        return dict(w_hh_norms=[_sig(v) for v in r["norms"]["W_hh"]],
                    losses=[_sig(v) for v in r["losses"]], test_accuracy=r["test_accuracy"],
                    diverged_step=r["diverged_step"],
                    weight_norms={k: _sig(v) for k, v in r["weight_norms"].items()})
    command = "minirnn explode" + (f" --epochs {epochs}" if epochs != EPOCHS else "") + \
        (f" --seed {seed}" if seed != SEED else "")
    return dict(command=command + " --results FILE", impl=get_impl(), seed=seed, epochs=epochs,
                length=LENGTH, k=K, lr=LR, batch=BATCH, max_norm=MAX_NORM, no_clip=one(plain),
                clip=one(clipped))


def run(epochs=None, seed=SEED, out="out/explode", verbose=True, plots=True, results=None):
    """Both runs (``epochs`` None: EPOCHS); ``results``: a JSON file for results_record.
    Returns {'no_clip': run dict, 'clip': run dict, 'files': [...]}."""
    epochs = EPOCHS if epochs is None else epochs
    if results is not None:
        from .digitsum import writable_folder_of
        writable_folder_of(results)                 # before the training, not after
    say = print if verbose else (lambda *a, **k: None)
    say(f"SRN on DigitSum length {LENGTH} ({100 * K} examples), SGD lr {LR}, summed loss, "
        f"batch {BATCH}, {epochs} epochs;")
    say("the L2 norm of each weight's gradient is logged at every step, before any clipping")
    with blas_threads(1):
        plain = train(None, epochs, seed, desc="no clipping")
        clipped = train(MAX_NORM, epochs, seed, desc=f"clip {MAX_NORM:g}")
    say(summary("without clipping", plain))
    say(summary(f"with clip_grad_norm_(max_norm={MAX_NORM:g})", clipped, clipped=True))
    say(f"Clipping rescales the whole gradient (all parameters together) when its norm exceeds "
        f"{MAX_NORM:g}, so no\nstep moves the weights by more than lr·{MAX_NORM:g} = "
        f"{LR * MAX_NORM:g}; the norms logged are before clipping, so they still\nspike.\n"
        "Without clipping the first spikes throw the weights so far that tanh saturates: the\n"
        "gradients then vanish (norms near 0 in the plot) and the network stops learning for\n"
        "good. Clipping keeps it trainable, but an SRN at this length and learning rate stays\n"
        "near chance: the cure for the explosion is not a cure for the short memory.")
    files = []
    if plots:
        out_dir(out)
        for key, r, label in (("no_clip", plain, "without clipping"),
                              ("clip", clipped, f"clipped at {MAX_NORM:g}")):
            path = save_plot("plot_grad_norms", r["norms"],
                             os.path.join(out, f"grad_norms_{key}.png"),
                             title=f"SRN, length {LENGTH}, SGD lr {LR}: {label}",
                             **({"threshold": MAX_NORM, "threshold_label": "clipping norm"}
                                if key == "clip" else {}))
            files += [path] if path else []
        try:
            files.append(plot_w_hh(plain["norms"]["W_hh"], clipped["norms"]["W_hh"],
                                   os.path.join(out, "grad_norms_W_hh.png")))
        except ImportError as e:
            say(f"  (plot grad_norms_W_hh.png skipped: {e})")
    if results is not None:
        with atomic_write(results, encoding="utf-8") as f:
            json.dump(results_record(plain, clipped, epochs, seed), f, indent=1)
            f.write("\n")
        files.append(str(results))
    say(wrote(files))
    return dict(no_clip=plain, clip=clipped, files=files)
