"""Checkpoints: a model's weights, an optimiser's state and JSON metadata in one ``.npz`` file.

Layout of the file (a zip of ``.npy`` members, nothing else):

  param/<name>          one array per parameter, named as in ``model.named_parameters()``
  optim/<i>/<key>       the optimiser's per-parameter state (i = parameter index, as torch)
  extra/<name>          any further arrays the caller passes (``arrays=``), e.g. best weights
  __meta__              uint8 array: UTF-8 JSON with the model's class name and config, the
                        optimiser's type and hyperparameters, and the caller's metadata

Two promises:
  * Loading never runs code. Files are read with ``np.load(..., allow_pickle=False)``; a file
    holding pickled (object) arrays is refused with a ``CheckpointError``.
  * Saving is atomic. The file is written under a temporary name in the same directory,
    flushed to disk (fsync), then renamed over the target (``os.replace``), so a crash
    mid-write leaves the previous checkpoint whole.

RNG states (``get_rng_state`` / ``set_rng_state``) are plain JSON, so they travel in the
metadata; together with the weights, the optimiser state and the epoch they make a resumed
run bit-identical to an uninterrupted one (see ``minirnn.train.fit(checkpoint=, resume=)``).
"""
import json
import os
import zipfile
import zlib

import numpy as np

from .._io import atomic_write
from .rng_state import check_rng_state, get_rng_state, set_rng_state  # noqa: F401 (API)

FORMAT = "minirnn-checkpoint"
VERSION = 1
_META = "__meta__"


class CheckpointError(ValueError):
    """A file that is not a readable, safe minirnn checkpoint, or one that does not fit."""


# ---- JSON ----------------------------------------------------------------------------------

def _json_default(obj):
    """numpy scalars and arrays as plain Python values (json calls this for unknown types)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _to_json(value, what):
    try:
        return json.dumps(value, default=_json_default)
    except (TypeError, ValueError) as e:
        raise TypeError(f"checkpoint: {what} must be JSON serialisable (numbers, strings, "
                        f"lists, dicts, numpy scalars/arrays): {e}") from None


def _model_config(model):
    """The model's constructor arguments if it exposes them (``get_config()`` or ``config``)."""
    get_config = getattr(model, "get_config", None)
    if callable(get_config):
        return get_config()
    config = getattr(model, "config", None)
    return config if isinstance(config, dict) else None


# ---- saving --------------------------------------------------------------------------------

def save(path, model=None, optimizer=None, *, arrays=None, **meta):
    """Write ``model``'s weights, ``optimizer``'s state and ``meta`` to ``path`` atomically.

    path      : file name, used as given (no ``.npz`` is appended)
    model     : a Module, or None to save only metadata
    optimizer : a minirnn.optim optimiser, or None
    arrays    : optional dict name -> ndarray of further arrays (read back as ``'arrays'``)
    meta      : JSON-serialisable keyword arguments (epoch, history, rng state, ...);
                numpy scalars and arrays are turned into numbers and lists
    Returns ``path``.
    """
    members, header = {}, {"format": FORMAT, "version": VERSION, "meta": meta}
    if model is not None:
        header["model_class"] = type(model).__name__
        header["model_config"] = _model_config(model)
        for name, p in model.named_parameters():
            members["param/" + name] = p.data
    if optimizer is not None:
        sd = optimizer.state_dict()
        kinds = {}                 # which state values were Python ints/floats, not arrays
        for i, entry in sd["state"].items():
            for key, value in entry.items():
                members[f"optim/{int(i)}/{key}"] = np.asarray(value)
                if not isinstance(value, np.ndarray):
                    kinds[f"{int(i)}/{key}"] = type(value).__name__
        header["optimizer"] = {"type": sd.get("type", type(optimizer).__name__),
                               "param_groups": sd["param_groups"], "scalars": kinds}
    for name, value in (arrays or {}).items():
        value = np.asarray(value)
        if value.dtype.hasobject:
            raise TypeError(f"checkpoint: array {name!r} has dtype object, which would need "
                            f"pickle; only numeric arrays can be saved")
        members["extra/" + name] = value
    text = _to_json(header, "the metadata")
    members[_META] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with atomic_write(path, "wb") as f:       # a temporary file, renamed over path at the end
        np.savez(f, **members)
    return path


