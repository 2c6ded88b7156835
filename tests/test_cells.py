"""Torch oracle for RNNCell, LSTMCell and GRUCell.

First one step (batched and unbatched, bias on and off, tanh and relu), then a cell called T times
in a loop and back-propagated by T ``backward`` calls in reverse order (the caches are last in,
first out), against torch's gradients of the same unrolled loop.
"""
import numpy as np
import pytest
import torch

import minirnn.nn as mnn
from torch_oracle import assert_close, compare_param_grads, tensor, twins

KINDS = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def build(kind, D, H, *, bias=True, dtype=np.float64, seed=0):
    if kind.startswith("RNN"):
        nonlinearity = "tanh" if kind == "RNN_TANH" else "relu"
        return twins(mnn.RNNCell, torch.nn.RNNCell, D, H, bias=bias, nonlinearity=nonlinearity,
                     dtype=dtype, seed=seed)
    cls = {"LSTM": (mnn.LSTMCell, torch.nn.LSTMCell), "GRU": (mnn.GRUCell, torch.nn.GRUCell)}
    return twins(*cls[kind], D, H, bias=bias, dtype=dtype, seed=seed)


def run_loop(kind, T, N, D, H, *, bias=True, with_h0=True, seed=0, dtype=np.float64):
    """Unroll the cell T steps in both libraries; compare every output and every gradient.

    N None means unbatched inputs (D,). T=1 is the single-step case.
    """
    mini, ref = build(kind, D, H, bias=bias, dtype=dtype, seed=seed)
    lstm = kind == "LSTM"
    rng = np.random.default_rng(seed + 1)
    batch = () if N is None else (N,)
    xs = [rng.standard_normal(batch + (D,)).astype(dtype) for _ in range(T)]
    h0, c0 = (rng.standard_normal(batch + (H,)).astype(dtype) if with_h0
              else np.zeros(batch + (H,), dtype) for _ in range(2))
    g_h = [rng.standard_normal(batch + (H,)).astype(dtype) for _ in range(T)]
    g_c = [rng.standard_normal(batch + (H,)).astype(dtype) for _ in range(T)]

    # torch: the unrolled loop, one scalar loss with a different random weight on every h_t, c_t
    xts = [tensor(x, True) for x in xs]
    h0t, c0t = tensor(h0, True), tensor(c0, True)
    h, c, loss, hs_t, cs_t = h0t, c0t, 0.0, [], []
    for t in range(T):
        if lstm:
            h, c = ref(xts[t], (h, c))
            cs_t.append(c)
            loss = loss + (c * tensor(g_c[t])).sum()
        else:
            h = ref(xts[t], h)
        hs_t.append(h)
        loss = loss + (h * tensor(g_h[t])).sum()
    loss.backward()

    # minirnn: the same loop forward, then T backward calls in reverse order
    mini.zero_grad()
    h, c, hs, cs = (h0 if with_h0 else None), c0, [], []
    for t in range(T):
        if lstm:
            h, c = mini(xs[t], (h, c) if (with_h0 or t > 0) else None)
            cs.append(c)
        else:
            h = mini(xs[t], h)
        hs.append(h)
    grad_xs = [None] * T
    dh_next = np.zeros(batch + (H,), dtype)  # gradient carried back from step t+1
    dc_next = np.zeros(batch + (H,), dtype)
    for t in reversed(range(T)):
        if lstm:
            grad_xs[t], (dh_next, dc_next) = mini.backward((g_h[t] + dh_next, g_c[t] + dc_next))
        else:
            grad_xs[t], dh_next = mini.backward(g_h[t] + dh_next)

    label = kind + "Cell"
    for t in range(T):
        assert_close(hs[t], hs_t[t], dtype, f"h_{t + 1}", label)
        assert_close(grad_xs[t], xts[t].grad, dtype, f"grad of x_{t + 1}", label)
        if lstm:
            assert_close(cs[t], cs_t[t], dtype, f"c_{t + 1}", label)
    assert_close(dh_next, h0t.grad, dtype, "grad of h0", label)
    if lstm:
        assert_close(dc_next, c0t.grad, dtype, "grad of c0", label)
    compare_param_grads(mini, ref, dtype, label)


# ---- one step ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("N", [3, None], ids=["batched", "unbatched"])
def test_single_step_matches_torch(kind, bias, N):
    run_loop(kind, 1, N, 4, 5, bias=bias)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("N", [2, None], ids=["batched", "unbatched"])
