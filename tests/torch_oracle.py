"""PyTorch as the test oracle: build a module's torch twin, share weights, compare everything.

The contract (docs: shared api.md) promises that minirnn modules use torch's parameter names,
shapes and gate order, so ``m.load_state_dict(torch_state)`` makes the two compute the same
function. The helpers here

* randomise every torch parameter, biases included (uniform(-0.5, 0.5)), so no test can pass
  only because biases start at zero, then copy the weights into the minirnn module;
* run both on the same inputs with random upstream gradients on the output AND the final states;
* compare outputs, final states, the gradient of the input, of the initial states and of every
  parameter's ``.grad``.

Tolerances: float64 rtol=1e-9 (atol=1e-12 for entries near zero); float32 rtol=1e-4, atol=1e-5.

Set the environment variable ``MINIRNN_ERRLOG=/path/file`` to append the relative error of every
comparison (``label dtype<TAB>quantity<TAB>error``) to a file: for reporting, never asserting.
"""
import os

import numpy as np
import torch
from hypothesis import settings
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# One hypothesis profile for every property test: reproducible, no on-disk example database.
# MINIRNN_HYPOTHESIS_EXAMPLES=1000 explores more configurations on demand (25 keeps CI fast).
HYPOTHESIS = settings(max_examples=int(os.environ.get("MINIRNN_HYPOTHESIS_EXAMPLES", "25")),
                      deadline=None, database=None, derandomize=True)

TORCH_DTYPE = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}


def tolerances(dtype):
    """(rtol, atol) for comparing minirnn with torch in ``dtype``."""
    if np.dtype(dtype) == np.float64:
        return 1e-9, 1e-12
    return 1e-4, 1e-5


def relative_error(actual, expected):
    """max |actual - expected| / max |expected| (array-wise), 0 for two all-zero arrays."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = np.max(np.abs(expected), initial=0.0)
    diff = np.max(np.abs(actual - expected), initial=0.0)
    if scale == 0.0:
        return diff
    return diff / scale


def _log(label, what, err):
    path = os.environ.get("MINIRNN_ERRLOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{label}\t{what}\t{err:.3e}\n")


def assert_close(actual, expected, dtype, what, label=""):
    """Same shape, dtype ``dtype`` and values within the dtype's tolerances."""
    actual = np.asarray(actual)
    expected = to_numpy(expected)
    assert isinstance(actual, np.ndarray), f"{what}: expected an ndarray, got {type(actual)}"
    assert actual.shape == expected.shape, (
        f"{what}: expected shape {expected.shape}, got {actual.shape}")
    assert actual.dtype == np.dtype(dtype), f"{what}: expected dtype {dtype}, got {actual.dtype}"
    rtol, atol = tolerances(dtype)
    _log(f"{label} {np.dtype(dtype).name}", what, relative_error(actual, expected))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def to_numpy(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def tensor(a, requires_grad=False):
    """A torch tensor sharing nothing with ``a`` (same dtype)."""
    return torch.tensor(np.array(a), requires_grad=requires_grad)


# ---- weights ------------------------------------------------------------------------------

def randomize_(torch_module, rng, scale=0.5):
    """Overwrite every torch parameter with uniform(-scale, scale) noise from ``rng``."""
    with torch.no_grad():
        for p in torch_module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-scale, scale, tuple(p.shape))))
    return torch_module


def copy_weights(mini, torch_module):
    """Load the torch twin's weights into ``mini``; the names must match exactly."""
    torch_names = set(torch_module.state_dict())
    mini_names = {name for name, _ in mini.named_parameters()}
    assert mini_names == torch_names, (
        f"parameter names differ from torch: only minirnn {sorted(mini_names - torch_names)}, "
        f"only torch {sorted(torch_names - mini_names)}")
    mini.load_state_dict({k: v.detach().numpy() for k, v in torch_module.state_dict().items()})
    return mini


def twins(mini_cls, torch_cls, *args, dtype=np.float64, seed=0, scale=0.5, **kwargs):
    """(minirnn module, torch module) built with the same arguments and the same random weights."""
    rng = np.random.default_rng(seed)
    torch_module = torch_cls(*args, **kwargs, dtype=TORCH_DTYPE[np.dtype(dtype)])
    randomize_(torch_module, rng, scale)
    mini = mini_cls(*args, **kwargs, dtype=dtype, rng=seed + 1)
    return copy_weights(mini, torch_module), torch_module


