"""Minibatches from any dataset: ``DataLoader`` and the ``collate`` that pads sequences.

A dataset is anything with ``__len__`` and ``__getitem__(i) -> tuple`` of fields, e.g.
``(sequence_ids, label)`` or ``(seq, target_seq)``. What a batch of N items becomes, field by field:

  every item's field is a scalar            -> 1-D array (N,)
  sequences of one length L (shape (L, ...)) -> stacked array (N, L, ...)
  sequences of different lengths            -> padded batch-first array (N, L_max, ...), filled
                                               with ``pad_value`` past each sequence's end

The loader yields a plain tuple of arrays, one per field, in field order; when the dataset has
variable-length fields it appends one more, ``lengths`` (N,) int64, e.g. ``(x, y, lengths)``.
"""
import numpy as np

from .._config import resolve_rng


def collate(items, pad_value=0, pad_fields=None):
    """Stack N items (tuples with the same number of fields) into a tuple of arrays.

    items      : list of N tuples; field j of every item is a scalar or an array (L_i, ...)
    pad_value  : fills padded positions
    pad_fields : indices of the fields to pad (and report lengths for) even when this batch
                 happens to have equal lengths; None -> those whose lengths differ here.
    returns    : one array per field (see the module docstring), then ``lengths`` (N,) int64
                 if any field was padded. Padded fields must agree on each item's length.
    """
    if len(items) == 0:
        raise ValueError("expected at least one item to collate, got none")
    num_fields = _num_fields(items[0])
    for item in items:
        if _num_fields(item) != num_fields:
            raise ValueError(f"expected every item to have {num_fields} fields, "
                             f"got one with {_num_fields(item)}")
    pad_fields = set() if pad_fields is None else set(pad_fields)
    out, lengths = [], None
    for j in range(num_fields):
        column = [_field_array(item[j], j, n) for n, item in enumerate(items)]
        ndims = {a.ndim for a in column}
        if ndims == {0}:
            out.append(np.array(column))
            continue
        if 0 in ndims:
            raise ValueError(f"field {j} mixes scalars and sequences; expected every item's "
                             f"field {j} to be a scalar, or every one a sequence")
        _check_trailing_shapes(column, j)
        field_lengths = np.array([len(a) for a in column], dtype=np.int64)
        if j not in pad_fields and np.all(field_lengths == field_lengths[0]):
            out.append(np.stack(column))
            continue
        if lengths is not None and not np.array_equal(lengths, field_lengths):
            # One lengths array must describe every padded field; otherwise it would lie.
            raise ValueError(f"padded field {j} has per-item lengths {field_lengths.tolist()} "
                             f"but an earlier padded field has {lengths.tolist()}; "
                             f"pass a collate_fn for such data")
        lengths = field_lengths
        out.append(_pad(column, pad_value, j))
    if lengths is not None:
        out.append(lengths)
    return tuple(out)


def _check_int(name, value, minimum):
    """TypeError unless ``value`` is an int (not a bool); ValueError if it is below minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"expected {name} to be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"expected {name} >= {minimum}, got {value}")


def _num_fields(item):
    if not isinstance(item, (tuple, list)):
        raise TypeError(f"expected a dataset item to be a tuple of fields, "
                        f"got {type(item).__name__}")
    return len(item)


def _field_array(value, j, n):
    """Field ``j`` of item ``n`` as a numeric (bool, int, float or complex) array; ValueError
    naming the item for ragged nested lists, strings or other objects."""
    try:
        a = np.asarray(value)
    except (ValueError, TypeError) as e:
        raise ValueError(f"field {j} of item {n}: expected a number or a rectangular array "
                         f"of numbers, got {type(value).__name__} that NumPy cannot make one "
                         f"array of ({e})") from None
    if a.dtype.kind not in "biufc":
        raise ValueError(f"field {j} of item {n}: expected numbers (bool, int, float), got "
                         f"{type(value).__name__} of dtype {a.dtype}")
    return a


def _check_trailing_shapes(column, j):
    """Sequences stack or pad along their first axis only: the other axes must agree."""
    rests = {a.shape[1:] for a in column}
    if len(rests) > 1:
        raise ValueError(f"field {j}: expected sequences that agree in every axis but the "
                         f"first, got trailing shapes {sorted(rests)}")


def _pad(column, pad_value, j):
    """Arrays (L_i, *rest) -> one array (N, L_max, *rest), pad_value past each end."""
    L_max = max(len(a) for a in column)
    dtype = np.result_type(*column)
    batch = np.full((len(column), L_max) + column[0].shape[1:], pad_value, dtype=dtype)
    for n, a in enumerate(column):
        batch[n, :len(a)] = a
    return batch


class DataLoader:
    """Iterate over a dataset in minibatches of NumPy arrays.

    dataset    : has ``__len__`` and ``__getitem__(i) -> tuple of fields``
    batch_size : int >= 1, items per batch (the last batch may be smaller unless drop_last)
    shuffle    : draw a new permutation of the items for every epoch (every ``iter``)
    drop_last  : skip a final batch smaller than batch_size
    rng        : None -> minirnn's global generator (looked up at each epoch, so
                 ``minirnn.manual_seed`` takes effect), an int seed or a numpy Generator.
                 Same seed -> same batches, epoch after epoch.
    pad_value  : fill value for padded sequences
    collate_fn : replaces ``collate``; called with the list of items of each batch

    Each batch is ``collate``'s tuple: one array per field, plus ``lengths`` (N,) last when
    the dataset has variable-length fields. Which fields are variable is decided once for the
    whole dataset (one pass over it, at the first epoch), so every batch has the same
    structure even when a batch happens to hold sequences of equal length.
    """

    def __init__(self, dataset, batch_size, shuffle=False, drop_last=False, rng=None, *,
                 pad_value=0, collate_fn=None):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"expected a dataset with __len__ and __getitem__, "
                            f"got {type(dataset).__name__}")
        _check_int("batch_size", batch_size, 1)
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError("expected collate_fn to be callable")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.pad_value = pad_value
        self.collate_fn = collate_fn
        # An int seed becomes one generator now, so later epochs get fresh permutations
        # while the whole run stays reproducible. None is looked up at every epoch.
        self._rng = None if rng is None else resolve_rng(rng)
        self._pad_fields = None

    def __len__(self):
        """Number of batches per epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = resolve_rng(self._rng).permutation(n)
        else:
            order = np.arange(n)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            items = [self.dataset[int(i)] for i in idx]
            if self.collate_fn is not None:
                yield self.collate_fn(items)
            else:
                yield collate(items, self.pad_value, self._variable_fields())

    def _variable_fields(self):
        """Indices of the fields whose length varies anywhere in the dataset (cached)."""
        if self._pad_fields is None:
            first_length, variable = {}, set()
            for i in range(len(self.dataset)):
                item = self.dataset[i]
                _num_fields(item)
                for j, field in enumerate(item):
                    shape = _field_array(field, j, i).shape
                    if len(shape) == 0:
                        continue
                    if first_length.setdefault(j, shape[0]) != shape[0]:
                        variable.add(j)
            self._pad_fields = variable
        return self._pad_fields
