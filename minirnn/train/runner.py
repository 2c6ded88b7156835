"""The training loop: ``fit`` a model, ``evaluate`` it, and the ``History`` of a run.

The model convention (what ``fit`` and ``evaluate`` assume):
  * a batch is a tuple ``(x, y)`` or ``(x, y, lengths)`` (what ``minirnn.data.DataLoader``
    yields); the model is called as ``model(x)`` or ``model(x, lengths=lengths)``
  * the model returns logits (..., C) whose leading axes match the targets y (...), e.g.
    (N, C) with y (N,) for one label per sequence, (N, L, C) with y (N, L) per time step
  * the loss sees ``logits.reshape(-1, C)`` and ``y.reshape(-1)``; its gradient, reshaped
    back to the logits' shape, goes to ``model.backward(grad)``
  * with ``lengths`` and targets aligned with x in time (``y.shape[:2] == x.shape[:2]``,
    batch first, as the DataLoader pads), targets past each sequence's end are ignored (set
    to the loss's ``ignore_index``), so padding never counts in the loss or the metric

One training step:
  (1) zero the gradients        (3) loss and dloss/dlogits     (5) clip the global gradient norm
  (2) logits = model(x)         (4) model.backward(dlogits)    (6) optimizer.step()
Losses are averaged over counted targets (not over batches), so an epoch's loss does not
depend on how the data was split into batches.
"""
import math
import numbers
import os
import sys
import time
import warnings

import numpy as np

from .. import _config
from ..optim import clip_grad_norm_
from ..optim.clip import total_norm
from ..optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from . import checkpoint as _ckpt

# metric name -> True if higher is better
METRICS = {"accuracy": True, "perplexity": False}

_LISTS = ("epoch", "train_loss", "dev_loss", "dev_metric", "seconds", "grad_norm", "lr")
_SCALARS = ("metric", "best_epoch", "best_score", "stopped_epoch")


class History(dict):
    """What ``fit`` recorded: a plain dict (JSON-serialisable) that also allows ``h.key``.

    Lists, one entry per epoch run:
      epoch       the epoch number, counted from 1 (as in fit's log: 'epoch 3/10')
      train_loss  mean training loss over the epoch's counted targets
      dev_loss    mean loss on the dev set after the epoch (None without a dev set)
      dev_metric  the metric on the dev set (None without a dev set or metric)
      seconds     wall-clock time of the epoch, evaluation included
      grad_norm   mean global L2 norm of the gradients over the epoch's steps, before clipping
      lr          the optimiser's learning rate during the epoch (None if it has none)
    Scalars:
      metric        the metric's name, or None
      best_epoch    epoch number (as in ``epoch``) with the best dev score, or None
      best_score    that score (the dev metric, or the dev loss when there is no metric)
      stopped_epoch epoch after which early stopping ended the run, or None
    ``best_state`` (an attribute, not a key): a copy of the weights at ``best_epoch``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key in _LISTS:
            self[key] = list(self.get(key, []))
        for key in _SCALARS:
            self.setdefault(key, None)
        self.best_state = None

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# ---- batches -------------------------------------------------------------------------------

def _unpack(batch):
    """(x, y, lengths or None) from a loader's batch tuple."""
    if not isinstance(batch, (tuple, list)):
        raise TypeError(f"expected each batch to be a tuple (x, y) or (x, y, lengths), got "
                        f"{type(batch).__name__}")
    if len(batch) not in (2, 3):
        raise ValueError(f"expected each batch to be a tuple (x, y) or (x, y, lengths), got "
                         f"one of {len(batch)} items")
    x, y = batch[0], np.asarray(batch[1])
    return x, y, (batch[2] if len(batch) == 3 else None)


def _logits(model, x, lengths, y):
    """model's logits (..., C), checked against targets y (...)."""
    logits = model(x) if lengths is None else model(x, lengths=lengths)
    if not isinstance(logits, np.ndarray):
        raise TypeError(f"expected the model to return a logits array, got "
                        f"{type(logits).__name__}")
    if logits.shape[:-1] != y.shape:
        raise ValueError(f"expected logits of shape {y.shape + ('C',)} (the targets' shape plus "
                         f"a class axis), got {logits.shape}")
    return logits


