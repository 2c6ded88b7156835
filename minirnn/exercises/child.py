"""The student's side of the wire: run their code, report what it returned or raised.

``minirnn check FILE`` runs this file as its own Python process (``python child.py``), so a
student's endless loop, ``exit()``, crash or stray global cannot stop or fool the checker: the
checker's process keeps the clock, the answers and the verdict, and only sends this process
arrays to compute with. The notebook path (``check_functions``) uses the same encoding in its
own process, so both paths see the same things.

Only the standard library and NumPy are imported here, never minirnn (the checker's numbers
stay out of the student's reach). The wire: frames of a 4-byte length, a JSON header, then the
raw bytes of the arrays the header lists. What comes back is plain: tuples, dicts with string
keys, numeric arrays rebuilt from their bytes (never unpickled); anything else (a cache, a list,
an object array) stays here and goes back as a handle that names its type.
"""
import importlib.util
import inspect
import json
import linecache
import os
import signal
import struct
import sys
import threading
import time
import traceback
import types

import numpy as np

MAX_BYTES = 1 << 26          # a larger array comes back as its shape and dtype only
MAX_DEPTH = 3                # output tuple -> grads dict -> array
NUMERIC = "biufc"            # dtype kinds rebuilt from bytes: bool, ints, floats, complex


class Handle:
    """Something a student's function returned that is not a tuple, dict or numeric array: it
    stays in the process that ran the function; ``type_name`` is what messages call it."""

    def __init__(self, key, type_name):
        self.key, self.type_name = key, type_name

    def __repr__(self):
        return f"<{self.type_name}>"


class Foreign(Handle):
    """An array that is not numbers (strings, objects, records), or too big: its dtype and
    shape, without its data."""

    def __init__(self, key, type_name, dtype, shape):
        super().__init__(key, type_name)
        self.dtype, self.shape = dtype, tuple(shape)


def type_name(value):
    """What a message calls ``value``'s type: 'list', 'float', or a Handle's own."""
    return value.type_name if isinstance(value, Handle) else type(value).__name__


# ---- encoding ------------------------------------------------------------------------------

def encode(value, keep, buffers, depth=0):
    """``value`` as JSON-able data, arrays' bytes appended to ``buffers``; what cannot be sent
    is stored by ``keep(value) -> key`` and sent as a handle."""
    if isinstance(value, Handle):
        return {"h": value.key}
    if type(value) is np.ndarray and value.dtype.kind in NUMERIC and value.dtype.fields is None \
            and value.nbytes <= MAX_BYTES:
        buffers.append(np.ascontiguousarray(value).tobytes())
        return {"a": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.ndarray):
        return {"f": keep(value), "type": _safe_type_name(value), "dtype": str(value.dtype),
                "shape": list(value.shape)}
    if isinstance(value, tuple) and depth < MAX_DEPTH:
        return {"t": [encode(tuple.__getitem__(value, k), keep, buffers, depth + 1)
                      for k in range(tuple.__len__(value))]}
    if isinstance(value, dict) and depth < MAX_DEPTH:
        return {"d": [[k if type(k) is str else _safe_repr(k),
                       encode(v, keep, buffers, depth + 1)] for k, v in dict.items(value)]}
    return {"h": keep(value), "type": _safe_type_name(value)}


def decode(data, buffers, lookup):
    """The inverse of ``encode``: ``buffers`` is an iterator over the arrays' bytes,
    ``lookup(key, data)`` turns a handle into the object (or a Handle) it stands for."""
    if "a" in data:
        dtype, shape = np.dtype(data["a"]), tuple(int(n) for n in data["shape"])
        raw = next(buffers)
        if dtype.kind not in NUMERIC or int(np.prod(shape)) * dtype.itemsize != len(raw):
            raise ValueError("a malformed array on the wire")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if "t" in data:
        return tuple(decode(d, buffers, lookup) for d in data["t"])
    if "d" in data:
        return {str(k): decode(v, buffers, lookup) for k, v in data["d"]}
    return lookup(data)


def _safe_repr(value):
    try:
        return repr(value)[:60]
    except Exception:
        return f"<a {_safe_type_name(value)} key>"


def _safe_type_name(value):
    name = getattr(type(value), "__name__", "object")
    return name if isinstance(name, str) else "object"


def write_frame(stream, message, buffers=()):
    header = json.dumps({"m": message, "b": [len(b) for b in buffers]}).encode("utf-8")
    stream.write(struct.pack("<I", len(header)) + header)
    for b in buffers:
        stream.write(b)
    stream.flush()


def _read_exactly(stream, n):
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(stream):
    """(message, [buffers]) or None at the end of the stream."""
    size = _read_exactly(stream, 4)
    if size is None:
        return None
    header = json.loads(_read_exactly(stream, struct.unpack("<I", size)[0]))
    buffers = [_read_exactly(stream, n) for n in header["b"]]
    return header["m"], buffers


# ---- what the student's code did -----------------------------------------------------------

