"""Optimizer: the bookkeeping every optimiser shares (parameters, state, state dicts).

A subclass supplies three methods, each taking its hyperparameters as keyword arguments:
  _validate(**h)          raise ValueError for a bad hyperparameter (torch's checks)
  _state_names(**h)       the names of the per-parameter state once a parameter has been stepped
  _update(w, g, state, **h)  update the array ``w`` in place from its gradient ``g``; ``state``
                          is the parameter's dict, empty before its first step (filled lazily,
                          as torch does)

State is kept per parameter *index* (position in the list given to the constructor), as torch's
``state_dict`` does, so a saved state loads into a new optimiser over new Parameters.
"""
from collections.abc import Mapping

import numpy as np

from ..nn.module import Parameter


def _plain(value):
    """A hyperparameter as a plain Python value: bool, float, str, or a tuple of them.

    Also undoes what saving did to it: 0-d arrays from npz, lists from JSON.
    """
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return float(value)


class Optimizer:
    """Base class: holds the Parameters, their per-parameter state and one group of hyperparameters.

    params : an iterable of Parameters (e.g. ``model.parameters()``), at least one, no duplicates
    hyperparameters : keyword arguments, kept in ``self.param_groups[0]`` as torch keeps them
        (so ``opt.param_groups[0]['lr'] = 0.01`` changes the learning rate, as in torch)
    """

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
        self._validate(**hyperparameters)
        self.params = params
        self.param_groups = [dict(params=params, **hyperparameters)]
        self.state = [{} for _ in params]

    def _hyperparameters(self):
        return {k: v for k, v in self.param_groups[0].items() if k != "params"}

    def step(self):
        """Update every parameter once from its ``.grad``."""
        h = self._hyperparameters()
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
        (JSON) and arrays as nested lists or 0-d arrays (npz). Anything that does not fit this
        optimiser raises ValueError naming what was expected (TypeError for values that are
        not numbers); nothing changes unless all fits.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        if not (isinstance(state_dict, Mapping) and "state" in state_dict
                and "param_groups" in state_dict):
            raise ValueError(f"{where}: expected a dict with keys 'state' and 'param_groups'")
        saved_type = _plain(state_dict.get("type", name))
        if saved_type != name:
            raise ValueError(f"{where}: expected the state dict of a {name}, "
                             f"got one of a {saved_type}")
        groups = state_dict["param_groups"]
        if len(groups) != 1:
            raise ValueError(f"{where}: expected 1 parameter group, got {len(groups)}")
        group = dict(groups[0])
        n_saved = len(group.pop("params", ()))
        if n_saved != len(self.params):
            raise ValueError(f"{where}: expected a state dict for {len(self.params)} parameters, "
                             f"got one for {n_saved}")
        h = {k: _plain(v) for k, v in group.items()}
        expected = self._hyperparameters().keys()
        if h.keys() != expected:
            raise ValueError(f"{where}: expected hyperparameters {sorted(expected)}, "
                             f"got {sorted(h)}")
        self._validate(**h)
        names = set(self._state_names(**h))
        state = [{} for _ in self.params]
        for key, entry in state_dict["state"].items():
            i = int(key)  # JSON turns integer keys into strings
            if not 0 <= i < len(self.params):
                raise ValueError(f"{where}: expected state for parameter indices 0..."
                                 f"{len(self.params) - 1}, got index {i}")
            if entry and set(entry) != names:
                raise ValueError(f"{where}: expected state {sorted(names)} for parameter {i}, "
                                 f"got {sorted(entry)}")
            for k, value in entry.items():
                state[i][k] = self._load_value(where, i, k, value, self.params[i].data)
        self.state = state
        self.param_groups[0].update(h)

    @staticmethod
    def _load_value(where, i, k, value, w):
        """One saved state value checked against parameter ``i`` and copied; 'step' is a count."""
        value = np.asarray(value)
        if value.dtype.kind not in "fiu":
            raise TypeError(f"{where}: expected numbers for state {k!r} of parameter {i}, "
                            f"got dtype {value.dtype}")
        if k == "step":
            if value.shape != () or value < 0 or value != np.floor(value):
                raise ValueError(f"{where}: expected a step count for parameter {i}, got {value}")
            return int(value)
        if value.shape != w.shape:
            raise ValueError(f"{where}: expected state {k!r} of parameter {i} of shape "
                             f"{w.shape}, got {value.shape}")
        return np.array(value, dtype=w.dtype)

    def __repr__(self):
        h = ", ".join(f"{k}={v}" for k, v in self._hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {h})"
