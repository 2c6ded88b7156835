"""Torch oracle for the recurrent layers nn.RNN (tanh, relu), nn.LSTM and nn.GRU.

Every option of the constructor and of forward is compared with PyTorch: outputs, final states,
the gradient of the input and of the initial states, and every parameter gradient. Variable
lengths are compared with torch's pack_padded_sequence -> layer -> pad_packed_sequence.
"""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minirnn
import minirnn.nn as mnn
from torch_oracle import (HYPOTHESIS, assert_close, copy_weights, randomize_,
                          run_recurrent_pair, state_shapes, twins)

MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def build(mode, D, H, *, num_layers=1, bias=True, batch_first=False, bidirectional=False,
          proj_size=0, dropout=0.0, dtype=np.float64, seed=0):
    """(minirnn layer, torch layer) with the same random weights, both in eval mode if dropout."""
    kwargs = dict(num_layers=num_layers, bias=bias, batch_first=batch_first,
                  bidirectional=bidirectional, dropout=dropout)
    if mode.startswith("RNN"):
        kwargs["nonlinearity"] = "tanh" if mode == "RNN_TANH" else "relu"
        pair = twins(mnn.RNN, torch.nn.RNN, D, H, dtype=dtype, seed=seed, **kwargs)
    elif mode == "LSTM":
        pair = twins(mnn.LSTM, torch.nn.LSTM, D, H, dtype=dtype, seed=seed, proj_size=proj_size,
                     **kwargs)
    else:
        pair = twins(mnn.GRU, torch.nn.GRU, D, H, dtype=dtype, seed=seed, **kwargs)
    if dropout:
        pair[0].eval()
        pair[1].eval()
    return pair


def make_inputs(rng, mode, T, N, D, H, *, num_layers=1, bidirectional=False, batch_first=False,
                proj_size=0, unbatched=False, with_hx=False, dtype=np.float64):
    """x shaped for the layer, and hx (None, an array, or (h0, c0) for LSTM)."""
    if unbatched:
        x = rng.standard_normal((T, D))
    else:
        x = rng.standard_normal((N, T, D) if batch_first else (T, N, D))
    hx = None
    if with_hx:
        shapes = state_shapes("LSTM" if mode == "LSTM" else "RNN", num_layers, bidirectional,
                              H, proj_size, None if unbatched else N)
        h0 = rng.standard_normal(shapes["h"]).astype(dtype)
        hx = (h0, rng.standard_normal(shapes["c"]).astype(dtype)) if mode == "LSTM" else h0
    return x.astype(dtype), hx


def check(mode, T=4, N=3, D=3, H=4, *, seed=0, lengths=None, unbatched=False, with_hx=False,
          dtype=np.float64, **options):
    """Build twins, run both forward and backward, assert everything agrees."""
    mini, ref = build(mode, D, H, dtype=dtype, seed=seed, **options)
    rng = np.random.default_rng(seed + 100)
    x, hx = make_inputs(rng, mode, T, N, D, H, unbatched=unbatched, with_hx=with_hx,
                        dtype=dtype, **{k: v for k, v in options.items()
                                        if k in ("num_layers", "bidirectional", "batch_first",
                                                 "proj_size")})
    run_recurrent_pair(mini, ref, x, hx, lengths, lstm=(mode == "LSTM"), rng=rng,
                       batch_first=options.get("batch_first", False), dtype=dtype,
                       label=mode)
    return mini


