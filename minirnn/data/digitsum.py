"""DigitSum: classify a digit sequence by the sum of its first two digits, ignoring noise.

For every pair n1, n2 in 0..9 the base sequence is ``[n1, n2, 0, ..., 0]`` of ``length`` digits
with label n1 + n2 (19 classes, 0..18). Each base yields k examples; in each one position p,
drawn uniformly from [2, length), is set to a digit drawn from 0..9. The digit may be 0, so an
example can equal its base; ``positions`` records which p was drawn. The noise teaches the
network to remember the first two digits across the sequence and ignore the rest.

Text format (``train.txt``, ``dev.txt``, ``test.txt``): one example per line, the digits
separated by spaces, a TAB, then the label, e.g. ``3 4 0 7 0\\t7``.
"""
import os
import re

import numpy as np

from .._config import resolve_rng
from .._io import atomic_write, read_text
from .loader import _check_int

SPLITS = ("train", "dev", "test")
_INT = re.compile(r"[+-]?0*[0-9]{1,3}")     # leading zeros, then a small number


class DigitSum:
    """One split of the DigitSum task: 100·k examples of ``length`` digits.

    length, k : ints, length >= 3 (two summed digits and at least one noise position), k >= 1
    split     : 'train', 'dev' or 'test'; each split has its own seed derived from ``rng``
    rng       : None (global generator), an int seed or a numpy Generator. With an int seed the
                three splits are reproducible and differ from each other; for a Generator use
                ``DigitSum.splits`` so that all three derive from one draw.

    x         : (100·k, length) int64 digits; examples are ordered base by base (n1, then n2)
    y         : (100·k,) int64 labels in 0..18
    positions : (100·k,) int64 augmented position per example, or None when loaded from a file
    num_classes = 19, vocab_size = 10
    """

    num_classes = 19
    vocab_size = 10

    def __init__(self, length, k, split="train", rng=None):
        _check_int("length", length, 3)
        _check_int("k", k, 1)
        if split not in SPLITS:
            raise ValueError(f"expected split in {SPLITS}, got {split!r}")
        seed = int(resolve_rng(rng).integers(2**63))
        # Mixing the split's index into the seed keeps the three splits apart and each
        # one independent of whether the others were ever built.
        gen = np.random.default_rng([seed, SPLITS.index(split)])
        n1, n2 = np.divmod(np.arange(100), 10)                 # base b = 10·n1 + n2
        x = np.zeros((100 * k, length), dtype=np.int64)
        x[:, 0] = np.repeat(n1, k)
        x[:, 1] = np.repeat(n2, k)
        positions = gen.integers(2, length, size=100 * k)
        x[np.arange(100 * k), positions] = gen.integers(0, 10, size=100 * k)
        self._set(x, x[:, 0] + x[:, 1], positions, split, k)

    def _set(self, x, y, positions, split, k):
        self.x, self.y, self.positions = x, y, positions
        self.split, self.k, self.length = split, k, x.shape[1]

    @classmethod
    def splits(cls, length, k, rng=None):
        """(train, dev, test) from one seed: ``rng`` if an int, else one draw from it."""
        if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
            seed = int(rng)
        else:
            seed = int(resolve_rng(rng).integers(2**63))
        return tuple(cls(length, k, split, rng=seed) for split in SPLITS)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        """(digits (length,) int64, label int64)"""
        return self.x[i], self.y[i]

    def save(self, path):
        """Write the text format to ``path`` atomically (a temp file, then os.replace)."""
        lines = [" ".join(map(str, row)) + f"\t{label}\n" for row, label in zip(self.x, self.y)]
        _atomic_write(path, "".join(lines))

    @classmethod
    def from_file(cls, path):
        """Read one split written in the text format; ``split`` is the file stem if it is
        one of train/dev/test, else None; ``positions`` and ``k`` are None.

        Raises ValueError naming the file and line for a malformed line, and for an empty
        file; FileNotFoundError / IsADirectoryError when ``path`` is not a file. A leading
        byte-order mark is dropped.
        """
        name = os.fspath(path)
        text = read_text(name, "a DigitSum split ('digits separated by spaces<TAB>label' "
                               "per line)")
        if not text.strip():
            raise ValueError(f"{name}: empty file, expected one example per line "
                             f"('digits separated by spaces<TAB>label')")
        rows, labels = [], []
        lines = text.split("\n")
        if lines[-1] == "":                    # the newline ending the last line
            lines.pop()
        for lineno, line in enumerate(lines, start=1):
            digits, label = _parse_line(line, f"{name}:{lineno}")
            if rows and len(digits) != len(rows[0]):
                raise ValueError(f"{name}:{lineno}: expected {len(rows[0])} digits "
                                 f"as on line 1, got {len(digits)}")
            rows.append(digits)
            labels.append(label)
        stem = os.path.splitext(os.path.basename(name))[0]
        data = cls.__new__(cls)
        data._set(np.array(rows, dtype=np.int64), np.array(labels, dtype=np.int64), None,
                  stem if stem in SPLITS else None, None)
        return data


def _parse_line(line, where):
    """'d d d ...<TAB>label' -> (list of ints, int); ValueError prefixed with ``where``."""
    fields = line.rstrip("\r").split("\t")
    if len(fields) != 2:
        raise ValueError(f"{where}: expected 2 TAB-separated fields (digits, label), "
                         f"got {len(fields)}: {_short(line)}")
    tokens = fields[0].split()
    if len(tokens) < 3:
        raise ValueError(f"{where}: expected at least 3 digits, got {len(tokens)}")
    digits = []
    for tok in tokens:
        if not _INT.fullmatch(tok):
            raise ValueError(f"{where}: expected a digit 0..9, got {_short(tok)}")
        if not 0 <= int(tok) <= 9:
            raise ValueError(f"{where}: expected a digit 0..9, got {tok} (out of range)")
        digits.append(int(tok))
    label = fields[1].strip()
    if not _INT.fullmatch(label) or not 0 <= int(label) <= 18:
        raise ValueError(f"{where}: expected an integer label in 0..18, got {_short(label)}")
    return digits, int(label)


def _short(text):
    """repr(text), cut to a readable length for an error message."""
    return repr(text) if len(text) <= 40 else repr(text[:37]) + "..."


def save_digitsum(folder, train, dev, test):
    """Write ``train.txt``, ``dev.txt`` and ``test.txt`` into ``folder`` (created if needed)."""
    os.makedirs(folder, exist_ok=True)
    for split, data in zip(SPLITS, (train, dev, test)):
        data.save(os.path.join(folder, f"{split}.txt"))


def load_digitsum(folder):
    """(train, dev, test) read from ``folder``'s ``train.txt``, ``dev.txt``, ``test.txt``.
    The three must hold sequences of one length (a model reads them all); ValueError if not."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{os.fspath(folder)}: no such folder, expected a folder with "
                                f"{', '.join(s + '.txt' for s in SPLITS)}")
    splits = tuple(DigitSum.from_file(os.path.join(folder, f"{s}.txt")) for s in SPLITS)
    lengths = [data.length for data in splits]
    if len(set(lengths)) > 1:
        raise ValueError(f"{os.fspath(folder)}: expected train, dev and test sequences of one "
                         f"length, got {', '.join(f'{s} {n}' for s, n in zip(SPLITS, lengths))}")
    return splits


def _atomic_write(path, text):
    """Readers see the old file or the whole new one, never half of it."""
    with atomic_write(path, encoding="utf-8", newline="\n") as f:
        f.write(text)