def _flat_targets(x, y, lengths, ignore_index):
    """y as (M,) ints; positions past a sequence's end set to ``ignore_index``."""
    x_shape = np.shape(x)
    if lengths is not None and y.ndim >= 2 and len(x_shape) >= 2 and y.shape[:2] == x_shape[:2]:
        lengths = np.asarray(lengths)
        past_end = np.arange(y.shape[1])[None, :] >= lengths[:, None]       # (N, L)
        if past_end.any():
            y = y.copy()
            y[past_end] = ignore_index
    return y.reshape(-1)


def _batch_loss(loss, logits, y_flat):
    """(sum of the per-target losses, number of counted targets) and the loss's value."""
    C = logits.shape[-1]
    value = loss(logits.reshape(-1, C), y_flat)                             # (N·L, C), (N·L,)
    n = int(np.count_nonzero(y_flat != getattr(loss, "ignore_index", -100)))
    if getattr(loss, "reduction", "mean") == "sum":
        total = value
    else:                          # a mean over no counted targets is 0/0; their sum is 0
        total = value * n if n else 0.0
    return float(total), n


def _check_loss(loss):
    if getattr(loss, "reduction", "mean") not in ("mean", "sum"):
        raise ValueError(f"expected a loss with reduction 'mean' or 'sum' (a scalar to "
                         f"back-propagate), got reduction={loss.reduction!r}")


def _check_metric(metric):
    if metric is not None and metric not in METRICS:
        raise ValueError(f"expected metric in {sorted(METRICS)} or None, got {metric!r}")


def _grad_norm(params):
    """Global L2 norm of all gradients (what clip_grad_norm_ reports), without clipping;
    computed without overflow, so huge float32 gradients do not read as divergence."""
    return total_norm([p.grad for p in params])


def _exp(x):
    return math.exp(x) if x < 709.0 else math.inf     # no OverflowError for a huge loss


# ---- evaluation ----------------------------------------------------------------------------

def evaluate(model, loss, loader, metric="accuracy"):
    """Mean loss and a metric over ``loader``, in eval mode and under ``no_grad``.

    metric : 'accuracy' (argmax over C equals the target), 'perplexity' (exp of the mean
             loss) or None
    Returns (mean loss over counted targets, metric value or None). Every module's
    train/eval mode is restored afterwards, whatever it was.
    """
    _check_loss(loss)
    _check_metric(metric)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    total, count, correct = 0.0, 0, 0
    try:
        with _config.no_grad():
            for batch in loader:
                x, y, lengths = _unpack(batch)
                logits = _logits(model, x, lengths, y)
                y_flat = _flat_targets(x, y, lengths, getattr(loss, "ignore_index", -100))
                batch_total, n = _batch_loss(loss, logits, y_flat)
                total, count = total + batch_total, count + n
                if metric == "accuracy":
                    counted = y_flat != getattr(loss, "ignore_index", -100)
                    predicted = logits.reshape(-1, logits.shape[-1]).argmax(axis=1)
                    correct += int(np.count_nonzero((predicted == y_flat) & counted))
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    if count == 0:
        raise ValueError("evaluate: the loader yielded no targets to evaluate on")
    mean = total / count
    if metric == "accuracy":
        return mean, correct / count
    if metric == "perplexity":
        return mean, _exp(mean)
    return mean, None


test = evaluate


def accuracy(model, loader, loss=None):
    """Fraction of targets whose argmax over the logits is right (CrossEntropyLoss by default)."""
    return evaluate(model, loss or _default_loss(), loader, "accuracy")[1]


def perplexity(model, loader, loss=None):
    """exp(mean cross-entropy per target) over ``loader``."""
    return evaluate(model, loss or _default_loss(), loader, "perplexity")[1]


def _default_loss():
    from ..nn import CrossEntropyLoss
    return CrossEntropyLoss()


# ---- progress ------------------------------------------------------------------------------

