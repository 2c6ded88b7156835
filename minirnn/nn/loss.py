"""Cross-entropy loss over logits, as torch.nn.CrossEntropyLoss (math: functional/loss.py)."""
import numpy as np

from ..functional.loss import cross_entropy_backward, cross_entropy_forward
from . import _checks
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


class CrossEntropyLoss(Module):
    """Softmax cross-entropy between logits (N, C) and integer targets (N,), as torch.

    reduction       : 'mean' (over the targets that count), 'sum', or 'none' (one loss per
                      example, an (N,) array)
    ignore_index    : targets equal to it (an int) contribute nothing and get no gradient;
                      'mean' divides by the number of the others (NaN when every target is
                      ignored, as torch)
    label_smoothing : ε in [0, 1]: the target distribution is (1 − ε) onehot(y) + ε / C
    ``loss = crit(logits, target)`` is a Python float (an (N,) array for reduction='none');
    ``crit.backward(grad=1.0)`` returns the gradient of the logits (N, C). Logits need N >= 1
    and C >= 1. Equations: ``minirnn/functional/loss.py``.
    """

    def __init__(self, reduction="mean", ignore_index=-100, label_smoothing=0.0):
        super().__init__()
        if not (isinstance(reduction, str) and reduction in _REDUCTIONS):
            raise ValueError(f"CrossEntropyLoss: expected reduction in {list(_REDUCTIONS)}, "
                             f"got {reduction!r}")
        self.reduction = reduction
        self.ignore_index = _checks.integer(ignore_index, "ignore_index", "CrossEntropyLoss")
        self.label_smoothing = _checks.real(label_smoothing, "label_smoothing",
                                            "CrossEntropyLoss", low=0, high=1)

    def extra_repr(self):
        s = f"reduction={self.reduction!r}"
        return s + (f", label_smoothing={self.label_smoothing}" if self.label_smoothing else "")

    def forward(self, logits, target):
        logits = _checks.float_array(logits, None, "logits", "CrossEntropyLoss")
        target = _checks.int_array(target, "target", "CrossEntropyLoss")
        if logits.ndim != 2 or 0 in logits.shape:
            raise ValueError(f"CrossEntropyLoss: expected logits of shape (N, C) with at least "
                             f"one example and one class, got {logits.shape}")
        N, C = logits.shape
        _checks.shape_is(target, (N,), "target", "CrossEntropyLoss")
        counted = target[target != self.ignore_index]
        _checks.in_range(counted, C, "targets", "CrossEntropyLoss",
                         f" (or ignore_index {self.ignore_index})")
        # the cache keeps the targets: a copy, so editing the caller's array cannot reach dz
        loss, cache = cross_entropy_forward(logits, _checks.owned(target), self.ignore_index,
                                            self.reduction, self.label_smoothing)
        self._push(cache)
        return loss

    def backward(self, grad=1.0):
        """grad: a number ((N,) numbers for reduction='none'), finite -> dloss/dlogits (N, C)."""
        cache = self._peek()
        shape = (len(cache[1]),) if self.reduction == "none" else ()
        what = f"{shape} for reduction='none'" if shape else "() (a number)"
        g = _checks.as_array(grad, "grad", "CrossEntropyLoss.backward")
        if g.dtype.kind not in "fiu":
            raise TypeError(f"CrossEntropyLoss.backward: expected grad to be numbers of shape "
                            f"{what}, got dtype {g.dtype}")
        if g.shape != shape:
            raise ValueError(f"CrossEntropyLoss.backward: expected grad of shape {what}, got "
                             f"{g.shape}")
        if not np.isfinite(g).all():
            raise ValueError(f"CrossEntropyLoss.backward: expected a finite grad, got "
                             f"{g.size - np.isfinite(g).sum()} NaN or inf values")
        self._pop()
        return cross_entropy_backward(g if shape else float(g), cache)