def test_single_step_without_h0_matches_torch(kind, N):
    run_loop(kind, 1, N, 3, 4, with_h0=False)


def test_lstm_cell_final_c_matches_torch():
    mini, ref = build("LSTM", 3, 4)
    rng = np.random.default_rng(2)
    x, h0, c0 = (rng.standard_normal(s) for s in [(2, 3), (2, 4), (2, 4)])
    h1, c1 = mini(x, (h0, c0))
    h1t, c1t = ref(tensor(x), (tensor(h0), tensor(c0)))
    assert_close(h1, h1t, np.float64, "h1", "LSTMCell")
    assert_close(c1, c1t, np.float64, "c1", "LSTMCell")


@pytest.mark.parametrize("which", ["h", "c", "both"])
def test_lstm_cell_backward_accepts_none(which):
    mini, _ = build("LSTM", 3, 4)
    rng = np.random.default_rng(3)
    x, h0, c0 = (rng.standard_normal(s) for s in [(2, 3), (2, 4), (2, 4)])
    gh, gc = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    zeros = np.zeros((2, 4))
    mini(x, (h0, c0))
    if which == "h":
        expected = mini.backward((zeros, gc))
        mini(x, (h0, c0))
        got = mini.backward((None, gc))
    elif which == "c":
        expected = mini.backward((gh, zeros))
        mini(x, (h0, c0))
        got = mini.backward((gh, None))
    else:
        expected = mini.backward((zeros, zeros))
        mini(x, (h0, c0))
        got = mini.backward((None, None))
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1][0], expected[1][0])
    np.testing.assert_array_equal(got[1][1], expected[1][1])


# ---- unrolled loops ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("N", [3, None], ids=["batched", "unbatched"])
@pytest.mark.parametrize("bias", [True, False])
def test_unrolled_loop_matches_torch(kind, N, bias):
    run_loop(kind, 6, N, 3, 4, bias=bias)


@pytest.mark.parametrize("kind", KINDS)
def test_unrolled_loop_from_zero_state_matches_torch(kind):
    run_loop(kind, 4, 2, 2, 3, with_h0=False, seed=5)


@pytest.mark.parametrize("kind", KINDS)
def test_unrolled_loop_float32_matches_torch(kind):
    run_loop(kind, 5, 3, 3, 4, dtype=np.float32, seed=6)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(4))
def test_random_sizes_match_torch(kind, seed):
    rng = np.random.default_rng(seed)
    T, D, H = (int(v) for v in rng.integers(1, 6, size=3))
    N = int(rng.integers(1, 4)) if seed % 2 else None
    run_loop(kind, T, N, D, H, bias=bool(seed % 3), seed=seed)


def test_backward_without_forward_raises():
    mini, _ = build("GRU", 2, 3)
    mini(np.ones((1, 2)))
    mini.backward(np.ones((1, 3)))
    with pytest.raises(RuntimeError):
        mini.backward(np.ones((1, 3)))


# ---- cells agree with one-layer sequence modules -----------------------------------------

@pytest.mark.parametrize("gate_activation", ["sigmoid", "hard_sigmoid", "step"])
@pytest.mark.parametrize("cell_activation", ["tanh", "identity", "relu"])
def test_lstm_cell_activations_agree_with_lstm_layer(gate_activation, cell_activation):
    acts = dict(gate_activation=gate_activation, cell_activation=cell_activation)
    layer = mnn.LSTM(3, 4, rng=0, **acts)
    cell = mnn.LSTMCell(3, 4, rng=1, **acts)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})  # drop "_l0"
    rng = np.random.default_rng(2)
    x, h0, c0 = (rng.standard_normal(s) for s in [(5, 2, 3), (1, 2, 4), (1, 2, 4)])
    g_out = rng.standard_normal((5, 2, 4))
    out, (h_n, c_n) = layer(x, (h0, c0))
    grad_x, (grad_h0, grad_c0) = layer.backward(g_out, None)
    h, c = h0[0], c0[0]
    for t in range(5):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(h, out[t], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c, c_n[0], rtol=1e-13, atol=1e-15)
    dh, dc = None, None
    for t in reversed(range(5)):
        dx_t, (dh, dc) = cell.backward((g_out[t] if dh is None else g_out[t] + dh, dc))
        np.testing.assert_allclose(dx_t, grad_x[t], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dh, grad_h0[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dc, grad_c0[0], rtol=1e-12, atol=1e-14)
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(layer, name + "_l0").grad, rtol=1e-12,
                                   atol=1e-14, err_msg=name)
