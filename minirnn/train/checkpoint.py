"""Checkpoints: a model's weights, an optimiser's state and JSON metadata in one ``.npz`` file.

Layout of the file (a zip of ``.npy`` members, nothing else):

  param/<name>          one array per parameter, named as in ``model.named_parameters()``
  optim/<i>/<key>       the optimiser's per-parameter state (i = parameter index, as torch)
  extra/<name>          any further arrays the caller passes (``arrays=``), e.g. best weights
  __meta__              uint8 array: UTF-8 JSON with the model's class name and config, the
                        optimiser's type and hyperparameters, and the caller's metadata

Two promises:
  * Loading never runs code and never allocates more than the file can hold. Each member's
    .npy header is checked (a plain numeric dtype, a shape whose bytes the member holds)
    before its data is read; object (pickled) arrays are refused, and every field of the
    metadata is checked by type and range. Anything wrong is a ``CheckpointError``.
  * Saving is atomic. The file is written under a temporary name in the same directory,
    flushed to disk (fsync), then renamed over the target (``os.replace``), so a crash
    mid-write leaves the previous checkpoint whole.

RNG states (``get_rng_state`` / ``set_rng_state``) are plain JSON, so they travel in the
metadata; together with the weights, the optimiser state and the epoch they make a resumed
run bit-identical to an uninterrupted one (see ``minirnn.train.fit(checkpoint=, resume=)``).
"""
import json
import math
import os
import re
import struct
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npformat

from .._io import atomic_write, open_regular_file
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
        problem = _dtype_problem(value.dtype)
        if problem:
            raise TypeError(f"checkpoint: array {name!r} {problem}; only numeric and bool "
                            f"arrays can be saved")
        members["extra/" + name] = value
    text = _to_json(header, "the metadata")

    def refuse(why):
        return ValueError(f"checkpoint.save: {why} (load would refuse such a file)")

    _check_header(json.loads(text), refuse)      # the reader's own checks: what save writes,
    _check_members(json.loads(text), members, refuse)              # load can read back
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
    file and what was expected when it is not a regular readable file, is truncated, corrupt,
    not a minirnn checkpoint, holds pickled data or any field of the wrong type or range;
    ValueError naming what differs when the model or optimiser does not fit. Nothing is
    changed unless everything fits.
    """
    path = os.fspath(path)
    header, members = _read(path)
    params = {k[len("param/"):]: v for k, v in members.items() if k.startswith("param/")}
    extra = {k[len("extra/"):]: v for k, v in members.items() if k.startswith("extra/")}
    opt_state = _optimizer_state(header.get("optimizer"), members)
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
    return {"meta": header["meta"], "model_class": header.get("model_class"),
            "model_config": header.get("model_config"), "model_state": params,
            "optimizer_state": opt_state, "arrays": extra}


# ---- reading: everything in the file is checked before it is used ---------------------------
#
# A checkpoint is data from outside. The reader never unpickles, and it never allocates more
# than the file can hold: each member's .npy header is read and checked (plain numeric dtype,
# shape x itemsize equal to the bytes the member holds) before its data is read, and the zip's
# own sizes are checked against the file's size first (zip bombs).

# Deflate cannot compress more than about 1032:1, so a larger ratio is a crafted size.
MAX_DEFLATE_RATIO = 1100
_NPY_READERS = {(1, 0): npformat.read_array_header_1_0, (2, 0): npformat.read_array_header_2_0}
# What a damaged zip or .npy makes zipfile, zlib and numpy.lib.format raise.
_CORRUPT = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
            struct.error, NotImplementedError, OverflowError, SyntaxError, RecursionError)
_HEADER_KEYS = {"format", "version", "meta", "model_class", "model_config", "optimizer"}
_OPTIM_MEMBER = re.compile(r"optim/(0|[1-9][0-9]{0,8})/([^/]+)")


def _read(path):
    """(header dict, {member name: ndarray}) from ``path``, or a CheckpointError."""
    def fail(why):
        return CheckpointError(f"cannot load checkpoint {path!r}: {why}")

    with _open_regular_file(path, fail) as f:
        size = os.fstat(f.fileno()).st_size
        try:
            archive = zipfile.ZipFile(f)
        except _CORRUPT:
            raise fail("not a .npz (zip) file -- truncated, corrupt, or another format") from None
        with archive:
            infos = _check_zip_entries(archive.infolist(), size, fail)
            members = {}
            for name, info in infos.items():
                try:
                    members[name] = _read_member(archive, info, name, fail)
                except CheckpointError:
                    raise
                except _CORRUPT as e:
                    raise fail(f"the file is truncated or corrupt (member {name!r}: "
                               f"{type(e).__name__}: {e})") from None
    if _META not in members:
        raise fail(f"no {_META!r} member; not a minirnn checkpoint")
    header = _parse_header(members.pop(_META), fail)
    _check_members(header, members, fail)
    return header, members


def _open_regular_file(path, fail):
    """The open binary file at ``path`` (``minirnn._io.open_regular_file``): FileNotFoundError
    if there is none, CheckpointError for a folder, FIFO, device, socket, symlink loop or
    unreadable path."""
    try:
        return open_regular_file(path, "a checkpoint file")
    except FileNotFoundError:
        raise FileNotFoundError(f"cannot load checkpoint {path!r}: no such file") from None
    except (OSError, ValueError) as e:
        raise fail(str(e)[len(path) + 2:]) from None      # the message without "<path>: "


def _check_zip_entries(infos, size, fail):
    """{member name without '.npy': ZipInfo}, after checking every entry's name, method and
    sizes against the file's ``size``: together the members cannot claim more bytes than the
    file holds (stored) or deflate could expand them to."""
    entries, total = {}, 0
    for info in infos:
        name = info.filename
        if not name.endswith(".npy") or len(name) == 4:
            raise fail(f"member {name!r} is not a .npy array; expected only arrays")
        key = name[:-4]
        if key in entries:
            raise fail(f"member {name!r} appears twice")
        if info.flag_bits & 0x1:
            raise fail(f"member {name!r} is encrypted")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                raise fail(f"member {name!r} is stored uncompressed but declares "
                           f"{info.file_size} bytes in {info.compress_size}")
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > MAX_DEFLATE_RATIO * info.compress_size + 1024:
                raise fail(f"member {name!r} declares {info.file_size} bytes from "
                           f"{info.compress_size} compressed, more than deflate can expand "
                           f"(a zip bomb?)")
        else:
            raise fail(f"member {name!r} uses zip compression method {info.compress_type}; "
                       f"expected stored or deflate")
        total += info.compress_size
        entries[key] = info
    if total > size:
        raise fail(f"its members claim {total} bytes but the file has only {size}")
    return entries


def _read_member(archive, info, name, fail):
    """One member's array, its .npy header checked before any of its data is read."""
    with archive.open(info) as f:
        try:
            version = npformat.read_magic(f)
        except ValueError as e:
            raise fail(f"member {name!r} is not a .npy array ({e})") from None
        reader = _NPY_READERS.get(version)
        if reader is None:
            raise fail(f"member {name!r} is .npy format version {version[0]}.{version[1]}; "
                       f"expected 1.0 or 2.0")
        try:
            shape, fortran_order, dtype = reader(f)
        except _CORRUPT + (TypeError, KeyError) as e:
            reason = " ".join(str(e).split())[:200]          # numpy's may span lines
            raise fail(f"member {name!r} has an unreadable .npy header ({type(e).__name__}: "
                       f"{reason})") from None
        problem = _dtype_problem(dtype)
        if problem:
            raise fail(f"member {name!r} {problem}; expected a plain numeric or bool dtype"
                       + (" (loading a checkpoint never runs code)" if dtype.hasobject else ""))
        if not all(isinstance(n, int) and n >= 0 for n in shape):
            raise fail(f"member {name!r} declares shape {shape}; expected non-negative sizes")
        count = math.prod(shape)
        held = info.file_size - f.tell()
        if count * dtype.itemsize != held:
            raise fail(f"member {name!r} declares shape {shape} of {dtype} "
                       f"({count * dtype.itemsize} bytes) but holds {held} bytes of data")
        data = _read_exactly(f, held)
    order = "F" if fortran_order else "C"
    return np.frombuffer(data, dtype=dtype, count=count).reshape(shape, order=order)


