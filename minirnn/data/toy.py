"""Two toy tasks small enough to follow by hand: "hello" -> "ohlol" and English -> Spanish words."""
import functools

import numpy as np

from .._config import resolve_dtype
from .loader import collate


class HelloOhlol:
    """Map the characters of "hello" to those of "ohlol", one output per input step.

    Vocabulary (sorted): e=0, h=1, l=2, o=3.
    x_ids    : (5,) int64, "hello" = [1, 0, 2, 2, 3]
    y_ids    : (5,) int64, "ohlol" = [3, 1, 2, 3, 2]
    x_onehot : (5, 4) float (``dtype``, default minirnn's), row t is one_hot(x_ids[t])
    As a dataset it holds the single example ``(x_onehot, y_ids)``.
    """

    chars = ("e", "h", "l", "o")
    source, target = "hello", "ohlol"
    vocab_size = 4

    def __init__(self, dtype=None):
        self.x_ids = self.encode(self.source)
        self.y_ids = self.encode(self.target)
        self.x_onehot = np.eye(self.vocab_size, dtype=resolve_dtype(dtype))[self.x_ids]

    def encode(self, s):
        """str over {e, h, l, o} -> (len(s),) int64 ids."""
        unknown = set(s) - set(self.chars)
        if unknown:
            raise ValueError(f"expected characters from {self.chars}, got {sorted(unknown)}")
        return np.array([self.chars.index(c) for c in s], dtype=np.int64)

    def decode(self, ids):
        """int ids in 0..3 -> str; other ids raise IndexError."""
        return "".join(self.chars[_check_id(i, self.vocab_size)] for i in np.asarray(ids).ravel())

    def __len__(self):
        return 1

    def __getitem__(self, i):
        if i not in (0, -1):
            raise IndexError(f"HelloOhlol holds one example, got index {i}")
        return self.x_onehot, self.y_ids


PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
DEFAULT_PAIRS = (("hello", "hola"), ("cat", "gato"), ("good", "bueno"))


class _PairArrays:
    """What every translation data set shares: the five padded id arrays of its pairs, items,
    and encoding and decoding with its ``source_vocab`` and ``target_vocab`` (ids 0, 1, 2 are
    <pad>, <bos>, <eos>). A subclass sets ``pairs`` and the vocabularies, then ``_lay_out``."""

    pad_id, bos_id, eos_id = 0, 1, 2

    def _lay_out(self, sources, targets):
        src = [self.encode_source(s) for s in sources]
        tgt = [self.encode_target(t) for t in targets]
        self.source_ids, self.source_lengths = _pad(src)
        self.decoder_input_ids, self.target_lengths = _pad([np.r_[self.bos_id, t] for t in tgt])
        self.decoder_target_ids, _ = _pad([np.r_[t, self.eos_id] for t in tgt])

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, i):
        return (self.source_ids[i], self.source_lengths[i], self.decoder_input_ids[i],
                self.decoder_target_ids[i], self.target_lengths[i])

    def encode_source(self, s):
        """str -> (len(s),) int64 ids (no <bos>/<eos>)."""
        return _encode(self.source_vocab, s, "source")

    def encode_target(self, s):
        """str -> (len(s),) int64 ids (no <bos>/<eos>)."""
        return _encode(self.target_vocab, s, "target")

    def decode_source(self, ids):
        """ids -> str, stopping at the first <eos> and skipping <pad> and <bos>."""
        return _decode(self.source_vocab, ids)

    def decode_target(self, ids):
        """ids -> str, stopping at the first <eos> and skipping <pad> and <bos>."""
        return _decode(self.target_vocab, ids)


class TranslationPairs(_PairArrays):
    """Character-level source -> target word pairs for an encoder–decoder.

    pairs        : sequence of (source str, target str), both non-empty
    shared_vocab : one vocabulary for both sides (default) or one per side
    Vocabularies: '<pad>'=0, '<bos>'=1, '<eos>'=2, then the characters in sorted order.

    With P pairs, S the longest source and T the longest target:
    source_ids         : (P, S) int64, padded with 0
    source_lengths     : (P,) int64
    decoder_input_ids  : (P, T+1) int64, <bos> + target, padded (teacher forcing input)
    decoder_target_ids : (P, T+1) int64, target + <eos>, padded (what the decoder predicts)
    target_lengths     : (P,) int64, len(target) + 1 (the <eos> counts)
    Item i is the tuple of row i of those five arrays, so a DataLoader can batch it.
    """

    def __init__(self, pairs=DEFAULT_PAIRS, shared_vocab=True):
        pairs = [tuple(p) for p in pairs]
        if not pairs:
            raise ValueError("expected at least one (source, target) pair")
        for p in pairs:
            if len(p) != 2 or not all(isinstance(w, str) and w for w in p):
                raise ValueError(f"expected a pair of non-empty strings, got {p!r}")
        self.pairs = pairs
        sources, targets = zip(*pairs)
        if shared_vocab:
            self.source_vocab = self.target_vocab = _vocab(sources + targets)
        else:
            self.source_vocab, self.target_vocab = _vocab(sources), _vocab(targets)
        self._lay_out(sources, targets)


def _vocab(words):
    return [PAD, BOS, EOS] + sorted(set("".join(words)))


@functools.lru_cache(maxsize=16)
def _index(vocab):
    """{character: id} of a vocabulary (a tuple), made once per vocabulary."""
    return {c: i for i, c in enumerate(vocab)}


def _encode(vocab, s, side):
    index = _index(tuple(vocab))
    missing = sorted(set(s) - set(index))
    if missing:
        raise ValueError(f"characters {missing} are not in the {side} vocabulary")
    return np.array([index[c] for c in s], dtype=np.int64)


def _decode(vocab, ids):
    ids = np.asarray(ids)
    if ids.size and ids.dtype.kind not in "iu":     # 4.9 must not silently become id 4
        raise TypeError(f"expected integer ids, got dtype {ids.dtype}")
    out = []
    for i in ids.ravel():
        token = vocab[_check_id(i, len(vocab))]
        if token == EOS:
            break
        if token not in (PAD, BOS):
            out.append(token)
    return "".join(out)


def _check_id(i, size):
    """int(i), or IndexError when outside [0, size) (negatives would index from the end)."""
    if not 0 <= int(i) < size:
        raise IndexError(f"id {int(i)} outside [0, {size})")
    return int(i)


def _pad(seqs):
    """list of (L_i,) int arrays -> (P, L_max) padded with 0, and the lengths (P,)."""
    return collate([(s,) for s in seqs], pad_fields=[0])
