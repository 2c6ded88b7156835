"""Additive attention for every decoder step at once: minirnn/textbook/attention.py, vectorised.

The textbook runs its step T times, one query q_t each. When all T queries are known up
front (the decoder's outputs under teacher forcing), every equation is the same for each t,
so the steps stack along a new axis: scores (N, T, S), weights (N, T, S), z (N, T, S, A).
Two rearrangements make it fast and leave the numbers as they are:

* the keys' projection (1) p_s = W_k k_s is made once, not once per step;
* (1') dk_s = Σ_t da_ts W_k = (Σ_t da_ts) W_k, and dW_k likewise: the textbook sums the
  per-step products over t; the engine sums da over t first, then multiplies once.

Signatures and results are those of the textbook's attention_sequence_forward / _backward.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class AttentionCache:
    queries: np.ndarray           # (N, T, H)
    keys: np.ndarray              # (N, S, H)
    values: np.ndarray            # (N, S, H)
    z: np.ndarray                 # (N, T, S, A)
    weights: np.ndarray           # (N, T, S)
    W_q: np.ndarray
    W_k: np.ndarray
    v: np.ndarray


def attention_sequence_forward(queries, keys, values, W_q, W_k, v, mask=None):
    """queries (N, T, H), keys (N, S, H), values (N, S, H), W_q (A, H), W_k (A, H), v (A,),
    mask (N, S) of 0/1 or None -> contexts (N, T, H), weights (N, T, S), AttentionCache."""
    p = keys @ W_k.T                                       # (1) once for all t: (N, S, A)
    z = (queries @ W_q.T)[:, :, None, :] + p[:, None]      # (2) (N, T, S, A)
    np.tanh(z, out=z)
    e = z @ v                                              # (3) (N, T, S)
    if mask is not None:
        e[np.broadcast_to(mask[:, None, :] <= 0, e.shape)] = -np.inf   # (4) padding -> 0
    e -= e.max(axis=2, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=2, keepdims=True)                      # (4) e now holds α
    contexts = e @ values                                  # (5) Σ_s α_ts u_s: (N, T, H)
    return contexts, e, AttentionCache(queries, keys, values, z, e, W_q, W_k, v)


def attention_sequence_backward(dcontexts, dweights, cache):
    """dcontexts (N, T, H), dweights (N, T, S) or None -> dqueries (N, T, H), dkeys (N, S, H),
    dvalues (N, S, H), grads {W_q (A, H), W_k (A, H), v (A,)}, each summed over t."""
    a, z = cache.weights, cache.z
    N, T, S, A = z.shape
    dalpha = dcontexts @ cache.values.transpose(0, 2, 1)   # (5') (N, T, S)
    if dweights is not None:
        dalpha += dweights
    dvalues = a.transpose(0, 2, 1) @ dcontexts             # (5') Σ_t α_ts dc_t: (N, S, H)
    de = a * (dalpha - (a * dalpha).sum(axis=2, keepdims=True))    # (4')
    dv = de.reshape(-1) @ z.reshape(-1, A)                 # (3')
    da = (1 - z * z) * (de[..., None] * cache.v)           # (3')(2') (N, T, S, A)
    da_q = da.sum(axis=2)                                  # (2') Σ_s: (N, T, A)
    da_k = da.sum(axis=1)                                  # (1') Σ_t first: (N, S, A)
    H = cache.queries.shape[-1]
    grads = {"W_q": da_q.reshape(-1, A).T @ cache.queries.reshape(-1, H),     # (2')
             "W_k": da_k.reshape(-1, A).T @ cache.keys.reshape(-1, H),        # (1')
             "v": dv}
    return da_q @ cache.W_q, da_k @ cache.W_k, dvalues, grads                 # (2') (1')