# ---- one option at a time ----------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_defaults_match_torch(mode):
    check(mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("option", [
    dict(num_layers=2), dict(num_layers=3), dict(bias=False), dict(batch_first=True),
    dict(bidirectional=True), dict(num_layers=3, bidirectional=True, batch_first=True),
    dict(num_layers=2, dropout=0.5),  # eval mode: dropout is the identity, as in torch
], ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_options_match_torch(mode, option):
    check(mode, **option)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_given_initial_state_matches_torch(mode, bidirectional):
    check(mode, with_hx=True, num_layers=2, bidirectional=bidirectional)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("with_hx", [False, True])
def test_unbatched_input_matches_torch(mode, with_hx):
    check(mode, T=5, unbatched=True, with_hx=with_hx, num_layers=2, bidirectional=True)


@pytest.mark.parametrize("proj_size", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_projection_matches_torch(proj_size, bidirectional):
    check("LSTM", H=4, proj_size=proj_size, num_layers=2, bidirectional=bidirectional,
          with_hx=True)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lengths", [[5, 2, 4], [3, 1, 2], [1, 1, 1], [5, 5, 5], [2, 5, 5]],
                         ids=["with-L", "without-L", "all-1", "all-L", "unsorted-ties"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lengths_match_packed_torch(mode, lengths, batch_first):
    check(mode, T=5, N=3, lengths=lengths, batch_first=batch_first, num_layers=2,
          bidirectional=True, with_hx=True)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_lengths_with_projection_and_no_hx(mode):
    options = dict(proj_size=2) if mode == "LSTM" else {}
    check(mode, T=6, N=4, H=3, lengths=[2, 6, 1, 4], num_layers=3, bidirectional=True,
          **options)


@pytest.mark.parametrize("mode", MODES)
def test_padding_outputs_are_exactly_zero(mode):
    mini, _ = build(mode, 2, 3, bidirectional=True)
    x = np.random.default_rng(0).standard_normal((5, 3, 2))
    lengths = np.array([5, 2, 3])  # an int array is accepted as well as a list
    out, _ = mini(x, lengths=lengths)
    for n, length in enumerate(lengths):
        np.testing.assert_array_equal(out[length:, n], 0.0)
        if mode != "RNN_RELU":  # relu outputs may be exactly zero anyway
            assert np.all(out[:length, n] != 0.0)


@pytest.mark.parametrize("mode", MODES)
def test_full_lengths_equal_no_lengths(mode):
    mini, _ = build(mode, 2, 3, num_layers=2, bidirectional=True)
    x = np.random.default_rng(1).standard_normal((4, 3, 2))
    out_a, state_a = mini(x)
    out_b, state_b = mini(x, lengths=[4, 4, 4])
    np.testing.assert_allclose(out_a, out_b, rtol=1e-14, atol=1e-15)
    pairs = zip(state_a, state_b) if mode == "LSTM" else [(state_a, state_b)]
    for a, b in pairs:
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("mode", MODES)
def test_non_contiguous_input_gives_the_same_result(mode):
    mini, _ = build(mode, 3, 4, batch_first=True, bidirectional=True)
    base = np.random.default_rng(2).standard_normal((5, 2, 3))  # (L, N, D)
    view = base.transpose(1, 0, 2)                                # (N, L, D), not contiguous
    assert not view.flags.c_contiguous
    out_view, _ = mini(view)
    out_copy, _ = mini(np.ascontiguousarray(view))
    np.testing.assert_array_equal(out_view, out_copy)
    g = np.ones_like(out_view)
    np.testing.assert_array_equal(mini.backward(g)[0], mini.backward(g)[0])


# ---- non-default LSTM activations: a hand-written torch LSTM with autograd is the oracle ---

TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": lambda a: torch.clamp(0.2 * a + 0.5, 0.0, 1.0),
    "step": lambda a: (a >= 0).to(a.dtype),  # no grad_fn: derivative 0, as the contract says
    "tanh": torch.tanh,
    "identity": lambda a: a,
    "relu": torch.relu,
}


def torch_lstm_loop(ref, x, h0, c0, gate_act, cell_act):
    """Single-layer unidirectional LSTM written out in torch ops (x: (T, N, D))."""
    W_ih, W_hh, b_ih, b_hh = ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0
    h, c, outs = h0[0], c0[0], []
    for t in range(x.shape[0]):
        a = x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
        i, f, o = TORCH_ACT[gate_act](a_i), TORCH_ACT[gate_act](a_f), TORCH_ACT[gate_act](a_o)
        g = TORCH_ACT[cell_act](a_g)
        c = f * c + i * g
        h = o * TORCH_ACT[cell_act](c)
        outs.append(h)
    return torch.stack(outs), h[None], c[None]


@pytest.mark.parametrize("gate_act", ["sigmoid", "hard_sigmoid", "step"])
@pytest.mark.parametrize("cell_act", ["tanh", "identity", "relu"])
def test_lstm_activations_match_handwritten_torch(gate_act, cell_act):
    T, N, D, H = 5, 3, 3, 4
    rng = np.random.default_rng(7)
    ref = randomize_(torch.nn.LSTM(D, H, dtype=torch.float64), rng)
    mini = mnn.LSTM(D, H, gate_activation=gate_act, cell_activation=cell_act, rng=0)
    copy_weights(mini, ref)
    x, h0, c0 = (rng.standard_normal(s) for s in [(T, N, D), (1, N, H), (1, N, H)])
    xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    out_t, hn_t, cn_t = torch_lstm_loop(ref, xt, h0t, c0t, gate_act, cell_act)
    g_out, g_h, g_c = (rng.standard_normal(s) for s in [(T, N, H), (1, N, H), (1, N, H)])
    ((out_t * torch.tensor(g_out)).sum() + (hn_t * torch.tensor(g_h)).sum()
     + (cn_t * torch.tensor(g_c)).sum()).backward()

    out, (hn, cn) = mini(x, (h0, c0))
    grad_x, (grad_h0, grad_c0) = mini.backward(g_out, (g_h, g_c))
    label = f"LSTM[{gate_act},{cell_act}]"
    for what, a, b in [("output", out, out_t), ("h_n", hn, hn_t), ("c_n", cn, cn_t),
                       ("grad of x", grad_x, xt.grad), ("grad of h0", grad_h0, h0t.grad),
                       ("grad of c0", grad_c0, c0t.grad)]:
        assert_close(a, b, np.float64, what, label)
    for name, p in mini.named_parameters():
        tp = getattr(ref, name)
        assert_close(p.grad, tp.grad if tp.grad is not None else np.zeros(p.shape),
                     np.float64, f"grad of {name}", label)


# ---- backward bookkeeping ----------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_grad_state_none_means_zeros(mode):
    mini, _ = build(mode, 2, 3, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 2, 2))
    with minirnn.no_grad():
        out, state = mini(x)
    g_out = rng.standard_normal(out.shape)
    if mode == "LSTM":
        zeros = (np.zeros_like(state[0]), np.zeros_like(state[1]))
        variants = [None, (None, None), (None, zeros[1]), (zeros[0], None), zeros]
    else:
        variants = [None, np.zeros_like(state)]
    results = []
    for grad_state in variants:
        mini.zero_grad()
        mini(x)
        gx, ghx = mini.backward(g_out, grad_state)
        results.append((gx, ghx, [p.grad.copy() for p in mini.parameters()]))
    gx0, ghx0, pg0 = results[-1]
    for gx, ghx, pg in results:
        np.testing.assert_array_equal(gx, gx0)
        for a, b in zip(ghx if mode == "LSTM" else [ghx], ghx0 if mode == "LSTM" else [ghx0]):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(pg, pg0):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", MODES)
def test_grad_hx_returned_for_hx_none(mode):
    mini, _ = build(mode, 2, 3, num_layers=2, bidirectional=True, proj_size=0)
    x = np.random.default_rng(4).standard_normal((3, 2, 2))
    out, state = mini(x)
    if mode == "LSTM":
        gx, (gh0, gc0) = mini.backward(np.ones_like(out), (np.ones_like(state[0]), None))
        assert gh0.shape == state[0].shape and gc0.shape == state[1].shape
    else:
        gx, gh0 = mini.backward(np.ones_like(out), np.ones_like(state))
        assert gh0.shape == state.shape
    assert gx.shape == x.shape
    assert np.any(gh0 != 0)


@pytest.mark.parametrize("mode", MODES)
def test_parameter_grads_accumulate(mode):
    mini, _ = build(mode, 2, 3, bidirectional=True)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 2))
    out, _ = mini(x)
    g = rng.standard_normal(out.shape)
    mini.zero_grad()
    mini(x)
    mini.backward(g)
    once = [p.grad.copy() for p in mini.parameters()]
    mini(x)
    mini.backward(g)
    for p, g1 in zip(mini.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * g1, rtol=1e-14, atol=1e-15)
    mini.zero_grad()
    assert all(np.all(p.grad == 0) for p in mini.parameters())


