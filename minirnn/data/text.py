"""Character corpora for language models: a vocabulary, encode/decode and the two classic
minibatch samplers (as in Dive into Deep Learning's ``seq_data_iter_random`` and
``seq_data_iter_sequential``).

Shapes: T corpus length in characters, N batch size, S num_steps. Both samplers yield
``(X, Y)``, int64 arrays (N, S), with ``Y[n, s]`` the character that follows ``X[n, s]`` in the
corpus -- the next-character targets.
"""
import os

import numpy as np

from .._config import resolve_rng
from .._io import read_text
from .loader import _check_int


class CharCorpus:
    """A text as character ids, with its character vocabulary.

    text    : str, any Unicode (Chinese included), not empty
    unknown : the character that stands for anything outside the vocabulary; it has id 0
    vocab   : optional sequence of characters to reuse (e.g. a training corpus's ``chars``)
              instead of building one from ``text``; characters of ``text`` missing from it
              encode as the unknown id

    chars      : list of characters, ``chars[i]`` is id i: ``unknown``, then the distinct
                 characters of the text in sorted (code point) order -- deterministic
    vocab_size : len(chars)
    ids        : (T,) int64, the encoded text
    """

    def __init__(self, text, unknown="\ufffd", vocab=None):
        if not isinstance(text, str):
            raise TypeError(f"expected text to be a str, got {type(text).__name__}")
        if not text:
            raise ValueError("expected a non-empty text, got ''")
        if not (isinstance(unknown, str) and len(unknown) == 1):
            raise ValueError(f"expected unknown to be a single character, got {unknown!r}")
        chars = sorted(set(text) if vocab is None else set(vocab))
        self.chars = [unknown] + [c for c in chars if c != unknown]
        self.unknown = unknown
        self.unk_id = 0
        self._index = {c: i for i, c in enumerate(self.chars)}
        self.text = text
        self.ids = self.encode(text)

    @property
    def vocab_size(self):
        return len(self.chars)

    def __len__(self):
        return len(self.ids)

    def encode(self, s):
        """str of length L -> (L,) int64 ids; characters outside the vocabulary -> unk_id."""
        return np.array([self._index.get(c, self.unk_id) for c in s], dtype=np.int64)

    def decode(self, ids):
        """ids, any int sequence -> str; an id outside [0, vocab_size) raises IndexError."""
        ids = np.asarray(ids)
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"expected integer ids, got dtype {ids.dtype}")
        bad = (ids < 0) | (ids >= self.vocab_size)
        if np.any(bad):
            raise IndexError(f"id {ids[bad].flat[0]} outside [0, {self.vocab_size})")
        return "".join(self.chars[i] for i in ids.ravel())

    @classmethod
    def from_file(cls, path, unknown="\ufffd", max_chars=None):
        """Read a UTF-8 text file (a leading byte-order mark is dropped, not a character of
        the text); a missing path, a folder, a FIFO, an empty or non-UTF-8 file raises an
        error naming the file and what was expected. ``max_chars``: keep only the first
        that many characters, reading no more of the file than they can take."""
        what = "a UTF-8 text file"
        if max_chars is not None:
            _check_int("max_chars", max_chars, 1)
            max_chars = int(max_chars)
        # a character takes at most 4 bytes; 3 more for a byte-order mark, 3 for a cut one
        max_bytes = None if max_chars is None else 4 * max_chars + 6
        # universal newlines, as open() in text mode: '\r\n' and '\r' read as '\n'
        text = read_text(path, what, max_bytes).replace("\r\n", "\n").replace("\r", "\n")
        if not text:
            raise ValueError(f"{os.fspath(path)}: empty file, expected {what} with some text")
        return cls(text[:max_chars], unknown)

    def split(self, fraction=0.9):
        """(train, held_out): the first ``fraction`` of the characters and the rest, both
        sharing this corpus's vocabulary (so ids mean the same in both)."""
        if not 0 < fraction < 1:
            raise ValueError(f"expected fraction in (0, 1), got {fraction}")
        cut = int(round(len(self.text) * fraction))
        if cut == 0 or cut == len(self.text):
            raise ValueError(f"fraction {fraction} of {len(self.text)} characters "
                             f"leaves one part empty")
        return tuple(CharCorpus(t, self.unknown, vocab=self.chars)
                     for t in (self.text[:cut], self.text[cut:]))

    def random_batches(self, batch_size, num_steps, rng=None):
        """Random sampling: yields (X, Y), each (batch_size, num_steps) int64.

        The corpus is cut at a random offset in [0, num_steps) into non-overlapping windows
        of num_steps; the windows come in random order, so neighbouring batches are
        unrelated and the hidden state should be reset for every batch.
        """
        self._check_batching(batch_size, num_steps)
        rng = resolve_rng(rng)
        offset = int(rng.integers(num_steps))
        num_windows = (len(self.ids) - offset - 1) // num_steps   # -1: Y needs one more
        starts = offset + num_steps * rng.permutation(num_windows)
        return self._random_gen(starts, batch_size, num_steps)

    def _random_gen(self, starts, batch_size, num_steps):
        steps = np.arange(num_steps)
        for b in range(len(starts) // batch_size):
            index = starts[b * batch_size:(b + 1) * batch_size, None] + steps   # (N, S)
            yield self.ids[index], self.ids[index + 1]

    def sequential_batches(self, batch_size, num_steps, rng=None):
        """Sequential partitioning: yields (X, Y), each (batch_size, num_steps) int64.

        After a random offset in [0, num_steps) the corpus is cut into batch_size equal
        streams, one per row; batch i+1 row n continues exactly where batch i row n ended,
        so the hidden state may be carried from batch to batch (detached for truncated BPTT).
        """
        self._check_batching(batch_size, num_steps)
        offset = int(resolve_rng(rng).integers(num_steps))
        num_tokens = (len(self.ids) - offset - 1) // batch_size * batch_size
        Xs = self.ids[offset:offset + num_tokens].reshape(batch_size, -1)          # (N, T')
        Ys = self.ids[offset + 1:offset + 1 + num_tokens].reshape(batch_size, -1)  # (N, T')
        return self._sequential_gen(Xs, Ys, num_steps)

    @staticmethod
    def _sequential_gen(Xs, Ys, num_steps):
        for b in range(Xs.shape[1] // num_steps):
            yield Xs[:, b * num_steps:(b + 1) * num_steps], Ys[:, b * num_steps:(b + 1) * num_steps]

    def _check_batching(self, batch_size, num_steps):
        _check_int("batch_size", batch_size, 1)
        _check_int("num_steps", num_steps, 1)
        # Even with the largest offset (num_steps - 1) one full batch must fit.
        needed = batch_size * num_steps + num_steps
        if len(self.ids) < needed:
            raise ValueError(f"corpus of {len(self.ids)} characters is too short for "
                             f"batch_size={batch_size}, num_steps={num_steps} "
                             f"(needs at least {needed})")


def default_corpus(max_chars=None, unknown="\ufffd"):
    """An offline corpus from what ships with Python: the help texts of ``pydoc_data.topics``.

    The ``topics`` dict (keyword and topic name -> help text, the pages ``help('if')`` shows)
    is joined in sorted key order with a blank line between texts, so the result is the same
    on every run of one Python version (about 465,000 characters, mostly ASCII English with
    code, on Python 3.11; other versions ship slightly different texts).

    max_chars : None, or an int >= 2 to keep only the first max_chars characters
    returns   : CharCorpus
    """
    from pydoc_data.topics import topics   # stdlib; imported here so importing minirnn stays fast

    text = "\n\n".join(topics[key].strip() for key in sorted(topics)) + "\n"
    if max_chars is not None:
        _check_int("max_chars", max_chars, 2)
        text = text[:max_chars]
    return CharCorpus(text, unknown)