def _read_exactly(f, size, chunk=1 << 20):
    """``size`` bytes of ``f`` in a writable buffer, read in chunks (one copy of the data in
    memory, not two); EOFError if the member ends early."""
    data = bytearray(size)
    view, done = memoryview(data), 0
    while done < size:
        got = f.readinto(view[done:done + chunk])
        if not got:
            raise EOFError(f"the member ends after {done} of {size} bytes")
        done += got
    return data


def _dtype_problem(dtype):
    """'' for a plain numeric or bool dtype (what save writes and load reads), else what it is."""
    if dtype.hasobject:
        return f"holds Python objects (dtype {dtype}), which would need pickle"
    if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "biufc":
        return f"has dtype {dtype}"
    return ""


def _parse_header(meta, fail):
    """The ``__meta__`` member's JSON, checked field by field (``_check_header``)."""
    if meta.dtype != np.uint8 or meta.ndim != 1:
        raise fail(f"member {_META!r} is {meta.dtype} of shape {meta.shape}; expected "
                   f"1-D uint8 (UTF-8 JSON)")
    try:
        header = json.loads(meta.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise fail(f"unreadable metadata ({type(e).__name__}: {e})") from None
    _check_header(header, fail)
    return header


def _check_header(header, fail):
    """Raise CheckpointError unless every field of the header has the type and range ``save``
    writes: format tag, version, meta dict, model class and config, optimiser entry."""
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise fail("not a minirnn checkpoint (wrong format tag)")
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise fail(f"expected 'version' to be an integer >= 1, got {_describe(version)}")
    if version > VERSION:
        raise fail(f"written by a newer minirnn (format version {version}, this one reads "
                   f"up to {VERSION})")
    unknown = sorted(set(header) - _HEADER_KEYS)
    if unknown:
        raise fail(f"unexpected metadata fields {unknown}; expected only "
                   f"{sorted(_HEADER_KEYS)}")
    if not isinstance(header.get("meta"), dict):
        raise fail(f"expected 'meta' to be a dict (save's keyword arguments), got "
                   f"{_describe(header.get('meta'))}")
    if "model_class" in header and not (isinstance(header["model_class"], str)
                                        and header["model_class"]):
        raise fail(f"expected 'model_class' to be a class name, got "
                   f"{_describe(header['model_class'])}")
    if "model_config" in header and "model_class" not in header:
        raise fail("it has a 'model_config' but no 'model_class'")
    if not isinstance(header.get("model_config"), (dict, type(None))):
        raise fail(f"expected 'model_config' to be a dict or null, got "
                   f"{_describe(header['model_config'])}")
    if header.get("optimizer") is not None:
        _check_optimizer_header(header["optimizer"], fail)


def _check_optimizer_header(saved, fail):
    """The header's 'optimizer' entry: {'type': str, 'param_groups': [group], 'scalars':
    {'<i>/<key>': 'int' | 'float'}}, each group a dict of hyperparameters and 'params'."""
    if not isinstance(saved, dict) or set(saved) != {"type", "param_groups", "scalars"}:
        raise fail(f"expected 'optimizer' to be a dict with keys 'type', 'param_groups' and "
                   f"'scalars', got {_describe(saved)}")
    if not isinstance(saved["type"], str) or not saved["type"]:
        raise fail(f"expected optimizer 'type' to be a class name, got "
                   f"{_describe(saved['type'])}")
    groups = saved["param_groups"]
    if not isinstance(groups, list) or not groups:
        raise fail(f"expected optimizer 'param_groups' to be a non-empty list, got "
                   f"{_describe(groups)}")
    for k, group in enumerate(groups):
        where = f"optimizer param_groups[{k}]"
        if not isinstance(group, dict) or "params" not in group:
            raise fail(f"expected {where} to be a dict with 'params', got {_describe(group)}")
        indices = group["params"]
        if not isinstance(indices, list) or not all(_is_index(i) for i in indices) \
                or len(set(indices)) != len(indices):
            raise fail(f"expected {where} 'params' to be a list of distinct parameter "
                       f"indices, got {_describe(indices)}")
        for key, value in group.items():
            if key != "params" and not _is_hyperparameter(value):
                raise fail(f"expected {where} {key!r} to be a number, bool, string, null or "
                           f"list of numbers, got {_describe(value)}")
    scalars = saved["scalars"]
    if not isinstance(scalars, dict) or not all(v in ("int", "float") for v in scalars.values()):
        raise fail(f"expected optimizer 'scalars' to map '<index>/<key>' to 'int' or "
                   f"'float', got {_describe(scalars)}")


def _check_members(header, members, fail):
    """Member names against the header: param/ members need a model, optim/<i>/<key> members
    an optimiser entry (canonical index, a key), and each 'scalars' entry names a 0-d
    member of that kind."""
    saved = header.get("optimizer")
    for name in members:
        kind = name.split("/", 1)[0]
        if name.count("/") == 0 or name.endswith("/") or kind not in ("param", "optim", "extra"):
            raise fail(f"unexpected member {name + '.npy'!r}; expected param/<name>, "
                       f"optim/<index>/<key>, extra/<name> or {_META}")
        if kind == "param" and "model_class" not in header:
            raise fail(f"member {name!r} holds weights but no 'model_class' is recorded")
        if kind == "optim":
            if not _OPTIM_MEMBER.fullmatch(name):
                raise fail(f"malformed member name {name!r}; expected optim/<index>/<key> "
                           f"with a decimal index")
            if saved is None:
                raise fail(f"member {name!r} holds optimiser state but no 'optimizer' "
                           f"entry is recorded")
    for key, kind in (saved or {}).get("scalars", {}).items():
        value = members.get(f"optim/{key}")
        if value is None or not _OPTIM_MEMBER.fullmatch(f"optim/{key}"):
            raise fail(f"optimizer 'scalars' names {key!r}, which is not an optim/ member")
        allowed = "iu" if kind == "int" else "fiu"
        if value.shape != () or value.dtype.kind not in allowed:
            raise fail(f"member 'optim/{key}' is {value.dtype} of shape {value.shape}; "
                       f"expected a single {kind}, as 'scalars' records")


def _is_index(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hyperparameter(value):
    if isinstance(value, list):
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def _describe(value):
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _optimizer_state(saved, members):
    """The optimiser's state_dict rebuilt from the (checked) header and optim/ members."""
    if saved is None:
        return None
    state = {}
    for name, value in members.items():
        match = _OPTIM_MEMBER.fullmatch(name)
        if match is None:
            continue
        i, key = match.groups()
        kind = saved["scalars"].get(f"{i}/{key}")
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
