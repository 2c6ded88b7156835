"""Optimizer: the bookkeeping every optimiser shares (parameters, state, state dicts, checks).

A subclass supplies:
  _rules                  {hyperparameter: rule}, a rule being one of the functions below
                          (nonnegative, positive, fraction, flag, beta_pair): every
                          hyperparameter is checked by its rule at construction, at
                          load_state_dict and before every step
  _check_together(**h)    (optional) raise ValueError for a bad combination (SGD's nesterov)
  _state_names(**h)       the names of the per-parameter state once a parameter has been stepped
  _nonnegative_state      (optional) the state arrays that are sums of squares
  _update(w, g, state, **h)  update the array ``w`` in place from its gradient ``g``; ``state``
                          is the parameter's dict, empty before its first step (filled lazily,
                          as torch does)

``step`` checks every hyperparameter and every gradient before it changes any parameter, so
a bad gradient anywhere raises with all weights and state as they were.

State is kept per parameter *index* (position in the list given to the constructor), as torch's
``state_dict`` does, so a saved state loads into a new optimiser over new Parameters.
"""
import numbers
from collections.abc import Mapping

import numpy as np

from ..nn import _checks
from ..nn.module import Parameter


# ---- hyperparameter rules: each checks one value and returns it as a plain Python value ---

def nonnegative(value, name, owner):
    return _checks.real(value, name, owner, low=0)


def positive(value, name, owner):
    return _checks.real(value, name, owner, low=0, low_open=True)


def fraction(value, name, owner):
    """[0, 1]: a fraction (dampening, RMSprop's alpha)."""
    return _checks.real(value, name, owner, low=0, high=1)


flag = _checks.flag


def beta_pair(value, name, owner):
    """A pair of decay rates, each in [0, 1)."""
    expected = f"expected {name} to be a pair (beta1, beta2) of numbers in [0, 1)"
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{owner}: {expected}, got {value!r} ({type(value).__name__})")
    if len(value) != 2:
        raise ValueError(f"{owner}: {expected}, got {len(value)} values {tuple(value)!r}")
    return tuple(_checks.real(b, f"{name}[{k}]", owner, low=0, high=1, high_open=True)
                 for k, b in enumerate(value))


def _plain(value):
    """A hyperparameter as a plain Python value: bool, float, str, or a tuple of them.

    Also undoes what saving did to it: 0-d arrays from npz, lists from JSON. A value that is
    none of these is returned as it is, for its rule to refuse by name.
    """
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def check_grad(p, i, owner):
    """Parameter ``i``'s ``.grad``: an ndarray of its ``.data``'s shape and dtype."""
    g, w = p.grad, p.data
    if isinstance(g, np.ndarray) and g.shape == w.shape and g.dtype == w.dtype:
        return g                     # (checked every step: the message only on failure)
    expected = (f"expected parameter {i}'s .grad to be an array of shape {w.shape} and dtype "
                f"{w.dtype} (as its .data)")
    if not isinstance(g, np.ndarray):
        raise TypeError(f"{owner}: {expected}, got {type(g).__name__}")
    if g.shape != w.shape:
        raise ValueError(f"{owner}: {expected}, got shape {g.shape}")
    raise TypeError(f"{owner}: {expected}, got dtype {g.dtype}")