def _progress_bar(loader, desc):
    """A tqdm bar for ``loader``'s batches on a terminal; None when tqdm is missing or stderr
    is not a terminal."""
    stream = sys.stderr
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    total = len(loader) if hasattr(loader, "__len__") else None
    # Updated by hand (not wrapped around the loader), so it is still open after the last
    # batch and can show the epoch's dev results before closing.
    return tqdm(total=total, desc=desc, unit="batch", leave=True, file=stream,
                dynamic_ncols=True)


def _summary(history, epochs, is_best):
    h = {k: v[-1] for k, v in history.items() if k in _LISTS}
    parts = [f"epoch {h['epoch']}/{epochs}", f"train_loss {h['train_loss']:.4f}"]
    if h["dev_loss"] is not None:
        parts.append(f"dev_loss {h['dev_loss']:.4f}")
    if h["dev_metric"] is not None:
        parts.append(f"dev_{history['metric']} {h['dev_metric']:.4f}")
    parts += [f"grad_norm {h['grad_norm']:.3g}", f"{h['seconds']:.1f}s"]
    return "  ".join(parts) + ("  *" if is_best else "")


# ---- training ------------------------------------------------------------------------------

def fit(model, loss, optimizer, train_loader, dev_loader=None, epochs=10, clip=None,
        patience=None, metric="accuracy", verbose=True, checkpoint=None, history=None,
        start_epoch=None, *, resume=False, restore_best=True, scheduler=None):
    """Train ``model`` for ``epochs`` epochs; keep and restore the weights of its best epoch.

    model         : a Module following the convention in the module docstring
    loss          : e.g. ``minirnn.nn.CrossEntropyLoss()`` (reduction 'mean' or 'sum')
    optimizer     : a minirnn.optim optimiser over (some of) ``model.parameters()``
    train_loader  : iterable of batches, re-iterated every epoch (e.g. a DataLoader)
    dev_loader    : batches to select the best epoch on (and stop early), or None
    epochs        : the total number of epochs; a resumed run goes on up to it
    clip          : max global gradient L2 norm (``clip_grad_norm_``), or None
    patience      : stop after this many epochs without a better dev score (needs dev_loader)
    metric        : 'accuracy' (higher is better), 'perplexity' (lower is better) or None;
                    the best epoch is chosen by it (ties broken by the lower dev loss), or by
                    the dev loss when None. "Better" means strictly better.
    verbose       : a tqdm bar per epoch (epoch, loss, speed) when stderr is a terminal,
                    else one line per epoch on stdout; False -> silent
    checkpoint    : a path: after every epoch the full training state (weights, optimiser
                    state, RNG states, history, best weights) is saved there atomically
    history       : a History (or dict) from an earlier run to continue; None -> a new one
    start_epoch   : the number of epochs already done; None -> as many as ``history`` holds
    resume        : with ``checkpoint``: if that file exists, load it and go on from where it
                    ended (a missing file starts afresh). A resumed run ends with weights
                    bit-identical to an uninterrupted one.
    restore_best  : load the best epoch's weights into ``model`` at the end (default True)
    scheduler     : a ``minirnn.optim.lr_scheduler`` scheduler of ``optimizer``, stepped once
                    after every epoch (``ReduceLROnPlateau`` with the epoch's dev score: the
                    metric, or the dev loss when metric is None); saved in checkpoints
    Returns the History; ``history.best_state`` holds a copy of the best weights.
    Raises FloatingPointError at the first batch whose loss or gradient is not finite, before
    its step, so divergence never turns the weights into NaN silently.
    """
    _check_loss(loss)
    _check_metric(metric)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"expected epochs to be an int >= 0, got {epochs!r}")
    if clip is not None and (isinstance(clip, bool) or not isinstance(clip, numbers.Real)
                             or not 0 < clip < math.inf):
        raise ValueError(f"expected clip to be a finite number > 0 (the largest gradient norm) "
                         f"or None, got {clip!r}")
    if patience is not None and dev_loader is None:
        raise ValueError("patience (early stopping) needs a dev_loader to watch")
    if patience is not None and (isinstance(patience, bool) or int(patience) != patience
                                 or patience < 1):
        raise ValueError(f"expected patience to be an int >= 1 or None, got {patience!r}")
    _check_scheduler(scheduler, optimizer, dev_loader)
    loaders = [train_loader, dev_loader]
    if resume:
        if checkpoint is None:
            raise ValueError("resume=True needs checkpoint=<path> to resume from")
        if history is not None or start_epoch is not None:
            raise ValueError("resume=True takes history and start_epoch from the checkpoint; "
                             "pass neither")
        if os.path.lexists(checkpoint):         # a broken link or loop is an error, not "none"
            history, start_epoch = _resume(checkpoint, model, optimizer, loaders, metric,
                                           dev_loader, scheduler)
    history, start_epoch = _start(history, start_epoch, metric, dev_loader)
    higher = METRICS[metric] if (metric is not None and dev_loader is not None) else False

    epoch = start_epoch
    while epoch < epochs and history["stopped_epoch"] is None:
        t0 = time.perf_counter()
        bar = _progress_bar(train_loader, f"epoch {epoch + 1}/{epochs}") if verbose else None
        try:
            train_loss, grad_norm = _train_epoch(model, loss, optimizer, train_loader, clip, bar)
            dev_loss = dev_metric = None
            if dev_loader is not None:
                dev_loss, dev_metric = evaluate(model, loss, dev_loader, metric)
            lr = (optimizer.param_groups[0].get("lr") if hasattr(optimizer, "param_groups")
                  else None)
            for key, value in (("epoch", epoch + 1), ("train_loss", train_loss),
                               ("dev_loss", dev_loss), ("dev_metric", dev_metric),
                               ("seconds", time.perf_counter() - t0),
                               ("grad_norm", grad_norm), ("lr", lr)):
                history[key].append(value)
            is_best = dev_loader is not None and _track_best(history, model, patience, higher)
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(dev_metric if history["metric"] is not None else dev_loss)
            elif scheduler is not None:
                scheduler.step()
            if checkpoint is not None:
                _save(checkpoint, model, optimizer, history, epoch + 1, loaders, scheduler)
            if bar is not None:
                bar.set_postfix_str(_summary(history, epochs, is_best).split("  ", 1)[1])
            elif verbose:
                print(_summary(history, epochs, is_best), flush=True)
        finally:
            if bar is not None:
                bar.close()
        epoch += 1

    if restore_best and history.best_state is not None:
        model.load_state_dict(history.best_state)
    return history


