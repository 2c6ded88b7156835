"""Helpers shared by the three recurrent cells: time order, state buffers, masks.

One state buffer ``S`` of shape (T+1, N, H) holds h_0 and the T states a direction computes.
Running forward, step t reads S[t] and writes S[t+1]; running in reverse, step t reads S[t+1]
and writes S[t]. Either way the states *entering* the steps, in input time order, form one
(T, N, H) view, and the states *leaving* them another; the parameter gradient
dW_hh = sum_t da_t^T h_in[t] then becomes a single matrix product over that view.
"""
import threading

import numpy as np

# The engine's loops run over chunks of consecutive steps holding about this many numbers per
# (N, H) state (steps × batch × hidden): each chunk projects its inputs with one matrix product
# and, in backward, precomputes its local derivatives in whole-chunk passes and its weight
# gradients with one product each. Big enough that the per-chunk calls cost little, small
# enough that the scratch stays a few MB (512 KB to 1 MB per (chunk, N, H) block).
CHUNK_ELEMENTS = 2 ** 17
_POOL = threading.local()


def time_steps(T, reverse):
    """Step indices in processing order."""
    return range(T - 1, -1, -1) if reverse else range(T)


def chunks(T, reverse, N, H):
    """The steps 0..T−1 in processing order (t = T−1..0 when ``reverse``), in runs of
    consecutive steps of about CHUNK_ELEMENTS numbers of a state (N, H): (lo, hi, steps), with
    ``steps`` the indices lo..hi−1 in the order they run."""
    size = max(1, CHUNK_ELEMENTS // max(N * H, 1))
    starts = range(0, T, size)
    for lo in (reversed(starts) if reverse else starts):
        hi = min(lo + size, T)
        yield lo, hi, (range(hi - 1, lo - 1, -1) if reverse else range(lo, hi))


def workspace(name, shape, dtype):
    """A scratch array of ``shape`` for temporaries inside one call, reused by later calls.

    A fresh multi-MB array costs its page faults again on every call (about 0.4 ms per MB
    here), so chunk-sized scratch is kept per thread and name, grown when a bigger one is
    needed. What it holds is garbage on entry; nothing that leaves a call (an output, a cache)
    may be a workspace."""
    size = 1
    for n in shape:
        size *= n
    key = (name, np.dtype(dtype))
    pool = _POOL.__dict__
    buf = pool.get(key)
    if buf is None or buf.size < size:
        buf = pool[key] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


def state_buffer(h0, T, reverse):
    """(T+1, N, H) buffer with h0 in place, and its (h_in, h_out) views, each (T, N, H)."""
    S = np.empty((T + 1,) + h0.shape, dtype=h0.dtype)
    if reverse:
        S[T] = h0
        return S, S[1:], S[:T]
    S[0] = h0
    return S, S[:T], S[1:]


def split_states(S, reverse):
    """(h_in, h_out) views of a state buffer made by ``state_buffer``."""
    return (S[1:], S[:-1]) if reverse else (S[:-1], S[1:])


def final_state(S, reverse):
    """The state after the last processed step (h_n)."""
    return S[0] if reverse else S[-1]


def upstream(dy, s, t, dh_next, out):
    """out = s_t ⊙ dy_t + dh_next: the gradient reaching h_t at step t, from above (dy, None
    for zeros; s, the output mask, None for ones) and from step t+1."""
    if dy is None:
        np.copyto(out, dh_next)
        return out
    if s is None:
        return np.add(dy[t], dh_next, out=out)
    np.multiply(dy[t], s[t], out=out)
    out += dh_next
    return out


def transposed(W):
    """Wᵀ as a contiguous array, made once per sequence for a per-step product such as
    h_{t-1} @ W_hhᵀ.

    The same numbers as the view ``W.T``; BLAS just runs the many small per-step products
    faster on a contiguous right-hand side (1.4x to 1.6x for layers of 20 to 32 units here).
    """
    return np.ascontiguousarray(W.T)


def input_grad(dA, W_ih):
    """dx_t = da_t W_ih for every t as one product: (T, N, G) and (G, D) -> (T, N, D).

    (T*N, G) @ (G, D) rather than the 3-d product, which NumPy runs as T small products.
    """
    T, N, G = dA.shape
    return (dA.reshape(T * N, G) @ W_ih).reshape(T, N, -1)


def weight_grad(dA, inputs):
    """sum_t dA[t]ᵀ inputs[t] as one product: (T, N, G) and (T, N, K) -> (G, K)."""
    G, K = dA.shape[-1], inputs.shape[-1]
    return dA.reshape(-1, G).T @ inputs.reshape(-1, K)


def mask_from_lengths(lengths, T, dtype):
    """(T, N, 1) array: 1 where step t < lengths[n] (inside the sequence), else 0."""
    steps = np.arange(T).reshape(T, 1, 1)
    return (steps < np.asarray(lengths).reshape(1, -1, 1)).astype(dtype)


def seen_mask(mask, reverse):
    """s_t for a per-step mask m (T, N, 1): 1 from the first step with m_t = 1 on, in the order
    the steps run (t = T−1..0 when ``reverse``), else 0.

    With such a mask a skipped step keeps the state, so its output y_t = s_t ⊙ h_t repeats the
    output of the last step that ran (and is 0 before the first): Keras's masking.
    """
    if reverse:
        return np.maximum.accumulate(mask[::-1], axis=0)[::-1]
    return np.maximum.accumulate(mask, axis=0)
