"""Learning-rate schedules with torch.optim.lr_scheduler's rules, step for step.

A scheduler changes ``optimizer.param_groups[0]['lr']`` each time its ``step()`` is called,
once per epoch after the epoch's optimiser steps (``fit(scheduler=...)`` does this). Its
epoch counter ``last_epoch`` starts at 0, at the learning rate the optimiser was built with
(``base_lr``); the rules, for epoch e = last_epoch:

  StepLR(step_size, gamma=0.1)        lr ← lr · γ   when e is a multiple of step_size
  MultiStepLR(milestones, gamma=0.1)  lr ← lr · γ^k when e is a milestone listed k times
  ExponentialLR(gamma)                lr ← lr · γ   every epoch
  CosineAnnealingLR(T_max, eta_min=0) lr_e = η_min + (base_lr − η_min)(1 + cos(π e / T_max)) / 2
  LambdaLR(lr_lambda)                 lr_e = base_lr · lr_lambda(e)
  ReduceLROnPlateau(mode='min', factor=0.1, patience=10, ...)
                                      lr ← max(lr · factor, min_lr) after more than
                                      ``patience`` epochs without improvement of the metric
                                      given to ``step(metric)``

Each is computed as torch computes it (CosineAnnealingLR by torch's recursive form, not the
closed form above, which differs in the last bits), so the two give the same floats at every
epoch; ``tests/test_lr_scheduler.py`` checks this. ``state_dict()`` is plain JSON-ready data;
``load_state_dict`` checks every field before changing anything.
"""
import math

from ..nn import _checks
from .optimizer import Optimizer


def _number(value, name, low=None, high=None, low_open=False, high_open=False):
    """``value`` as a finite float in the range (shared check: TypeError for a non-number,
    ValueError for NaN, inf or out of range, both naming what was expected)."""
    return _checks.real(value, name, low=low, high=high, low_open=low_open,
                        high_open=high_open)


def _count(value, name, low):
    """``value`` as an int >= ``low`` (TypeError for a non-integer, ValueError below low)."""
    value = _checks.integer(value, name)
    if value < low:
        raise ValueError(f"expected {name} to be an integer >= {low}, got {value!r}")
    return value