def _train_epoch(model, loss, optimizer, loader, clip, bar):
    """One pass over ``loader`` in training mode: (mean loss per counted target,
    mean global gradient norm before clipping)."""
    model.train()
    params = model.parameters()
    total, count, norms = 0.0, 0, []
    for b, batch in enumerate(loader):
        x, y, lengths = _unpack(batch)
        model.zero_grad()                                   # (1) the optimiser's too
        logits = _logits(model, x, lengths, y)                          # (2)
        y_flat = _flat_targets(x, y, lengths, getattr(loss, "ignore_index", -100))
        batch_total, n = _batch_loss(loss, logits, y_flat)              # (3)
        grad = loss.backward(1.0).reshape(logits.shape)                 # (N·L, C) -> (..., C)
        model.backward(grad)                                            # (4)
        # (5) the global norm before clipping; clipping only scales .grad, so a
        # non-finite batch below still leaves the weights untouched
        norm = clip_grad_norm_(params, clip) if clip is not None else _grad_norm(params)
        if not (np.isfinite(batch_total) and np.isfinite(norm)):
            # stop before the step: the weights are still finite, and a NaN would otherwise
            # spread silently through every later epoch
            raise FloatingPointError(
                f"fit: training diverged at batch {b} (loss {batch_total / max(n, 1):.4g}, "
                f"gradient norm {norm:.4g}); the weights are left as they were before this "
                f"batch. Lower the learning rate or pass clip=...")
        norms.append(norm)
        optimizer.step()                                                # (6)
        total, count = total + batch_total, count + n
        if bar is not None:
            bar.set_postfix(loss=f"{total / max(count, 1):.4f}", refresh=False)
            bar.update(1)
    if count == 0:
        raise ValueError("fit: the training loader yielded no targets")
    return total / count, float(np.mean(norms))


