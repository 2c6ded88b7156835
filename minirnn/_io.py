"""Atomic file writes: a reader sees the old file or the new one, never half of one."""
import contextlib
import os
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path, mode="w", **open_kwargs):
    """``with atomic_write(path) as f: ...`` writes a temporary file in the same folder and
    renames it over ``path`` only when the block succeeds: a crash or an exception leaves the
    previous file whole and no temporary file behind. The new file gets the permissions an
    ordinary ``open`` would give it (mkstemp's are private)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_directory(folder)      # make the rename itself durable (POSIX; skipped elsewhere)


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
