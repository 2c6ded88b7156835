"""Additive (Bahdanau) attention: one decoder query looks over every source position.

Notation. N batch, S source positions, H query/key/value features, A attention units.
query q (N, H), keys k_s and values u_s (N, S, H) (here both are the encoder's outputs),
W_q (A, H), W_k (A, H), v (A,); mask m_s (N, S) is 1 at real source steps, 0 at padding.

Forward:
  (1) p_s = W_k k_s                      (N, S, A)   the keys' projection
  (2) z_s = tanh(W_q q + p_s)            (N, S, A)
  (3) e_s = v · z_s                      (N, S)      the score of source position s
  (4) α_s = m_s exp(e_s) / Σ_r m_r exp(e_r)          masked softmax: padding gets weight 0
  (5) c = Σ_s α_s u_s                    (N, H)      the context

Backward, given dc (N, H) and optionally dα (N, S) (a loss on the weights themselves):
  (5') dα_s += dc · u_s;   du_s = α_s dc
  (4') de_s = α_s (dα_s − Σ_r α_r dα_r)               (0 at padding, where α_s = 0)
  (3') dz_s = de_s v;      dv = Σ_n Σ_s de_s z_s
  (2') da_s = dz_s ⊙ (1 − z_s²);   dq = (Σ_s da_s) W_q;   dW_q = Σ_n (Σ_s da_s)ᵀ q
  (1') dk_s = da_s W_k;    dW_k = Σ_n Σ_s da_sᵀ k_s

The softmax subtracts max_s e_s first (the weights do not change; exp cannot overflow).
A decoder calls the step once per output step t with its query q_t; the loop below,
``attention_sequence_forward``, does exactly that, and its backward sums the parameter
gradients and the key and value gradients over t. The engine, minirnn/functional/attention.py,
computes the same numbers for all t at once; tests/test_attention.py checks the two agree.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class AttentionStepCache:
    """What attention_backward needs from one attention_forward (arrays kept, not copied)."""
    query: np.ndarray             # (N, H) q
    keys: np.ndarray              # (N, S, H) k
    values: np.ndarray            # (N, S, H) u
    z: np.ndarray                 # (N, S, A) tanh(W_q q + p)
    weights: np.ndarray           # (N, S) α
    W_q: np.ndarray               # (A, H)
    W_k: np.ndarray               # (A, H)
    v: np.ndarray                 # (A,)


def attention_forward(query, keys, values, W_q, W_k, v, mask=None):
    """One decoder step of additive attention, equations (1)-(5).

    query (N, H), keys (N, S, H), values (N, S, H), W_q (A, H), W_k (A, H), v (A,),
    mask (N, S) of 0/1 or None (every position real).
    Returns context (N, H), weights (N, S) and an AttentionStepCache for attention_backward.
    """
    p = keys @ W_k.T                                       # (1) (N, S, A)
    z = np.tanh((query @ W_q.T)[:, None, :] + p)           # (2)
    e = z @ v                                              # (3) (N, S)
    if mask is not None:
        e = np.where(mask > 0, e, -np.inf)                 # (4) padding: exp(−inf) = 0
    e = e - e.max(axis=1, keepdims=True)                   # (4) the same α, no overflow
    w = np.exp(e)
    weights = w / w.sum(axis=1, keepdims=True)             # (4)
    context = np.einsum("ns,nsh->nh", weights, values)     # (5)
    return context, weights, AttentionStepCache(query, keys, values, z, weights, W_q, W_k, v)


def attention_backward(dcontext, dweights, cache):
    """Backward through one attention step, equations (5') to (1').

    dcontext (N, H); dweights (N, S) or None for zeros.
    Returns dquery (N, H), dkeys (N, S, H), dvalues (N, S, H) and grads, a dict:
    W_q (A, H), W_k (A, H), v (A,).
    """
    a = cache.weights
    dalpha = np.einsum("nh,nsh->ns", dcontext, cache.values)             # (5')
    if dweights is not None:
        dalpha = dalpha + dweights                                      # (5')
    dvalues = a[:, :, None] * dcontext[:, None, :]                     # (5')
    de = a * (dalpha - (a * dalpha).sum(axis=1, keepdims=True))         # (4')
    dz = de[:, :, None] * cache.v                                      # (3')
    dv = np.einsum("ns,nsa->a", de, cache.z)                           # (3')
    da = dz * (1 - cache.z ** 2)                                       # (2')
    da_q = da.sum(axis=1)                                              # (2') Σ_s, (N, A)
    dquery = da_q @ cache.W_q                                          # (2')
    dkeys = da @ cache.W_k                                             # (1')
    grads = {"W_q": da_q.T @ cache.query,                              # (2')
             "W_k": np.einsum("nsa,nsh->ah", da, cache.keys),          # (1')
             "v": dv}
    return dquery, dkeys, dvalues, grads


@dataclass
class AttentionSequenceCache:
    """The step caches of attention_sequence_forward, steps[t] for query t."""
    steps: list


def attention_sequence_forward(queries, keys, values, W_q, W_k, v, mask=None):
    """The step of (1)-(5) for every decoder query in turn (the same keys and values).

    queries (N, T, H), keys (N, S, H), values (N, S, H), W_q (A, H), W_k (A, H), v (A,),
    mask (N, S) of 0/1 or None.
    Returns contexts (N, T, H), weights (N, T, S) and an AttentionSequenceCache.
    """
    T = queries.shape[1]
    contexts, weights, steps = [None] * T, [None] * T, [None] * T
    for t in range(T):
        contexts[t], weights[t], steps[t] = attention_forward(queries[:, t], keys, values,
                                                              W_q, W_k, v, mask)
    return np.stack(contexts, axis=1), np.stack(weights, axis=1), AttentionSequenceCache(steps)


def attention_sequence_backward(dcontexts, dweights, cache):
    """Backward through every step of attention_sequence_forward.

    dcontexts (N, T, H); dweights (N, T, S) or None.
    Returns dqueries (N, T, H), dkeys (N, S, H), dvalues (N, S, H) (summed over t, since
    every step reads the same keys and values) and grads (W_q, W_k, v, summed over t).
    """
    T = len(cache.steps)
    dqueries, dkeys, dvalues, grads = [None] * T, 0, 0, {}
    for t in reversed(range(T)):
        dq, dk, du, step_grads = attention_backward(
            dcontexts[:, t], None if dweights is None else dweights[:, t], cache.steps[t])
        dqueries[t], dkeys, dvalues = dq, dkeys + dk, dvalues + du          # Σ_t
        for name, g in step_grads.items():
            grads[name] = grads.get(name, 0) + g                            # Σ_t
    return np.stack(dqueries, axis=1), dkeys, dvalues, grads
