"""Random-generator states as plain JSON, for checkpoints: get, check, set.

A state read back from a file is data from outside, so ``check_rng_state`` validates all of
it before ``set_rng_state`` touches a generator:
  * a bit generator is named by an explicit allow-list of NumPy's own (``BIT_GENERATORS``),
    never looked up by name on a module (``getattr(np.random, name)`` would let a file call
    any function there, e.g. ``np.random.test`` or ``np.random.seed``);
  * each state must have exactly the fields, types and list lengths of a state NumPy itself
    writes for that bit generator, and must survive being set and read back unchanged (so a
    number out of range is refused, not wrapped);
  * the owners must be the generators the model and loaders hold, each pointing at a state.
Every problem is a ``ValueError`` naming the field and what was expected.
"""
import json

import numpy as np

from .. import _config

# name written in a state's "bit_generator" field -> the class that reads it back
BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM,
                  "MT19937": np.random.MT19937, "Philox": np.random.Philox,
                  "SFC64": np.random.SFC64}


def _plain(state):
    """A bit generator's state as JSON data (arrays -> lists), as it is saved."""
    return json.loads(json.dumps(state, default=lambda a: np.asarray(a).tolist()))


def _generators(model, loaders):
    """(name, owner, generator) for every generator a run draws from: modules' ``_rng`` and
    loaders' ``_rng`` (a loader with ``_rng`` None uses the global generator)."""
    found = []
    if model is not None:
        for name, m in _named_modules(model):
            rng = getattr(m, "_rng", None)
            if isinstance(rng, np.random.Generator):
                found.append(("module:" + name, m, rng))
    for k, loader in enumerate(loaders or ()):
        rng = getattr(loader, "_rng", None) if loader is not None else None
        if isinstance(rng, np.random.Generator):
            found.append((f"loader:{k}", loader, rng))
    return found


def _named_modules(model, prefix=""):
    yield prefix, model
    for name, child in model._modules.items():
        yield from _named_modules(child, prefix + name + ".")


def get_rng_state(model=None, loaders=()):
    """The states of the global generator and of every generator ``model``'s modules and the
    ``loaders`` hold, as plain JSON-serialisable data.

    Generators shared between owners (e.g. a module built with ``rng=None`` shares the global
    one) are recorded once, with who shares them, so ``set_rng_state`` rebuilds the sharing.
    """
    generators = [_config._generator]
    index = {id(_config._generator): 0}
    owners = {}
    for name, _, rng in _generators(model, loaders):
        if id(rng) not in index:
            index[id(rng)] = len(generators)
            generators.append(rng)
        owners[name] = index[id(rng)]
    for rng in generators:
        kind = type(rng.bit_generator).__name__
        if BIT_GENERATORS.get(kind) is not type(rng.bit_generator):
            raise TypeError(f"get_rng_state: expected generators on one of NumPy's bit "
                            f"generators {sorted(BIT_GENERATORS)}, got {kind}")
    return {"states": [_plain(rng.bit_generator.state) for rng in generators],
            "owners": owners}


def check_rng_state(state, model=None, loaders=()):
    """Raise ValueError unless ``set_rng_state(state, model, loaders)`` would fit (it changes
    nothing); return the generators found."""
    if not isinstance(state, dict) or set(state) != {"states", "owners"}:
        raise ValueError(f"RNG state: expected a dict with keys 'states' and 'owners', got "
                         f"{_describe(state)}")
    states, owners = state["states"], state["owners"]
    if not isinstance(states, list) or not states:
        raise ValueError(f"RNG state: expected 'states' to be a non-empty list, got "
                         f"{_describe(states)}")
    for k, s in enumerate(states):
        _check_bit_generator_state(s, f"RNG state: states[{k}]")
    if not isinstance(owners, dict):
        raise ValueError(f"RNG state: expected 'owners' to be a dict, got {_describe(owners)}")
    for name, k in owners.items():
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < len(states):
            raise ValueError(f"RNG state: expected owners[{name!r}] to be an index into "
                             f"'states' (0..{len(states) - 1}), got {k!r}")
    found = _generators(model, loaders)
    names = {name for name, _, _ in found}
    if names != set(owners):
        raise ValueError(f"set_rng_state: expected generators for {sorted(owners)}, "
                         f"the model and loaders have {sorted(names)}")
    return found


def _check_bit_generator_state(s, where):
    """Raise ValueError unless ``s`` is a state NumPy's own bit generator would write."""
    kind = s.get("bit_generator") if isinstance(s, dict) else None
    if not isinstance(kind, str) or kind not in BIT_GENERATORS:
        raise ValueError(f"{where}: expected 'bit_generator' to be one of "
                         f"{sorted(BIT_GENERATORS)}, got {_describe(kind)}")
    bit_generator = BIT_GENERATORS[kind](0)
    problem = _differs(_plain(bit_generator.state), s, "")
    if problem:
        raise ValueError(f"{where}: not a {kind} state: {problem}")
    try:
        bit_generator.state = s
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise ValueError(f"{where}: not a valid {kind} state ({e})") from None
    if _plain(bit_generator.state) != s:
        raise ValueError(f"{where}: a {kind} state with numbers out of range (they do not "
                         f"read back unchanged)")


def _differs(template, value, path):
    """'' if ``value`` has the fields, types and list lengths of ``template``, else what differs."""
    here = path or "the state"
    if isinstance(template, dict):
        if not isinstance(value, dict) or set(value) != set(template):
            return f"expected {here} to have the keys {sorted(template)}, got {_describe(value)}"
        for key in template:
            problem = _differs(template[key], value[key], f"{path}.{key}" if path else key)
            if problem:
                return problem
        return ""
    if isinstance(template, list):
        if not isinstance(value, list) or len(value) != len(template):
            return f"expected {here} to be a list of {len(template)} integers, got " \
                   f"{_describe(value)}"
        bad = next((v for v in value if isinstance(v, bool) or not isinstance(v, int)), None)
        return f"expected integers in {here}, got {bad!r}" if bad is not None else ""
    if isinstance(template, str):
        return "" if value == template else f"expected {here} = {template!r}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected {here} to be an integer, got {_describe(value)}"
    return ""


def _describe(value):
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def set_rng_state(state, model=None, loaders=()):
    """Restore what ``get_rng_state`` returned into the global generator, ``model``'s modules
    and ``loaders`` (same model structure and loader order as when it was taken). Checks all
    of it first (``check_rng_state``): on a ValueError nothing has changed."""
    found = check_rng_state(state, model, loaders)
    states, owners = state["states"], state["owners"]
    _config._generator = _restored(_config._generator, states[0])
    made = {0: _config._generator}
    claimed = {id(_config._generator)}
    for name, owner, rng in found:
        k = owners[name]
        if k not in made:
            # In place when this object is not already another saved generator (sharing that
            # no longer holds must not overwrite, e.g., the global one); a new one otherwise.
            made[k] = _restored(None if id(rng) in claimed else rng, states[k])
            claimed.add(id(made[k]))
        owner._rng = made[k]        # plain attribute: generators are not parameters
    return state


def _restored(rng, state):
    """``rng`` set to a checked ``state`` in place, or a new Generator if there is none or its
    bit generator is of another kind."""
    cls = BIT_GENERATORS[state["bit_generator"]]
    if rng is not None and type(rng.bit_generator) is cls:
        rng.bit_generator.state = state
        return rng
    bit_generator = cls(0)
    bit_generator.state = state
    return np.random.Generator(bit_generator)