def where(error, filename):
    """' (line 12: a = x @ W_ih)' for the deepest frame of ``error`` in ``filename``, or ''."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    line = frames[-1].line or linecache.getline(filename, frames[-1].lineno).strip()
    return f" (line {frames[-1].lineno}: {line})"


def raised(error, filename):
    """What the checker needs to know about an exception from the student's code."""
    if isinstance(error, NotImplementedError):
        kind = "not_written"
    elif isinstance(error, SystemExit):
        kind = "exit"
    elif isinstance(error, KeyboardInterrupt):
        kind = "interrupt"
    else:
        kind = "error"
    try:
        message = str(error)[:500]
    except BaseException:
        message = "(its message cannot be printed)"
    code = getattr(error, "code", None) if kind == "exit" else None
    return {"kind": kind, "type": _safe_type_name(error), "message": message,
            "where": where(error, filename), "code": _safe_repr(code),
            "line": _failing_line(error, filename)}


def _failing_line(error, filename):
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    return (frames[-1].line or "") if frames else ""


def describe(namespace, contracts):
    """{name: {"signature": str, "binds": bool}} for each callable named in ``contracts``
    ({name: [argument names]}); ``binds`` says whether it takes those arguments."""
    found = {}
    for name, arguments in contracts.items():
        fn = namespace.get(name)
        if not callable(fn):
            continue
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):          # a builtin without a signature: trust it
            found[name] = {"signature": "(...)", "binds": True}
            continue
        try:
            signature.bind(*arguments)
            binds = True
        except TypeError:
            binds = False
        found[name] = {"signature": str(signature), "binds": binds}
    return found


def compile_file(path):
    """(code, None): the student's file decoded as Python decodes a source file (a UTF-8 BOM
    or a PEP 263 coding cookie, else strict UTF-8) and compiled; or (None, lines) saying why
    it cannot be."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        return None, [f"✗ cannot read {path}: {e.strerror or e}"]
    try:
        return compile(importlib.util.decode_source(source), path, "exec",
                       dont_inherit=True), None
    except SyntaxError as e:
        at = f" (line {e.lineno}: {(e.text or '').strip()[:120]})" if e.lineno else ""
        return None, [f"✗ {name} is not valid Python: {e.msg}{at}",
                      "  fix it so that `python -m py_compile FILE` passes, then check again"]
    except UnicodeDecodeError as e:
        return None, [f"✗ {name} is not valid Python: byte {e.object[e.start:e.start + 1]!r} "
                      f"at offset {e.start} is not {e.encoding} (declare the file's encoding "
                      "in its first line, # -*- coding: latin-1 -*-, or save it as UTF-8)",
                      "  fix it so that `python -m py_compile FILE` passes, then check again"]
    except (ValueError, UnicodeError, LookupError) as e:    # null bytes, a bad cookie
        return None, [f"✗ {name} is not valid Python: {e}",
                      "  fix it so that `python -m py_compile FILE` passes, then check again"]
    except (RecursionError, MemoryError):
        return None, [f"✗ {name} is nested too deeply for Python to compile "
                      "(RecursionError while compiling)",
                      "  split the deepest expression into several lines with names"]


# ---- the process ---------------------------------------------------------------------------

def _serve(inp, out):
    """Answer the checker's requests until it closes the pipe."""
    objects, namespace, filename = {}, {}, ""

    def keep(value):
        objects[len(objects)] = value
        return len(objects) - 1

    def lookup(data):
        return objects[data["h"]]

    while True:
        frame = read_frame(inp)
        if frame is None:
            return
        message, buffers = frame
        op = message["op"]
        if op == "reset":
            objects.clear()
            continue
        if op == "load":
            # as `python FILE` would: the file's folder first, so that it can import its
            # neighbours, then the checker's own path (minirnn, NumPy)
            sys.path[:] = [os.path.dirname(message["path"])] + message["sys_path"]
            filename = message["path"]
            code, stop = compile_file(filename)
            if stop:
                write_frame(out, {"stop": stop})
                continue
            module = types.ModuleType(message["module"])
            module.__file__ = filename
            sys.modules[module.__name__] = module       # dataclasses look their module up
            namespace = module.__dict__
            try:
                exec(code, namespace)
            except BaseException as e:               # noqa: B036 -- exit() is an answer too
                write_frame(out, {"raised": raised(e, filename)})
                continue
            write_frame(out, {"ok": describe(namespace, message["contracts"])})
            continue
        # op == "call"
        fn = namespace[message["name"]]
        args = decode({"t": message["args"]}, iter(buffers), lookup)
        code_file = getattr(getattr(fn, "__code__", None), "co_filename", filename)
        try:
            with np.errstate(all="ignore"):
                result = fn(*args)
        except BaseException as e:                   # noqa: B036
            write_frame(out, {"raised": raised(e, code_file)})
            continue
        sent = []
        try:
            data = encode(result, keep, sent)
        except BaseException as e:                   # noqa: B036 -- a hostile __len__ and such
            write_frame(out, {"raised": raised(e, code_file)})
            continue
        write_frame(out, {"ok": data}, sent)


def _orphan_watch(parent):
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def main():
    # the checker owns Ctrl-C: it stops this process itself and says so
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the protocol keeps the real stdout; what the student prints goes to stderr
    out = os.fdopen(os.dup(1), "wb")
    inp = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)                                # input() gets EOF, it cannot wait
    sys.stdout = sys.stderr
    # if the checker dies without stopping us (kill -9), do not loop on as an orphan
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True).start()
    write_frame(out, {"ready": True})
    _serve(inp, out)


if __name__ == "__main__":
    main()