@pytest.mark.parametrize("mode", MODES)
def test_two_forwards_backpropagate_last_in_first_out(mode):
    mini, _ = build(mode, 2, 3, num_layers=2)
    rng = np.random.default_rng(6)
    xa, xb = rng.standard_normal((3, 2, 2)), rng.standard_normal((5, 1, 2))
    ga, gb = rng.standard_normal((3, 2, 3)), rng.standard_normal((5, 1, 3))
    expected = {}
    for name, x, g in [("a", xa, ga), ("b", xb, gb)]:
        mini(x)
        expected[name] = mini.backward(g)[0]
    mini(xa)
    mini(xb)
    np.testing.assert_array_equal(mini.backward(gb)[0], expected["b"])
    np.testing.assert_array_equal(mini.backward(ga)[0], expected["a"])


# ---- dropout between layers --------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_training_dropout_changes_output_and_is_seeded(mode):
    cls = {"RNN_TANH": mnn.RNN, "RNN_RELU": mnn.RNN, "LSTM": mnn.LSTM, "GRU": mnn.GRU}[mode]
    kwargs = {"nonlinearity": "relu"} if mode == "RNN_RELU" else {}
    a, b = (cls(3, 4, num_layers=2, dropout=0.5, rng=11, **kwargs) for _ in range(2))
    x = np.random.default_rng(8).standard_normal((4, 3, 3))
    out_a, out_b = a(x)[0], b(x)[0]
    np.testing.assert_array_equal(out_a, out_b)  # same seed: same weights and same masks
    grad_x = a.backward(np.ones_like(out_a))[0]
    assert grad_x.shape == x.shape and np.all(np.isfinite(grad_x))
    out_eval = a.eval()(x)[0]
    assert not np.allclose(out_a, out_eval)