def _track_best(history, model, patience, higher):
    """After an epoch with a dev score: keep a copy of the weights if it is the best so far,
    or mark the run stopped after ``patience`` epochs without one. True if it is the best."""
    epoch, dev_loss = history["epoch"][-1], history["dev_loss"][-1]
    score = history["dev_metric"][-1] if history["metric"] is not None else dev_loss
    if _improves(history, score, dev_loss, higher):
        history["best_epoch"], history["best_score"] = epoch, score
        history.best_state = model.state_dict()                # copies, not references
        return True
    if patience is not None:
        last_good = history["best_epoch"]
        if last_good is None:                                  # no finite score yet
            last_good = history["epoch"][0] - 1
        if epoch - last_good >= patience:
            history["stopped_epoch"] = epoch
    return False


def _improves(history, score, dev_loss, higher):
    """Is ``score`` strictly better than the best so far? A tie in the metric is broken by
    the dev loss (lower wins); an exact tie keeps the earlier epoch; NaN never improves."""
    if math.isnan(score):
        return False
    best = history["best_score"]
    if best is None:
        return True
    if score != best:
        return score > best if higher else score < best
    best_loss = history["dev_loss"][history["epoch"].index(history["best_epoch"])]
    return dev_loss < best_loss


def _start(history, start_epoch, metric, dev_loader):
    """A History to append to and the first epoch number, checked for consistency."""
    used = metric if dev_loader is not None else None     # no dev set: no metric recorded
    if history is None:
        history = History(metric=used)
    else:
        best_state = getattr(history, "best_state", None)
        history = History(check_history(history, "fit: history"))
        history.best_state = best_state
        if history["best_epoch"] is not None and best_state is None:
            warnings.warn("fit: the history has a best_epoch but no best_state (weights); "
                          "choosing the best epoch afresh from here on", stacklevel=3)
            history["best_epoch"] = history["best_score"] = None
        if history["metric"] != used and history["epoch"]:
            why = "" if dev_loader is not None else " (no dev_loader, so no metric)"
            raise ValueError(f"fit: the history was recorded with metric "
                             f"{history['metric']!r}, this run uses {used!r}{why}; pass the "
                             f"same metric and dev_loader as the run that made it")
        history["metric"] = used
    done = history["epoch"][-1] if history["epoch"] else 0
    if start_epoch is None:
        start_epoch = done
    elif history["epoch"] and start_epoch != done:
        raise ValueError(f"fit: start_epoch={start_epoch} but the history ends after epoch "
                         f"{done} (expected start_epoch={done})")
    return history, int(start_epoch)


def _check_scheduler(scheduler, optimizer, dev_loader):
    if scheduler is None:
        return
    if not isinstance(scheduler, LRScheduler):
        raise TypeError(f"expected scheduler to be a minirnn.optim.lr_scheduler scheduler or "
                        f"None, got {type(scheduler).__name__}")
    if scheduler.optimizer is not optimizer:
        raise ValueError("expected a scheduler of the optimizer given to fit, got one of "
                         "another optimiser")
    if isinstance(scheduler, ReduceLROnPlateau) and dev_loader is None:
        raise ValueError("ReduceLROnPlateau needs a dev_loader: it watches the dev score")


def _save(path, model, optimizer, history, epochs_done, loaders, scheduler):
    best = history.best_state or {}
    extra = {} if scheduler is None else {"scheduler": scheduler.state_dict()}
    _ckpt.save(path, model, optimizer, arrays={"best/" + k: v for k, v in best.items()},
               epoch=epochs_done, history=dict(history),
               rng=_ckpt.get_rng_state(model, loaders), **extra)


