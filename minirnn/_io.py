"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The new file is written under a temporary name beside the target,

    .<target name>.<pid>@<host>.<random hex>.tmp     (<host>: name and, on Linux, PID namespace)

flushed to disk and renamed over the target. A writer killed mid-write (``kill -9``, power
loss) cannot remove its temporary file, so the name records who wrote it: the next write of
the same target on the same host removes every such file whose process no longer exists.
A live writer's file is never touched (its PID answers), nor one from another host (whose
processes cannot be asked), nor any other file. Where processes cannot be probed safely
(not POSIX) nothing is removed.
"""
import codecs
import contextlib
import functools
import hashlib
import os
import re
import secrets
import socket
import stat


@contextlib.contextmanager
def atomic_write(path, mode="w", **open_kwargs):
    """``with atomic_write(path) as f: ...`` writes a temporary file in the same folder and
    renames it over ``path`` only when the block succeeds: a crash or an exception leaves the
    previous file whole and no temporary file behind (a killed process leaves one, which the
    next write of ``path`` removes; see the module docstring). The new file gets the
    permissions an ordinary ``open`` would give it."""
    path = os.fspath(path)
    if os.path.isdir(path):       # refused before writing, not by os.replace at the end
        raise IsADirectoryError(f"{path}: is a folder, expected the path of a file to write")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    name = os.path.basename(path)
    remove_stale_temporaries(folder, name)
    fd, tmp = _new_temporary(folder, name)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_directory(folder)      # make the rename itself durable (POSIX; skipped elsewhere)


@functools.lru_cache(maxsize=None)
def _host():
    """Who can probe this process's PID, as it goes into temporary names (letters, digits,
    '-'): the host name, and on Linux the PID namespace, since containers that share a host
    name and a folder do not see each other's processes."""
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:63] or "host"
    try:
        return f"{host}-{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return host


def _stem(name):
    """The target's part of its temporary names; long names are hashed, so the temporary
    name stays within the file system's 255-byte limit."""
    raw = name.encode("utf-8", "surrogateescape")
    return name if len(raw) <= 150 else name[:40] + "~" + hashlib.sha256(raw).hexdigest()[:16]


def _new_temporary(folder, name):
    """(fd, path) of a new, uniquely named file in ``folder``. Created with mode 0o666 like
    any ``open``, so the kernel applies the umask (mkstemp's files are private, and reading
    the umask in Python means setting it, which races with other threads)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{_stem(name)}.{os.getpid()}@{_host()}."
                                   f"{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def remove_stale_temporaries(folder, name):
    """Remove the temporary files of target ``name`` in ``folder`` left by writers on this
    host whose process no longer exists; returns the paths removed. Never raises for a file
    that cannot be listed or removed (another cleaner may have got there first)."""
    if os.name != "posix":          # os.kill(pid, 0) would terminate the process on Windows
        return []
    pattern = re.compile(re.escape(f".{_stem(name)}.") + r"([0-9]{1,10})@"
                         + re.escape(_host()) + r"\.[0-9a-f]{12}\.tmp")
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for entry in entries:
        match = pattern.fullmatch(entry)
        if match is None or _alive(int(match.group(1))):
            continue
        stale = os.path.join(folder, entry)
        with contextlib.suppress(OSError):
            os.remove(stale)
            removed.append(stale)
    return removed


def _alive(pid):
    """True unless process ``pid`` certainly does not exist on this host."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)              # signal 0: no signal sent, only the existence check
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True                  # another user's process, or unknowable: keep its file
    return True


def _fsync_directory(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def open_regular_file(path, what):
    """``path`` opened for reading in binary mode, after checking it is a regular file.
    ``what`` names the expected content in errors: FileNotFoundError for a missing path,
    IsADirectoryError for a folder, ValueError for a FIFO, device or socket, OSError (its
    reason in words) for a symlink loop, a path through a file or a file this process may not
    read. Opened non-blocking and checked again once open, so a FIFO never hangs the reader."""
    name = os.fspath(path)
    try:
        mode = os.stat(name).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{name}: no such file, expected {what}") from None
    except OSError as e:
        raise OSError(f"{name}: cannot reach it ({e.strerror}), expected {what}") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{name}: is a folder, expected {what}")
    not_regular = ValueError(f"{name}: not a regular file (a FIFO, socket or device), "
                             f"expected {what}")
    if not stat.S_ISREG(mode):
        raise not_regular
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise OSError(f"{name}: cannot open it for reading ({e.strerror}), expected "
                      f"{what}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):       # replaced between stat and open
        os.close(fd)
        raise not_regular
    return os.fdopen(fd, "rb")


def read_text(path, what, max_bytes=None):
    """The UTF-8 text of the regular file ``path`` (``open_regular_file``'s checks and
    errors), a leading byte-order mark removed: it marks the encoding and is not part of the
    text. ValueError naming the file for text that is not UTF-8. Line endings are kept.
    ``max_bytes``: read no more than that many bytes (a character cut in two at the end is
    left out), so only the start of a large file is read."""
    with open_regular_file(path, what) as f:
        data = f.read() if max_bytes is None else f.read(max_bytes)
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        return decoder.decode(data, final=max_bytes is None or len(data) < max_bytes)
    except UnicodeDecodeError as e:
        raise ValueError(f"{os.fspath(path)}: not UTF-8 text ({e.reason} at byte {e.start}), "
                         f"expected {what}") from None