@pytest.mark.parametrize("p", [0.25, 0.6])
def test_training_dropout_zeroes_with_probability_p_and_scales(p):
    """Layer 2 is wired as relu(identity · input): its output is layer 1's output after dropout."""
    H = 8
    rnn = mnn.RNN(3, H, num_layers=2, nonlinearity="relu", dropout=p, rng=0).train()
    rnn.bias_ih_l0.data[:] = 2.0                 # layer 1 output > 0 almost everywhere
    rnn.weight_hh_l0.data[:] = 0.0
    rnn.weight_ih_l1.data[:] = np.eye(H)
    rnn.weight_hh_l1.data[:] = 0.0
    rnn.bias_ih_l1.data[:] = 0.0
    rnn.bias_hh_l1.data[:] = 0.0
    x = np.random.default_rng(0).standard_normal((20, 50, 3))
    out, _ = rnn(x)
    with minirnn.no_grad():
        first = mnn.RNN(3, H, nonlinearity="relu", rng=0)  # layer 1 on its own
        first.load_state_dict({k: v for k, v in rnn.state_dict().items() if k.endswith("l0")})
        y1 = first(x)[0]
    positive = y1 > 0
    assert positive.mean() > 0.8
    kept = out[positive] != 0
    assert abs(1 - kept.mean() - p) < 0.03
    np.testing.assert_allclose(out[positive][kept], y1[positive][kept] / (1 - p), rtol=1e-14)
    np.testing.assert_array_equal(out[~positive], 0.0)
    grad_x, _ = rnn.backward(np.ones_like(out))  # pops the training forward
    assert grad_x.shape == x.shape


