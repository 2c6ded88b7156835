"""Softmax cross-entropy: forward and backward.

Shapes: N examples, C classes; logits z (N, C), integer targets y (N,).
  (1) log p = z − max(z) − log Σ_c exp(z_c − max(z))   log-softmax, stable for huge logits
  (2) ℓ_n = −log p[n, y_n]                             per example (0 where y_n is ignored)
  (3) loss = Σ_n ℓ_n / (number of examples not ignored)   ('mean'; 'sum' drops the division)
Backward, the classic result of differentiating (1)-(2) together:
  (2') dℓ_n/dz_n = p_n − onehot(y_n)                    (0 for ignored examples)
  (3') scaled by the upstream gradient, divided by the count for 'mean'
"""
import numpy as np


def log_softmax(z):
    """Row-wise log-softmax of z (N, C), subtracting each row's max first (1)."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy_forward(z, y, ignore_index=-100, reduction="mean"):
    """Loss (a float, or (N,) losses for reduction 'none') and the cache for backward."""
    logp = log_softmax(z)                                          # (1)
    keep = y != ignore_index                                       # (N,) bool
    rows = np.arange(len(y))
    losses = np.where(keep, -logp[rows, np.where(keep, y, 0)], 0)  # (2)
    count = int(keep.sum())
    if reduction == "none":
        loss = losses
    elif reduction == "sum":
        loss = float(losses.sum())
    else:  # mean over the examples that count; 0/0 = nan when all are ignored, as torch
        loss = float(losses.sum() / count) if count else float("nan")
    return loss, (logp, y, keep, count, reduction)


def cross_entropy_backward(grad, cache):
    """dloss/dz (N, C), given the upstream gradient (a scalar, or (N,) for 'none')."""
    logp, y, keep, count, reduction = cache
    dz = np.exp(logp)                                              # p
    rows = np.nonzero(keep)[0]
    dz[rows, y[rows]] -= 1                                         # (2') p − onehot(y)
    dz[~keep] = 0
    if reduction == "none":
        dz *= np.asarray(grad, dtype=dz.dtype).reshape(-1, 1)       # (3')
    else:
        dz *= grad / count if (reduction == "mean" and count) else grad
    return dz
