"""How many threads OpenBLAS (NumPy's matrix-product library) may use.

Recurrent layers multiply small matrices thousands of times. A multithreaded BLAS gains
little on such sizes, and when another process is busy on the same cores its threads wait
for one another: the same product can take 10x longer. Measured on 2 cores: x (1600, 10) @
(10, 80) takes 28 us on one thread and 180 us on two when idle; a DigitSum training epoch
(LSTM 32, batch 8) took 0.09 s on one thread and 2 s on two while another process ran.
``blas_threads(n)`` runs a block with OpenBLAS on n threads and restores the previous number.
It does nothing where OpenBLAS cannot be found (another BLAS, another OS) or where the user
chose a count with OPENBLAS_NUM_THREADS or OMP_NUM_THREADS.
"""
import ctypes
import os

_BLAS = []


def _openblas():
    """(set_num_threads, get_num_threads) of the OpenBLAS this process loaded, or None; also
    None where the user set OPENBLAS_NUM_THREADS or OMP_NUM_THREADS (OpenBLAS reads them once,
    when it loads). Looked up on the first call only."""
    if _BLAS:
        return _BLAS[0]
    found = None
    if os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS"):
        _BLAS.append(None)
        return None
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()
                            and line.split()[-1].startswith("/")})
        for path in paths:
            lib = ctypes.CDLL(path)
            for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                                   ("openblas", "64_"), ("openblas", "")):
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    found = (setter, getter)
                    break
            if found:
                break
    except (OSError, AttributeError):
        found = None
    _BLAS.append(found)
    return found


class blas_threads:
    """``with blas_threads(n):`` runs the body with OpenBLAS on ``n`` threads, then restores
    the previous number. Does nothing where OpenBLAS cannot be found or the user set a thread
    count. (A class rather than a generator: recurrent layers enter it twice per batch, and
    this costs a few microseconds less each time.)"""

    def __init__(self, n=1):
        self.n = n
        self.old = None

    def __enter__(self):
        blas = _openblas()
        if blas is not None:
            setter, getter = blas
            self.old = getter()
            setter(self.n)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            _openblas()[0](self.old)
            self.old = None
        return False