def load(path, model=None, optimizer=None, *, strict=True):
    """Read a checkpoint; copy its weights into ``model`` and its state into ``optimizer``.

    path      : a file written by ``save``
    model     : a Module to load the weights into, or None
    optimizer : an optimiser to load the state into, or None
    strict    : True -> the model's class name, config (when both sides have one), parameter
                names and shapes must all match; False -> only shapes of shared names must
    Returns a dict:
      'meta'            : the keyword arguments given to ``save``
      'model_class'     : class name of the saved model (None if none was saved)
      'model_config'    : its config (``get_config()`` / ``config``), or None
      'model_state'     : name -> ndarray, the saved weights
      'optimizer_state' : the optimiser's ``state_dict()`` as saved, or None
      'arrays'          : name -> ndarray, the ``arrays=`` given to ``save``
    Raises FileNotFoundError for a missing file; CheckpointError (a ValueError) naming the
    file when it is truncated, corrupt, not a minirnn checkpoint or holds pickled data;
    ValueError naming what differs when the model or optimiser does not fit. Nothing is
    changed unless everything fits.
    """
    path = os.fspath(path)
    header, members = _read(path)
    params = {k[len("param/"):]: v for k, v in members.items() if k.startswith("param/")}
    extra = {k[len("extra/"):]: v for k, v in members.items() if k.startswith("extra/")}
    try:
        opt_state = _optimizer_state(header.get("optimizer"), members)
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"cannot load checkpoint {path!r}: malformed optimiser state "
                              f"({type(e).__name__}: {e})") from None
    if model is not None:
        _check_model(path, header, params, model, strict)
    if optimizer is not None:
        if opt_state is None:
            raise ValueError(f"checkpoint {path!r} holds no optimiser state to load into "
                             f"{type(optimizer).__name__}")
        try:
            optimizer.load_state_dict(opt_state)  # checks everything before changing anything
        except (ValueError, TypeError) as e:
            raise ValueError(f"checkpoint {path!r} does not fit the optimiser: {e}") from None
    if model is not None:
        model.load_state_dict(params, strict=False)   # checked above
    return {"meta": header.get("meta", {}), "model_class": header.get("model_class"),
            "model_config": header.get("model_config"), "model_state": params,
            "optimizer_state": opt_state, "arrays": extra}


def _read(path):
    """(header dict, {member name: ndarray}) from ``path``, or a CheckpointError."""
    def fail(why):
        return CheckpointError(f"cannot load checkpoint {path!r}: {why}")

    if not os.path.exists(path):
        raise FileNotFoundError(f"cannot load checkpoint {path!r}: no such file")
    if not zipfile.is_zipfile(path):
        raise fail("not a .npz (zip) file -- truncated, corrupt, or another format")
    members = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for name in npz.files:
                try:
                    value = npz[name]
                except ValueError as e:
                    if "allow_pickle" in str(e) or "pickle" in str(e).lower():
                        raise fail(f"member {name!r} holds pickled Python objects; refusing to "
                                   f"unpickle (loading a checkpoint never runs code)") from None
                    raise
                if not isinstance(value, np.ndarray) or value.dtype.hasobject:
                    raise fail(f"member {name!r} is not a plain numeric array")
                members[name] = value
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as e:
        raise fail(f"the file is truncated or corrupt ({type(e).__name__}: {e})") from None
    if _META not in members:
        raise fail(f"no {_META!r} member; not a minirnn checkpoint")
    try:
        header = json.loads(members.pop(_META).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise fail(f"unreadable metadata ({e})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise fail("not a minirnn checkpoint (wrong format tag)")
    if header.get("version", 0) > VERSION:
        raise fail(f"written by a newer minirnn (format version {header['version']}, "
                   f"this one reads up to {VERSION})")
    return header, members


def _optimizer_state(saved, members):
    """The optimiser's state_dict rebuilt from the header and the optim/ members."""
    if saved is None:
        return None
    state = {}
    for name, value in members.items():
        if not name.startswith("optim/"):
            continue
        i, key = name[len("optim/"):].split("/", 1)
        kind = saved.get("scalars", {}).get(f"{i}/{key}")
        if kind == "int":
            value = int(value)
        elif kind == "float":
            value = float(value)
        state.setdefault(int(i), {})[key] = value
    return {"type": saved["type"], "state": dict(sorted(state.items())),
            "param_groups": saved["param_groups"]}


def _check_model(path, header, params, model, strict):
    """Raise ValueError naming every difference between the checkpoint and ``model``."""
    where = f"checkpoint {path!r} does not fit {type(model).__name__}"
    saved_class = header.get("model_class")
    if saved_class is None:
        raise ValueError(f"{where}: it holds no model weights")
    problems = []
    if strict and saved_class != type(model).__name__:
        problems.append(f"it was saved from a {saved_class}")
    saved_config, config = header.get("model_config"), _model_config(model)
    if strict and saved_config is not None and config is not None:
        config = json.loads(_to_json(config, "the model config"))   # tuples -> lists, as saved
        diff = sorted(k for k in set(saved_config) | set(config)
                      if saved_config.get(k) != config.get(k))
        if diff:
            problems.append("config differs in " + ", ".join(
                f"{k}: saved {saved_config.get(k)!r}, model {config.get(k)!r}" for k in diff))
    own = {name: p for name, p in model.named_parameters()}
    missing = [k for k in own if k not in params]
    unexpected = [k for k in params if k not in own]
    if strict and missing:
        problems.append(f"missing parameters {missing}")
    if strict and unexpected:
        problems.append(f"unexpected parameters {unexpected}")
    shapes = [f"{k}: saved {params[k].shape}, model {own[k].data.shape}"
              for k in own if k in params and params[k].shape != own[k].data.shape]
    if shapes:
        problems.append("shapes differ for " + "; ".join(shapes))
    kinds = [f"{k}: {params[k].dtype}" for k in own if k in params
             and params[k].dtype.kind not in "fiub"]       # as load_state_dict requires
    if kinds:
        problems.append("not numbers: " + "; ".join(kinds))
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
