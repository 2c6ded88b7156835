"""Cross-entropy loss over logits, as torch.nn.CrossEntropyLoss (math: functional/loss.py)."""
import numpy as np

from ..functional.loss import cross_entropy_backward, cross_entropy_forward
from . import _checks
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


class CrossEntropyLoss(Module):
    """Softmax cross-entropy between logits (N, C) and integer targets (N,).

    ``loss = crit(logits, target)`` is a Python float (an (N,) array for reduction='none');
    ``crit.backward(grad=1.0)`` returns the gradient of the logits (N, C). Targets equal to
    ``ignore_index`` contribute nothing; 'mean' divides by the number of the others.
    """

    def __init__(self, reduction="mean", ignore_index=-100):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"expected reduction in {list(_REDUCTIONS)}, got {reduction!r}")
        self.reduction = reduction
        self.ignore_index = int(ignore_index)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"

    def forward(self, logits, target):
        logits = np.asarray(logits)
        if logits.dtype.kind != "f":
            raise TypeError(f"CrossEntropyLoss: expected float logits, got dtype {logits.dtype}")
        target = _checks.int_array(target, "target", "CrossEntropyLoss")
        if logits.ndim != 2:
            raise ValueError(f"CrossEntropyLoss: expected logits of shape (N, C), got "
                             f"{logits.shape}")
        N, C = logits.shape
        _checks.shape_is(target, (N,), "target", "CrossEntropyLoss")
        counted = target[target != self.ignore_index]
        _checks.in_range(counted, C, "targets", "CrossEntropyLoss",
                         f" (or ignore_index {self.ignore_index})")
        loss, cache = cross_entropy_forward(logits, target, self.ignore_index, self.reduction)
        self._push(cache)
        return loss

    def backward(self, grad=1.0):
        cache = self._peek()
        if self.reduction == "none":
            N = len(cache[1])
            grad = np.asarray(grad, dtype=float)
            if grad.shape != (N,):
                raise ValueError(f"CrossEntropyLoss.backward: expected grad of shape ({N},) "
                                 f"for reduction='none', got {grad.shape}")
        elif np.ndim(grad) != 0:
            raise ValueError(f"CrossEntropyLoss.backward: expected a scalar grad, got shape "
                             f"{np.shape(grad)}")
        self._pop()
        return cross_entropy_backward(grad, cache)