def compare_param_grads(mini, torch_module, dtype, label=""):
    """Every minirnn ``p.grad`` equals torch's ``.grad`` (None in torch means zeros)."""
    torch_params = dict(torch_module.named_parameters())
    for name, p in mini.named_parameters():
        tp = torch_params[name]
        expected = np.zeros(tuple(tp.shape)) if tp.grad is None else tp.grad
        assert_close(p.grad, expected, dtype, f"grad of {name}", label)


# ---- recurrent layers ---------------------------------------------------------------------

def state_shapes(mode, num_layers, bidirectional, hidden_size, proj_size, batch):
    """Shapes of h0 (and c0 for LSTM); ``batch`` None means unbatched."""
    lead = (num_layers * (2 if bidirectional else 1),) + (() if batch is None else (batch,))
    h_size = proj_size if (mode == "LSTM" and proj_size) else hidden_size
    shapes = {"h": lead + (h_size,)}
    if mode == "LSTM":
        shapes["c"] = lead + (hidden_size,)
    return shapes


def run_recurrent_pair(mini, torch_module, x, hx=None, lengths=None, *, lstm, rng,
                       batch_first=False, dtype=np.float64, label=""):
    """Forward and backward both layers; assert outputs, states and all gradients agree.

    x       : ndarray (L, N, D), (N, L, D) with batch_first, or (L, D) unbatched
    hx      : None, an array shaped like h_n, or for LSTM a tuple (h0, c0)
    lengths : None or a list of ints, one per batch element, each in 1..L
    Upstream gradients are random on every output entry (padding included; both must ignore
    it) and on the final states.
    """
    dtype = np.dtype(dtype)
    # ---- torch: explicit zeros stand in for hx=None so we get their gradient too
    unbatched = x.ndim == 2
    batch_dim = None if unbatched else (0 if batch_first else 1)
    N = None if unbatched else x.shape[batch_dim]
    L = x.shape[0 if (unbatched or not batch_first) else 1]
    shapes = state_shapes("LSTM" if lstm else "RNN", torch_module.num_layers,
                          torch_module.bidirectional, torch_module.hidden_size,
                          getattr(torch_module, "proj_size", 0), N)
    if hx is None:
        h0 = np.zeros(shapes["h"], dtype)
        c0 = np.zeros(shapes["c"], dtype) if lstm else None
    elif lstm:
        h0, c0 = hx
    else:
        h0, c0 = hx, None

    xt = tensor(x, True)
    h0t = tensor(h0, True)
    c0t = tensor(c0, True) if lstm else None
    t_hx = (h0t, c0t) if lstm else h0t
    if lengths is None:
        out_t, state_t = torch_module(xt, t_hx)
    else:
        packed = pack_padded_sequence(xt, torch.as_tensor(lengths), batch_first=batch_first,
                                      enforce_sorted=False)
        out_p, state_t = torch_module(packed, t_hx)
        out_t, _ = pad_packed_sequence(out_p, batch_first=batch_first, total_length=L)
    hn_t, cn_t = state_t if lstm else (state_t, None)

    g_out = rng.standard_normal(tuple(out_t.shape)).astype(dtype)
    g_hn = rng.standard_normal(tuple(hn_t.shape)).astype(dtype)
    g_cn = rng.standard_normal(tuple(cn_t.shape)).astype(dtype) if lstm else None
    loss = (out_t * tensor(g_out)).sum() + (hn_t * tensor(g_hn)).sum()
    if lstm:
        loss = loss + (cn_t * tensor(g_cn)).sum()
    loss.backward()

    # ---- minirnn (keeping snapshots: neither pass may modify the caller's arrays)
    mini.zero_grad()
    given = [x, g_out, g_hn] + ([] if hx is None else list(hx) if lstm else [hx])
    given += [g_cn] if lstm else []
    snapshots = [a.copy() for a in given]
    if lengths is None:
        out, state = mini(x, hx)
    else:
        out, state = mini(x, hx, lengths=list(lengths))
    if lstm:
        hn, cn = state
        grad_x, (grad_h0, grad_c0) = mini.backward(g_out, (g_hn, g_cn))
    else:
        hn = state
        grad_x, grad_h0 = mini.backward(g_out, g_hn)
    for a, before in zip(given, snapshots):
        np.testing.assert_array_equal(a, before, err_msg="an input array was modified in place")

    assert_close(out, out_t, dtype, "output", label)
    assert_close(hn, hn_t, dtype, "h_n", label)
    assert_close(grad_x, xt.grad, dtype, "grad of x", label)
    assert_close(grad_h0, h0t.grad, dtype, "grad of h0", label)
    if lstm:
        assert_close(cn, cn_t, dtype, "c_n", label)
        assert_close(grad_c0, c0t.grad, dtype, "grad of c0", label)
    compare_param_grads(mini, torch_module, dtype, label)