class LRScheduler:
    """Base class: the epoch counter, ``step()``, ``get_last_lr()`` and state dicts.

    A subclass supplies ``_next_lr(lr)``: the learning rate for epoch ``self.last_epoch``
    (already advanced), given the current one.
    """

    _fields = ()               # the subclass's settings, saved in state_dict

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected a minirnn.optim optimiser, got "
                            f"{type(optimizer).__name__}")
        group = optimizer.param_groups[0]
        if "lr" not in group:
            raise ValueError(f"{type(self).__name__}: {type(optimizer).__name__} has no "
                             f"learning rate to schedule")
        self.optimizer = optimizer
        self.base_lr = float(group["lr"])
        self.last_epoch = 0
        self._last_lr = self.base_lr

    def step(self):
        """Advance one epoch and set the optimiser's learning rate for it."""
        self.last_epoch += 1
        lr = self._next_lr(float(self.optimizer.param_groups[0]["lr"]))
        self.optimizer.param_groups[0]["lr"] = lr
        self._last_lr = lr

    def get_last_lr(self):
        """The learning rate the last ``step`` set, as a one-item list (as torch)."""
        return [self._last_lr]

    def state_dict(self):
        state = {"type": type(self).__name__, "base_lr": self.base_lr,
                 "last_epoch": self.last_epoch, "last_lr": self._last_lr}
        state.update({k: getattr(self, k) for k in self._fields})
        return state

    def load_state_dict(self, state):
        """Continue from ``state`` (what ``state_dict`` returned); nothing changes on error."""
        self.__dict__.update(self.check_state_dict(state))

    def check_state_dict(self, state):
        """Raise TypeError/ValueError naming the field unless ``state`` would load; changes
        nothing. Returns the checked values."""
        name = type(self).__name__
        if not isinstance(state, dict):
            raise TypeError(f"{name}.load_state_dict: expected a dict, got "
                            f"{type(state).__name__}")
        expected = {"type", "base_lr", "last_epoch", "last_lr", *self._fields}
        if set(state) != expected:
            raise ValueError(f"{name}.load_state_dict: expected the keys {sorted(expected)}, "
                             f"got {sorted(state, key=str)}")
        if state["type"] != name:
            raise ValueError(f"{name}.load_state_dict: the state is a {state['type']!r}'s")
        values = {"base_lr": _number(state["base_lr"], "base_lr", 0),
                  "last_epoch": _count(state["last_epoch"], "last_epoch", 0),
                  "_last_lr": _number(state["last_lr"], "last_lr", 0)}
        values.update(self._check_fields({k: state[k] for k in self._fields}))
        return values

    def _check_fields(self, fields):
        return fields

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(
            f"{k}={getattr(self, k)!r}" for k in self._fields) + ")"


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs."""

    _fields = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size = _count(step_size, "step_size", 1)
        self.gamma = _number(gamma, "gamma", 0, low_open=True)
        super().__init__(optimizer)

    def _next_lr(self, lr):
        return lr * self.gamma if self.last_epoch % self.step_size == 0 else lr

    def _check_fields(self, f):
        return {"step_size": _count(f["step_size"], "step_size", 1),
                "gamma": _number(f["gamma"], "gamma", 0, low_open=True)}


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch in ``milestones`` (by gamma^k
    for a milestone listed k times)."""

    _fields = ("milestones", "gamma")

    def __init__(self, optimizer, milestones, gamma=0.1):
        self.milestones = self._milestones(milestones)
        self.gamma = _number(gamma, "gamma", 0, low_open=True)
        super().__init__(optimizer)

    @staticmethod
    def _milestones(milestones):
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
            raise TypeError(f"expected milestones to be a list of epochs, got {milestones!r}")
        return sorted(_count(m, "each milestone", 1) for m in milestones)

    def _next_lr(self, lr):
        k = self.milestones.count(self.last_epoch)
        return lr * self.gamma ** k if k else lr

    def _check_fields(self, f):
        return {"milestones": self._milestones(f["milestones"]),
                "gamma": _number(f["gamma"], "gamma", 0, low_open=True)}


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch."""

    _fields = ("gamma",)

    def __init__(self, optimizer, gamma):
        self.gamma = _number(gamma, "gamma", 0, low_open=True)
        super().__init__(optimizer)

    def _next_lr(self, lr):
        return lr * self.gamma

    def _check_fields(self, f):
        return {"gamma": _number(f["gamma"], "gamma", 0, low_open=True)}


class CosineAnnealingLR(LRScheduler):
    """Anneal from base_lr to ``eta_min`` along half a cosine over ``T_max`` epochs (and back
    up over the next T_max, as torch, if training goes on)."""

    _fields = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.T_max = _count(T_max, "T_max", 1)
        self.eta_min = _number(eta_min, "eta_min", 0)
        super().__init__(optimizer)

    def _next_lr(self, lr):
        e, T, lo, base = self.last_epoch, self.T_max, self.eta_min, self.base_lr
        if (e - 1 - T) % (2 * T) == 0:                 # the bottom of a cycle: turn upwards
            return lr + (base - lo) * (1 - math.cos(math.pi / T)) / 2
        return ((1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
                * (lr - lo) + lo)

    def _check_fields(self, f):
        return {"T_max": _count(f["T_max"], "T_max", 1),
                "eta_min": _number(f["eta_min"], "eta_min", 0)}


class LambdaLR(LRScheduler):
    """lr = base_lr · lr_lambda(epoch), for any function ``lr_lambda`` of the epoch number.
    The function is not saved in ``state_dict`` (as in torch): pass it again when loading."""

    def __init__(self, optimizer, lr_lambda):
        if not callable(lr_lambda):
            raise TypeError(f"expected lr_lambda to be a function of the epoch, got "
                            f"{type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)
        self.optimizer.param_groups[0]["lr"] = self._last_lr = self._next_lr(self.base_lr)

    def _next_lr(self, lr):
        factor = self.lr_lambda(self.last_epoch)
        return _number(self.base_lr * factor, f"base_lr * lr_lambda({self.last_epoch})", 0)


class ReduceLROnPlateau(LRScheduler):
    """Divide the learning rate by 1/``factor`` once the metric passed to ``step(metric)`` has
    not improved for more than ``patience`` epochs, then wait ``cooldown`` epochs.

    mode 'min' (a loss) or 'max' (an accuracy); improvement means better than the best so far
    by more than ``threshold``, relative (threshold_mode 'rel') or absolute ('abs'); the
    learning rate never goes below ``min_lr``, and a change smaller than ``eps`` is skipped.
    """

    _fields = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown",
               "min_lr", "eps", "best", "num_bad_epochs", "cooldown_counter")

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        settings = self._check_fields(dict(
            mode=mode, factor=factor, patience=patience, threshold=threshold,
            threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=eps,
            best=None, num_bad_epochs=0, cooldown_counter=0))
        self.__dict__.update(settings)
        super().__init__(optimizer)

    def step(self, metric):
        """Advance one epoch, given this epoch's value of the watched metric."""
        current = _number(metric, "the metric given to ReduceLROnPlateau.step")
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:                  # bad epochs in a cooldown do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            group = self.optimizer.param_groups[0]
            old = float(group["lr"])
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = float(self.optimizer.param_groups[0]["lr"])

    def _is_better(self, a):
        if self.best is None:                          # torch starts from ±inf: anything wins
            return True
        best, th = self.best, self.threshold
        if self.mode == "min":
            return a < best * (1.0 - th) if self.threshold_mode == "rel" else a < best - th
        return a > best * (th + 1.0) if self.threshold_mode == "rel" else a > best + th

    def _check_fields(self, f):
        for key, allowed in (("mode", ("min", "max")), ("threshold_mode", ("rel", "abs"))):
            if f[key] not in allowed:
                raise ValueError(f"expected {key} in {list(allowed)}, got {f[key]!r}")
        best = f["best"]
        return {"mode": f["mode"], "threshold_mode": f["threshold_mode"],
                "factor": _number(f["factor"], "factor", 0, 1, low_open=True, high_open=True),
                "patience": _count(f["patience"], "patience", 0),
                "threshold": _number(f["threshold"], "threshold", 0),
                "cooldown": _count(f["cooldown"], "cooldown", 0),
                "min_lr": _number(f["min_lr"], "min_lr", 0),
                "eps": _number(f["eps"], "eps", 0),
                "best": None if best is None else _number(best, "best"),
                "num_bad_epochs": _count(f["num_bad_epochs"], "num_bad_epochs", 0),
                "cooldown_counter": _count(f["cooldown_counter"], "cooldown_counter", 0)}
