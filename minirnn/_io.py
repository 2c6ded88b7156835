"""Atomic file writes: a reader sees the old file or the new one, never half of one."""
import contextlib
import os
import secrets


@contextlib.contextmanager
def atomic_write(path, mode="w", **open_kwargs):
    """``with atomic_write(path) as f: ...`` writes a temporary file in the same folder and
    renames it over ``path`` only when the block succeeds: a crash or an exception leaves the
    previous file whole and no temporary file behind. The new file gets the permissions an
    ordinary ``open`` would give it."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = _new_temporary(folder, os.path.basename(path))
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


def _new_temporary(folder, name):
    """(fd, path) of a new, uniquely named file in ``folder``. Created with mode 0o666 like
    any ``open``, so the kernel applies the umask (mkstemp's files are private, and reading
    the umask in Python means setting it, which races with other threads)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


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