@pytest.mark.parametrize("mode", MODES)
def test_training_dropout_one_matches_torch(mode):
    """p=1 zeroes the input to every layer above the first: deterministic, so torch can judge."""
    mini, ref = build(mode, 3, 4, num_layers=3, bidirectional=True, dropout=1.0)
    mini.train()
    ref.train()
    rng = np.random.default_rng(9)
    x, hx = make_inputs(rng, mode, 4, 2, 3, 4, num_layers=3, bidirectional=True, with_hx=True)
    run_recurrent_pair(mini, ref, x, hx, lstm=(mode == "LSTM"), rng=rng, label=mode)


# ---- float32 ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_float32_matches_torch_float32(mode):
    options = dict(proj_size=2) if mode == "LSTM" else {}
    check(mode, dtype=np.float32, num_layers=2, bidirectional=True, with_hx=True,
          lengths=[4, 2, 3], **options)


# ---- many configurations -----------------------------------------------------------------

@st.composite
def configurations(draw, mode):
    T, N = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    D, H = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    num_layers = draw(st.integers(1, 3))
    config = dict(T=T, N=N, D=D, H=H, num_layers=num_layers,
                  bidirectional=draw(st.booleans()), batch_first=draw(st.booleans()),
                  bias=draw(st.booleans()), with_hx=draw(st.booleans()),
                  unbatched=draw(st.booleans()), seed=draw(st.integers(0, 2**20)))
    if mode == "LSTM" and H > 1:
        config["proj_size"] = draw(st.integers(0, H - 1))
    if num_layers > 1 and draw(st.booleans()):
        config["dropout"] = 0.3  # eval mode
    if not config["unbatched"] and draw(st.booleans()):
        config["lengths"] = draw(st.lists(st.integers(1, T), min_size=N, max_size=N))
    return config


@pytest.mark.parametrize("mode", MODES)
@HYPOTHESIS
@given(data=st.data())
def test_random_configurations_match_torch(mode, data):
    config = data.draw(configurations(mode))
    check(mode, **config)


def test_lstm_backward_never_reads_uninitialised_memory(monkeypatch):
    """Every buffer the LSTM allocates uninitialised (np.empty, here full of NaN) must be
    written before it is read: the gradients stay finite."""
    real_empty = np.empty

    def poisoned_empty(shape, dtype=float, *a, **k):
        out = real_empty(shape, dtype, *a, **k)
        if np.dtype(dtype).kind == "f":
            out.fill(np.nan)
        return out

    import minirnn.functional.lstm as flstm
    monkeypatch.setattr(flstm.np, "empty", poisoned_empty)
    m = mnn.LSTM(3, 4, rng=0)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    out, _ = m(x)
    with np.errstate(invalid="raise"):
        dx, _ = m.backward(np.ones_like(out))
    assert np.isfinite(dx).all() and all(np.isfinite(p.grad).all() for p in m.parameters())


def test_small_layers_run_blas_on_one_thread_and_restore_it(monkeypatch):
    """Small layers switch OpenBLAS to one thread for their products, and always switch back."""
    import minirnn._blas as blas
    calls = []
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    state = {"n": 2}
    monkeypatch.setattr(blas, "_openblas", lambda: (lambda n: calls.append(n) or
                                                    state.update(n=n), lambda: state["n"]))
    small = mnn.LSTM(3, 4, rng=0)
    out, _ = small(np.ones((5, 2, 3)))
    small.backward(np.ones_like(out))
    assert calls == [1, 2, 1, 2] and state["n"] == 2
    calls.clear()
    big = mnn.RNN(3, 512, rng=0)                      # N·G·H·H = 2·512·512 > 2**17
    out, _ = big(np.ones((2, 2, 3)))
    big.backward(np.ones_like(out))
    assert calls == []
