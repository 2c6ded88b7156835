"""Softmax cross-entropy: forward and backward, with torch's label smoothing.

Shapes: N examples, C classes; logits z (N, C), integer targets y (N,); ε = label_smoothing.
  (1) log p = z − max(z) − log Σ_c exp(z_c − max(z))   log-softmax, stable for huge logits
  (2) ℓ_n = −(1 − ε) log p[n, y_n] − (ε / C) Σ_c log p[n, c]
      the target is (1 − ε) onehot(y_n) + ε / C; ε = 0 gives plain −log p[n, y_n]
      (ℓ_n = 0 where y_n is ignored)
  (3) loss = Σ_n ℓ_n / (number of examples not ignored)   ('mean'; 'sum' drops the division)
Backward, the classic result of differentiating (1)-(2) together (Σ_c of the target is 1):
  (2') dℓ_n/dz_n = p_n − ((1 − ε) onehot(y_n) + ε / C)   (0 for ignored examples)
  (3') scaled by the upstream gradient, divided by the count for 'mean'
"""
import numpy as np


def log_softmax(x, axis=-1):
    """log softmax(x) along ``axis``, subtracting the max first so huge values cannot
    overflow (1). x: an array of any shape."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """softmax(x) = exp(x) / Σ exp(x) along ``axis``, as exp(log_softmax): stable for any x."""
    return np.exp(log_softmax(x, axis))


def cross_entropy_forward(z, y, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Loss (a float, or (N,) losses for reduction 'none') and the cache for backward."""
    logp = log_softmax(z, axis=1)                                  # (1)
    keep = y != ignore_index                                       # (N,) bool
    rows = np.arange(len(y))
    nll = -logp[rows, np.where(keep, y, 0)]
    if label_smoothing:                                            # (2)
        C = z.shape[1]
        nll = (1 - label_smoothing) * nll - (label_smoothing / C) * logp.sum(axis=1)
    losses = np.where(keep, nll, 0)                                # (2)
    count = int(keep.sum())
    if reduction == "none":
        loss = losses
    elif reduction == "sum":
        loss = float(losses.sum())
    else:  # mean over the examples that count; 0/0 = nan when all are ignored, as torch
        loss = float(losses.sum() / count) if count else float("nan")
    return loss, (logp, y, keep, count, reduction, label_smoothing)


def cross_entropy_backward(grad, cache):
    """dloss/dz (N, C), given the upstream gradient (a scalar, or (N,) for 'none')."""
    logp, y, keep, count, reduction, eps = cache
    dz = np.exp(logp)                                              # p
    rows = np.nonzero(keep)[0]
    if eps:
        dz -= eps / logp.shape[1]                                  # (2') p − ε / C ...
    dz[rows, y[rows]] -= 1 - eps                                   # (2') ... − (1 − ε) onehot(y)
    dz[~keep] = 0
    if reduction == "none":
        dz *= np.asarray(grad, dtype=dz.dtype).reshape(-1, 1)       # (3')
    else:
        dz *= grad / count if (reduction == "mean" and count) else grad
    return dz