class Optimizer:
    """Base class: holds the Parameters, their per-parameter state and one group of hyperparameters.

    params : an iterable of Parameters (e.g. ``model.parameters()``), at least one, no duplicates
    hyperparameters : keyword arguments, kept in ``self.param_groups[0]`` as torch keeps them
        (so ``opt.param_groups[0]['lr'] = 0.01`` changes the learning rate, as in torch)
    """

    _rules = {}
    _nonnegative_state = ()

    def __init__(self, params, **hyperparameters):
        name = type(self).__name__
        if isinstance(params, Parameter) or not hasattr(params, "__iter__"):
            raise TypeError(f"{name} expects an iterable of Parameters (e.g. model.parameters()), "
                            f"got {type(params).__name__}")
        params = list(params)
        if not params:
            raise ValueError(f"{name} got an empty parameter list")
        for i, p in enumerate(params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{name} expects Parameters, got {type(p).__name__} "
                                f"at position {i}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name} got the same Parameter more than once (it would be "
                             f"updated twice per step)")
        hyperparameters = {k: _plain(v) for k, v in hyperparameters.items()}
        hyperparameters = self._validate(hyperparameters, name)
        self.params = params
        self.param_groups = [dict(params=params, **hyperparameters)]
        self.state = [{} for _ in params]

    def _check_together(self, **h):
        """Raise ValueError for hyperparameters that are bad only in combination."""

    def _validate(self, h, where):
        """``h`` checked by ``_rules`` (ValueError or TypeError naming what was expected)."""
        if h.keys() != self._rules.keys():
            raise ValueError(f"{where}: expected hyperparameters {sorted(self._rules)}, "
                             f"got {sorted(h)}")
        h = {k: rule(h[k], k, where) for k, rule in self._rules.items()}
        self._check_together(where=where, **h)
        return h

    def _hyperparameters(self):
        return {k: v for k, v in self.param_groups[0].items() if k != "params"}

    def _check_before_step(self):
        """Everything ``step`` reads, checked before it changes anything: the hyperparameters
        (``param_groups[0]`` may have been edited) and every parameter's gradient (an array
        of the parameter's shape and dtype, all finite: one NaN would spread into every later
        weight). Returns the checked hyperparameters."""
        where = f"{type(self).__name__}.step"
        h = self._validate(self._hyperparameters(), where)
        grads = [check_grad(p, i, where) for i, p in enumerate(self.params)]
        # a finite sum means no NaN or inf (one pass, no temporary); only an infinite or NaN
        # sum, rare, needs the element-wise look (large finite values can overflow it)
        with np.errstate(over="ignore", invalid="ignore"):
            totals = [g.sum() for g in grads]
        for i, (g, total) in enumerate(zip(grads, totals)):
            if not np.isfinite(total) and not np.isfinite(g).all():
                raise ValueError(f"{where}: expected finite gradients, got "
                                 f"{g.size - np.isfinite(g).sum()} NaN or inf values in "
                                 f"parameter {i}'s .grad (no parameter was changed; lower the "
                                 f"learning rate or clip the gradients)")
        return h

    def step(self):
        """Update every parameter once from its ``.grad`` (all checked first: see
        ``_check_before_step``)."""
        h = self._check_before_step()
        for p, state in zip(self.params, self.state):
            self._update(p.data, p.grad, state, **h)

    def zero_grad(self):
        """Set every parameter's ``.grad`` to zeros (in place; torch would set it to None)."""
        for p in self.params:
            p.zero_grad()

    # ---- saving and resuming -----------------------------------------------------------
    def state_dict(self):
        """Copies of the state as plain types, laid out as torch's optimiser state dicts:

        {'type': 'Adam',
         'state': {index: {name: ndarray or int}},   only parameters stepped at least once
         'param_groups': [{hyperparameter: value, ..., 'params': [0, 1, ..., n-1]}]}
        """
        state = {i: {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in s.items()}
                 for i, s in enumerate(self.state) if s}
        group = dict(self._hyperparameters(), params=list(range(len(self.params))))
        return {"type": type(self).__name__, "state": state, "param_groups": [group]}

    def load_state_dict(self, state_dict):
        """Resume from ``state_dict()``'s output (arrays copied in the parameters' dtypes).

        Hyperparameters are restored too, as torch does. Integer keys may arrive as strings
        (JSON) and arrays as nested lists or 0-d arrays (npz). A value of the wrong type (not a
        dict, not numbers) raises TypeError, anything else that does not fit this optimiser
        ValueError, each naming what was expected; nothing changes unless all fits.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        expected = "a dict with keys 'state' and 'param_groups' (from state_dict())"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{where}: expected {expected}, got {type(state_dict).__name__}")
        if "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{where}: expected {expected}, got keys "
                             f"{sorted(map(str, state_dict))}")
        saved_type = _plain(state_dict.get("type", name))
        if saved_type != name:
            raise ValueError(f"{where}: expected the state dict of a {name}, "
                             f"got one of a {saved_type}")
        groups = state_dict["param_groups"]
        if not (isinstance(groups, (list, tuple))
                and all(isinstance(g, Mapping) for g in groups)):
            raise TypeError(f"{where}: expected 'param_groups' to be a list of dicts, got "
                            f"{type(groups).__name__}")
        if len(groups) != 1:
            raise ValueError(f"{where}: expected 1 parameter group, got {len(groups)}")
        group = dict(groups[0])
        saved_params = group.pop("params", ())
        if not isinstance(saved_params, (list, tuple, np.ndarray)):
            raise TypeError(f"{where}: expected 'params' to be a list of parameter indices, got "
                            f"{type(saved_params).__name__}")
        if len(saved_params) != len(self.params):
            raise ValueError(f"{where}: expected a state dict for {len(self.params)} parameters, "
                             f"got one for {len(saved_params)}")
        h = self._validate({k: _plain(v) for k, v in group.items()}, where)
        names = set(self._state_names(**h))
        saved_state = state_dict["state"]
        if not isinstance(saved_state, Mapping):
            raise TypeError(f"{where}: expected 'state' to be a dict {{parameter index: dict}}, "
                            f"got {type(saved_state).__name__}")
        state = [{} for _ in self.params]
        for key, entry in saved_state.items():
            i = self._index(where, key)
            if not isinstance(entry, Mapping):
                raise TypeError(f"{where}: expected the state of parameter {i} to be a dict, "
                                f"got {type(entry).__name__}")
            if entry and set(entry) != names:
                raise ValueError(f"{where}: expected state {sorted(names)} for parameter {i}, "
                                 f"got {sorted(map(str, entry))}")
            for k, value in entry.items():
                state[i][k] = self._load_value(where, i, k, value, self.params[i].data)
        self.state = state
        self.param_groups[0].update(h)

    def _index(self, where, key):
        """A saved state key as a parameter index: an int, or its string from JSON."""
        if isinstance(key, str) and key.isdigit():
            key = int(key)
        n = len(self.params)
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or not 0 <= key < n:
            raise ValueError(f"{where}: expected state for parameter indices 0...{n - 1}, "
                             f"got index {key!r}")
        return int(key)

    def _load_value(self, where, i, k, value, w):
        """One saved state value checked against parameter ``i`` and copied; 'step' is a count."""
        value = _checks.as_array(value, f"state {k!r} of parameter {i}", where)
        if value.dtype.kind not in "fiu":
            raise TypeError(f"{where}: expected numbers for state {k!r} of parameter {i}, "
                            f"got dtype {value.dtype}")
        if k == "step":
            if (value.shape != () or not np.isfinite(value) or value < 0
                    or value != np.floor(value)):
                raise ValueError(f"{where}: expected a step count (an integer >= 0) for "
                                 f"parameter {i}, got {value}")
            return int(value)
        if value.shape != w.shape:
            raise ValueError(f"{where}: expected state {k!r} of parameter {i} of shape "
                             f"{w.shape}, got {value.shape}")
        with np.errstate(over="ignore"):          # an overflow is refused just below
            copy = np.array(value, dtype=w.dtype)
        if not np.isfinite(copy).all():
            raise ValueError(f"{where}: expected finite values in state {k!r} of parameter "
                             f"{i} (in {w.dtype}), got NaN or inf")
        if k in self._nonnegative_state and (copy < 0).any():
            raise ValueError(f"{where}: expected state {k!r} of parameter {i} >= 0 (a sum of "
                             f"squares), got {copy.min()}")
        return copy

    def __repr__(self):
        h = ", ".join(f"{k}={v}" for k, v in self._hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {h})"