def _resume(path, model, optimizer, loaders, metric, dev_loader, scheduler):
    """Load a checkpoint written by ``fit``: (History with best_state, epochs done).
    All or nothing: every field is checked, and the run's metric against the history's,
    before the model, optimiser or generators change."""
    saved = _ckpt.load(path)                        # read and checked, nothing loaded yet
    meta, where = saved["meta"], f"checkpoint {os.fspath(path)!r}"
    if not isinstance(meta, dict) or not {"epoch", "history", "rng"} <= set(meta):
        raise ValueError(f"{where} was not written by fit (its metadata lacks 'epoch', "
                         f"'history' or 'rng'); load it with minirnn.train.checkpoint.load")
    history = History(check_history(meta["history"], f"{where}: history"))
    done = history["epoch"][-1] if history["epoch"] else 0
    if meta["epoch"] != done or isinstance(meta["epoch"], bool):
        raise _ckpt.CheckpointError(f"{where}: expected 'epoch' to be {done}, the last epoch "
                                    f"of its history, got {meta['epoch']!r}")
    best = {k[len("best/"):]: v for k, v in saved["arrays"].items() if k.startswith("best/")}
    history.best_state = best or None
    try:
        _ckpt.check_rng_state(meta["rng"], model, loaders)
    except ValueError as e:
        raise _ckpt.CheckpointError(f"{where}: {e}") from None
    if scheduler is None and "scheduler" in meta:
        raise ValueError(f"{where} was written with a learning-rate scheduler; pass the same "
                         f"kind (scheduler=...) to resume it")
    if scheduler is not None and "scheduler" not in meta:
        raise ValueError(f"{where} was written without a learning-rate scheduler; resume "
                         f"without one")
    if scheduler is not None:
        try:
            scheduler.check_state_dict(meta["scheduler"])
        except (TypeError, ValueError) as e:
            raise _ckpt.CheckpointError(f"{where}: scheduler state: {e}") from None
    history, start_epoch = _start(history, None, metric, dev_loader)
    _ckpt.load(path, model, optimizer)              # checks model and optimiser, then loads
    _ckpt.set_rng_state(meta["rng"], model, loaders)
    if scheduler is not None:
        scheduler.load_state_dict(meta["scheduler"])
    return history, start_epoch


def check_history(history, where):
    """``history`` (a History or the dict fit saved) if every field has the type and range
    fit writes; else a ValueError naming the field. Missing fields take History's defaults."""
    if not isinstance(history, dict):
        raise ValueError(f"{where}: expected a dict, got {type(history).__name__}")
    unknown = sorted(set(history) - set(_LISTS) - set(_SCALARS), key=str)
    if unknown:
        raise ValueError(f"{where}: unexpected fields {unknown}")
    lists = {k: history.get(k, []) for k in _LISTS}
    for key, value in lists.items():
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected {key!r} to be a list, got "
                             f"{type(value).__name__}")
    lengths = {len(v) for k, v in lists.items() if k in history}
    if len(lengths) > 1:
        raise ValueError(f"{where}: expected lists of one length (one entry per epoch), got "
                         + ", ".join(f"{k}: {len(v)}" for k, v in lists.items()))
    epochs = lists["epoch"]
    if not all(_is_int(e) for e in epochs) or (epochs and (
            epochs[0] < 1 or epochs != list(range(epochs[0], epochs[0] + len(epochs))))):
        raise ValueError(f"{where}: expected 'epoch' to count up by one from an int >= 1, "
                         f"got {_short(epochs)}")
    for key in ("train_loss", "seconds", "grad_norm", "dev_loss", "dev_metric", "lr"):
        optional = key in ("dev_loss", "dev_metric", "lr")
        bad = [v for v in lists[key] if not (_is_number(v) or (optional and v is None))]
        if bad:
            raise ValueError(f"{where}: expected {key!r} to hold numbers"
                             f"{' or None' if optional else ''}, got {bad[0]!r}")
    metric = history.get("metric")
    if metric is not None and metric not in METRICS:
        raise ValueError(f"{where}: expected 'metric' in {sorted(METRICS)} or None, got "
                         f"{metric!r}")
    for key in ("best_epoch", "stopped_epoch"):
        value = history.get(key)
        if value is not None and not (_is_int(value) and value in epochs):
            raise ValueError(f"{where}: expected {key!r} to be None or one of its epochs "
                             f"{_short(epochs)}, got {value!r}")
    score = history.get("best_score")
    if score is not None and not _is_number(score):
        raise ValueError(f"{where}: expected 'best_score' to be a number or None, got "
                         f"{score!r}")
    return history


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _short(values):
    text = repr(values)
    return text if len(text) <= 60 else text[:57] + "..."
