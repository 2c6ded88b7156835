"""The variants torch has no module for: Cho et al.'s GRU (reset_after=False), LSTM peepholes,
other gate/cell activations and SRN nonlinearities, and per-step masks (Keras semantics).

1. Oracle: each variant's forward written in torch tensor operations here, with torch autograd
   for the gradients; whole layers (stacked, bidirectional, batch_first, lengths or masks)
   on both tiers, float64, random nonzero biases, random upstream gradients on the output
   and the final states, compared with tests/torch_oracle.py's tolerances (1e-9 relative).
2. Finite differences: minirnn.gradcheck on layers and cells with the options.
3. Published values, each reproduced to its printed digits, the source named at the test.
4. Bad options and bad masks are refused with errors naming the public class.
"""
import itertools

import numpy as np
import pytest
import torch

import minirnn
import minirnn.functional as engine
import minirnn.nn as mnn
import minirnn.textbook.variants as textbook
from torch_oracle import assert_close

TIERS = ["engine", "textbook"]

TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": lambda a: torch.clamp(0.2 * a + 0.5, 0.0, 1.0),
    "step": lambda a: (a >= 0).to(a.dtype),      # no grad_fn: derivative 0, as documented
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda a: a,
}


# ---- the oracle: every variant in torch operations ------------------------------------------

def torch_rnn_step(x, h, c, p, o):
    return TORCH_ACT[o["nonlinearity"]](x @ p["weight_ih"].T + p.get("bias_ih", 0)
                                        + h @ p["weight_hh"].T + p.get("bias_hh", 0)), None


def torch_gru_step(x, h, c, p, o):
    """torch's GRU, or Cho et al.'s n = φ(x W_inᵀ + b_in + (r ⊙ h) W_hnᵀ + b_hn)."""
    sig, phi = TORCH_ACT[o["gate_activation"]], TORCH_ACT[o["cell_activation"]]
    (W_ir, W_iz, W_in), (W_hr, W_hz, W_hn) = p["weight_ih"].chunk(3), p["weight_hh"].chunk(3)
    zero = torch.zeros(W_ir.shape[0], dtype=x.dtype)
    b_ir, b_iz, b_in = p["bias_ih"].chunk(3) if "bias_ih" in p else (zero,) * 3
    b_hr, b_hz, b_hn = p["bias_hh"].chunk(3) if "bias_hh" in p else (zero,) * 3
    r = sig(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = sig(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    if o["reset_after"]:
        n = phi(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))
    else:
        n = phi(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    return (1 - z) * n + z * h, None


def torch_lstm_step(x, h, c, p, o):
    """LSTM with optional peepholes (i, f see c_{t−1}; o sees c_t) and projection."""
    sig, phi = TORCH_ACT[o["gate_activation"]], TORCH_ACT[o["cell_activation"]]
    a = x @ p["weight_ih"].T + p.get("bias_ih", 0) + h @ p["weight_hh"].T + p.get("bias_hh", 0)
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    if "weight_ci" in p:
        a_i, a_f = a_i + p["weight_ci"] * c, a_f + p["weight_cf"] * c
    i, f, g = sig(a_i), sig(a_f), phi(a_g)
    c = f * c + i * g
    if "weight_co" in p:
        a_o = a_o + p["weight_co"] * c
    h = sig(a_o) * phi(c)
    if "weight_hr" in p:
        h = h @ p["weight_hr"].T
    return h, c


STEPS = {"RNN": torch_rnn_step, "GRU": torch_gru_step, "LSTM": torch_lstm_step}


def torch_direction(step, x, h, c, p, o, m, keras, reverse):
    """One direction over x (T, N, D). m (T, N, 1) or None: a step with m = 0 keeps h and c;
    its output is 0 (lengths) or, with ``keras``, the previous output (0 before the first),
    written out as Keras does: output = where(m, output, previous output)."""
    T = x.shape[0]
    ys, y_prev = [None] * T, torch.zeros_like(h)
    for t in (reversed(range(T)) if reverse else range(T)):
        h_new, c_new = step(x[t], h, c, p, o)
        if m is None:
            h, c, y = h_new, c_new, h_new
        else:
            h = m[t] * h_new + (1 - m[t]) * h
            c = None if c is None else m[t] * c_new + (1 - m[t]) * c
            y = m[t] * h + (1 - m[t]) * (y_prev if keras else 0)
        ys[t] = y_prev = y
    return torch.stack(ys), h, c


def torch_layer(mini, x, h0, c0, m, keras):
    """The whole stack on torch tensors, with the parameters of ``mini`` as leaves."""
    mode = type(mini).__name__
    params = {name: torch.tensor(p.data, requires_grad=True)
              for name, p in mini.named_parameters()}
    opts = {k: getattr(mini, k, None) for k in ("nonlinearity", "gate_activation",
                                                 "cell_activation", "reset_after")}
    hs, cs, inp = [], [], x
    for layer in range(mini.num_layers):
        outs = []
        for d in range(mini.num_directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            p = {name[:-len(sfx)]: t for name, t in params.items() if name.endswith(sfx)
                 and name[:-len(sfx)].count("_") == 1}
            j = layer * mini.num_directions + d
            y, h, c = torch_direction(STEPS[mode], inp, h0[j], None if c0 is None else c0[j],
                                      p, opts, m, keras, d == 1)
            outs.append(y)
            hs.append(h)
            cs.append(c)
        inp = torch.cat(outs, dim=2)
    return inp, torch.stack(hs), (torch.stack(cs) if c0 is not None else None), params


def check_layer(mini, tier, *, T=4, N=3, batch_first=False, lengths=None, steps=None, seed=0):
    """mini's forward and backward on ``tier`` against the torch oracle, everything compared."""
    rng = np.random.default_rng(seed)
    for _, p in mini.named_parameters():          # nonzero biases and peepholes, not U(±1/√H)
        p.data[...] = rng.uniform(-0.6, 0.6, p.data.shape)
    lstm = isinstance(mini, mnn.LSTM)
    LD, D = mini.num_layers * mini.num_directions, mini.input_size
    x = rng.standard_normal((N, T, D) if batch_first else (T, N, D))
    h0 = rng.standard_normal((LD, N, mini.output_size))
    c0 = rng.standard_normal((LD, N, mini.hidden_size)) if lstm else None
    m = None
    if lengths is not None:
        m = (np.arange(T)[:, None] < np.array(lengths)[None, :]).astype(float)
    elif steps is not None:
        m = np.array(steps, float)                 # given as (T, N)
    mask_arg = None if steps is None else (m.T if batch_first else m)

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    c0t = torch.tensor(c0, requires_grad=True) if lstm else None
    x_tm = xt.transpose(0, 1) if batch_first else xt
    mt = None if m is None else torch.tensor(m)[:, :, None]
    y_t, hn_t, cn_t, params = torch_layer(mini, x_tm, h0t, c0t, mt, keras=steps is not None)
    if batch_first:
        y_t = y_t.transpose(0, 1)
    g_y, g_h = rng.standard_normal(tuple(y_t.shape)), rng.standard_normal(tuple(hn_t.shape))
    g_c = rng.standard_normal(tuple(cn_t.shape)) if lstm else None
    loss = (y_t * torch.tensor(g_y)).sum() + (hn_t * torch.tensor(g_h)).sum()
    if lstm:
        loss = loss + (cn_t * torch.tensor(g_c)).sum()
    loss.backward()

    mini.zero_grad()
    with minirnn.use_impl(tier):
        y, state = mini(x, (h0, c0) if lstm else h0, lengths=lengths, mask=mask_arg)
        dx, dstate = mini.backward(g_y, (g_h, g_c) if lstm else g_h)
    hn, cn = state if lstm else (state, None)
    dh0, dc0 = dstate if lstm else (dstate, None)
    label = f"{mini!r} {tier} lengths={lengths} steps={steps}"
    pairs = [("output", y, y_t), ("h_n", hn, hn_t), ("grad of x", dx, xt.grad),
             ("grad of h0", dh0, h0t.grad)]
    if lstm:
        pairs += [("c_n", cn, cn_t), ("grad of c0", dc0, c0t.grad)]
    for what, a, b in pairs:
        assert_close(a, b, np.float64, what, label)
    for name, p in mini.named_parameters():
        g = params[name].grad
        assert_close(p.grad, np.zeros(p.shape) if g is None else g, np.float64,
                     f"grad of {name}", label)


MASKS = {"none": {}, "lengths": dict(lengths=[4, 1, 3]),
         "steps": dict(steps=[[1, 0, 0], [0, 0, 1], [1, 0, 1], [1, 0, 0]])}   # (T, N): gaps,
                                                    # a row all 0, a first step masked


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("masking", list(MASKS))
@pytest.mark.parametrize("reset_after,bias,num_layers,bidirectional,batch_first",
                         list(itertools.product([False, True], repeat=5)))
def test_gru_reset_after_matches_torch_autograd(reset_after, bias, num_layers, bidirectional,
                                                batch_first, masking, tier):
    gru = mnn.GRU(2, 3, num_layers=1 + num_layers, bias=bias, batch_first=batch_first,
                  bidirectional=bidirectional, reset_after=reset_after, rng=0)
    check_layer(gru, tier, batch_first=batch_first, **MASKS[masking])


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("masking", list(MASKS))
@pytest.mark.parametrize("peephole,proj,bidirectional",
                         list(itertools.product([True, False], repeat=3)))
def test_lstm_peephole_matches_torch_autograd(peephole, proj, bidirectional, masking, tier):
    lstm = mnn.LSTM(2, 3, num_layers=2, bidirectional=bidirectional, proj_size=2 if proj else 0,
                    peephole=peephole, rng=0)
    check_layer(lstm, tier, **MASKS[masking])


GATED = [(g, c) for g in ["sigmoid", "hard_sigmoid", "step", "tanh", "relu", "identity"]
         for c in ["tanh", "identity", "relu", "sigmoid", "hard_sigmoid"]]


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("gate_activation,cell_activation", GATED)
def test_gru_and_lstm_activations_match_torch_autograd(gate_activation, cell_activation, tier):
    acts = dict(gate_activation=gate_activation, cell_activation=cell_activation)
    check_layer(mnn.GRU(2, 3, bidirectional=True, reset_after=False, **acts, rng=0), tier,
                **MASKS["steps"])
    check_layer(mnn.LSTM(2, 3, peephole=True, **acts, rng=0), tier, **MASKS["lengths"])


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "sigmoid", "hard_sigmoid", "identity"])
@pytest.mark.parametrize("masking", list(MASKS))
def test_rnn_nonlinearities_and_masks_match_torch_autograd(nonlinearity, masking, tier):
    rnn = mnn.RNN(2, 3, num_layers=2, nonlinearity=nonlinearity, bidirectional=True,
                  batch_first=True, rng=0)
    check_layer(rnn, tier, batch_first=True, **MASKS[masking])


# ---- cells: the layer on one step -----------------------------------------------------------

@pytest.mark.parametrize("tier", TIERS)
def test_cells_with_the_options_equal_their_layers(tier):
    rng = np.random.default_rng(5)
    x, h, c = rng.standard_normal((3, 2)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    pairs = [(mnn.GRUCell(2, 4, reset_after=False, gate_activation="hard_sigmoid",
                          cell_activation="relu", rng=0),
              mnn.GRU(2, 4, reset_after=False, gate_activation="hard_sigmoid",
                      cell_activation="relu", rng=0)),
             (mnn.LSTMCell(2, 4, peephole=True, gate_activation="relu", rng=0),
              mnn.LSTM(2, 4, peephole=True, gate_activation="relu", rng=0)),
             (mnn.RNNCell(2, 4, nonlinearity="sigmoid", rng=0),
              mnn.RNN(2, 4, nonlinearity="sigmoid", rng=0))]
    with minirnn.use_impl(tier):
        for cell, layer in pairs:
            assert [n for n, _ in cell.named_parameters()] == \
                [n[:-3] for n, _ in layer.named_parameters()]
            layer.load_state_dict({n + "_l0": p.data for n, p in cell.named_parameters()})
            if isinstance(cell, mnn.LSTMCell):
                h1, c1 = cell(x, (h, c))
                _, (hn, cn) = layer(x[None], (h[None], c[None]))
                np.testing.assert_allclose(c1, cn[0], rtol=1e-13)
                dx, (dh, dc) = cell.backward((np.ones_like(h1), np.ones_like(c1)))
                dxl, (dhl, dcl) = layer.backward(None, (np.ones_like(hn), np.ones_like(cn)))
            else:
                h1, hn = cell(x, h), layer(x[None], h[None])[1]
                dx, dh = cell.backward(np.ones_like(h1))
                dxl, dhl = layer.backward(None, np.ones_like(hn))
            np.testing.assert_allclose(h1, hn[0], rtol=1e-13)
            np.testing.assert_allclose(dx, dxl[0], rtol=1e-13)
            np.testing.assert_allclose(dh, dhl[0], rtol=1e-13)
            for (n, p), (_, q) in zip(cell.named_parameters(), layer.named_parameters()):
                np.testing.assert_allclose(p.grad, q.grad, rtol=1e-13, err_msg=n)


# ---- finite differences ---------------------------------------------------------------------

def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def assert_gradcheck(module, *inputs):
    errors = minirnn.gradcheck(module, *inputs)
    assert errors and max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("tier", TIERS)
def test_finite_differences_of_the_variants(tier):
    steps = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1]], bool)      # (N, L), batch_first
    with minirnn.use_impl(tier):
        assert_gradcheck(mnn.GRU(2, 3, num_layers=2, bidirectional=True, batch_first=True,
                                 reset_after=False, rng=0), rand(2, 5, 2), None, None, steps)
        assert_gradcheck(mnn.LSTM(2, 3, bidirectional=True, proj_size=2, peephole=True,
                                  rng=0), rand(4, 2, 2), None, np.array([4, 2]))
        assert_gradcheck(mnn.LSTM(2, 3, peephole=True, batch_first=True, rng=0),
                         rand(2, 5, 2), (rand(1, 2, 3, seed=1), rand(1, 2, 3, seed=2)),
                         None, steps)
        assert_gradcheck(mnn.RNN(2, 3, nonlinearity="sigmoid", bidirectional=True, rng=0),
                         rand(5, 2, 2), rand(2, 2, 3, seed=1), None, steps.T)
        assert_gradcheck(mnn.GRUCell(2, 3, reset_after=False, cell_activation="sigmoid",
                                     rng=0), rand(2, 2), rand(2, 3, seed=1))
        assert_gradcheck(mnn.LSTMCell(2, 3, peephole=True, gate_activation="tanh", rng=0),
                         rand(2, 2), (rand(2, 3, seed=1), rand(2, 3, seed=2)))


# ---- published values -----------------------------------------------------------------------

@pytest.mark.parametrize("tier", TIERS)
def test_tensorflow_gru_cell_values(tier):
    """tensorflow/tensorflow, tensorflow/python/kernel_tests/nn_ops/rnn_cell_test.py,
    testGRUCell: TF1's GRUCell (Cho's form, reset before the product) with every weight 0.5,
    gate biases 1 and candidate bias 0 (TF's defaults), x = 1, h = 0.1 -> 0.175991 (two
    inputs) and 0.156736 (three). TF keeps one bias per gate: ours go in b_ih, b_hh = 0.
    (These weights are symmetric across units, so torch's form gives the same numbers here.)"""
    for D, expected in [(2, 0.175991), (3, 0.156736)]:
        cell = mnn.GRUCell(D, 2, reset_after=False, rng=0)
        cell.weight_ih.data[...] = cell.weight_hh.data[...] = 0.5
        cell.bias_ih.data[...] = [1, 1, 1, 1, 0, 0]          # r | z | n
        cell.bias_hh.data[...] = 0
        with minirnn.use_impl(tier):
            h = cell(np.ones((1, D)), np.full((1, 2), 0.1))
        np.testing.assert_allclose(h, [[expected, expected]], atol=5e-7)


def webnn_gru_weights():
    """The WebNN GRU tests' weights, from their 'zrn' row order to torch's r | z | n."""
    W = np.array([[1, -1], [2, -2], [0.5, -0.5], [0, 0.1]] * 3)     # blocks z, r, n
    b = np.array([1, 2, 1, 2, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5])
    rzn = np.r_[4:8, 0:4, 8:12]
    return W[rzn], np.full((12, 4), 0.1), b[rzn], b[rzn].copy()


@pytest.mark.parametrize("tier", ["engine", "textbook"])
def test_webnn_gru_relu_values(tier):
    """servo/servo, tests/wpt/tests/webnn/conformance_tests/gru.https.any.js (the W3C WebNN
    conformance tests): activations=['relu', 'relu'] (gates, candidate), hidden 4, batch 3,
    steps 1 forward and steps 2 'backward' (our reverse), returnSequence. The printed numbers
    are those of n = relu(x W_nᵀ + b_n + (r ⊙ h) R_nᵀ + rb_n), our reset_after=False, though
    the file labels some cases resetAfter=true: torch's form gives -0.28069 for -0.24975."""
    W, R, b_ih, b_hh = webnn_gru_weights()
    kernels = {"engine": engine, "textbook": textbook}[tier]
    x = np.array([1, 2, 2, 1, 1, 1, 3, 4, 1, 2, 1, 1], float).reshape(2, 3, 2)
    acts = dict(gate_activation="relu", cell_activation="relu", reset_after=False)
    y1, h1, _ = kernels.gru_forward(x[:1], np.zeros((3, 4)), W, R, b_ih, b_hh, **acts)
    np.testing.assert_allclose(h1.ravel(), [0, 0, -0.25, -3.84, -4, -15, -2.25, -3.41,
                                            -1, -3, -1, -3.41], atol=1e-6)
    y2, h2, _ = kernels.gru_forward(x, np.zeros((3, 4)), W, R, b_ih, b_hh, reverse=True, **acts)
    expected_h = [0, 0, -0.24974998831748963, -18.59588623046875, -2.0657243728637697,
                  -10.551867485046387, -1.3937838077545167, -15.2454833984375,
                  -1.1589999198913575, -9.476999282836914, -1.1589999198913575,
                  -11.319169044494629]
    np.testing.assert_allclose(h2.ravel(), expected_h, rtol=1e-6)
    np.testing.assert_allclose(y2[0].ravel(), expected_h, rtol=1e-6)   # step 0 ran last
    np.testing.assert_allclose(y2[1].ravel(), [0, 0, -0.25, -4.760000228881836, 0, 0, -0.25,
                                               -3.8399999141693117, -1, -3, -1,
                                               -3.4100000858306886], rtol=1e-6)
    _, h_torch_form, _ = kernels.gru_forward(x, np.zeros((3, 4)), W, R, b_ih, b_hh,
                                             reverse=True, gate_activation="relu",
                                             cell_activation="relu")
    np.testing.assert_allclose(h_torch_form[0, 2], -0.2806875, rtol=1e-6)


@pytest.mark.parametrize("tier", TIERS)
def test_webnn_lstm_relu_values(tier):
    """servo/servo, tests/wpt/tests/webnn/conformance_tests/lstm.https.any.js:
    activations=['relu', 'relu', 'relu'] (gates, candidate, the activation in h = o ⊙ act(c)),
    hidden 2, batch 2, with peepholeWeight (zeros), steps 1, and steps 2 'backward' with
    returnSequence. Every gate block has the same weights, so the gate order does not matter."""
    W = np.array([[1, -1], [2, -2]] * 4, float)
    R = np.full((8, 2), 0.1)
    b = np.array([1, 2] * 4, float)
    lstm = mnn.LSTM(2, 2, peephole=True, gate_activation="relu", cell_activation="relu",
                    bidirectional=True, rng=0)
    for sfx in ("_l0", "_l0_reverse"):
        state = {"weight_ih": W, "weight_hh": R, "bias_ih": b, "bias_hh": b,
                 "weight_ci": np.zeros(2), "weight_cf": np.zeros(2), "weight_co": np.zeros(2)}
        lstm.load_state_dict({k + sfx: v for k, v in state.items()}, strict=False)
    x = np.array([1, 2, 2, 1, 3, 4, 1, 2], float).reshape(2, 2, 2)
    with minirnn.use_impl(tier):
        y, (h, c) = lstm(x[:1])
        np.testing.assert_array_equal(h[0].ravel(), [1, 8, 27, 216])
        np.testing.assert_array_equal(c[0].ravel(), [1, 4, 9, 36])
        y, (h, c) = lstm(x)
    np.testing.assert_allclose(h[1].ravel(), [10.469000816345215, 58.02900695800781,
                                              74.52900695800781, 518.948974609375], rtol=1e-6)
    np.testing.assert_allclose(c[1].ravel(), [5.510000228881836, 20.01000213623047,
                                              19.110000610351564, 75.20999908447266], rtol=1e-6)
    np.testing.assert_allclose(y[:, :, 2:].ravel(), [10.469000816345215, 58.02900695800781,
                                                     74.52900695800781, 518.948974609375,
                                                     1, 8, 1, 8], rtol=1e-6)


# ---- masks: semantics and checks ------------------------------------------------------------

@pytest.mark.parametrize("tier", TIERS)
def test_a_mask_of_a_prefix_equals_lengths_except_for_the_padding_outputs(tier):
    """Keras repeats the last output where torch's packed sequences give 0; states agree."""
    rng = np.random.default_rng(2)
    lstm = mnn.LSTM(2, 3, bidirectional=True, rng=0)
    x, lengths = rng.standard_normal((4, 3, 2)), [4, 1, 3]
    steps = np.arange(4)[:, None] < np.array(lengths)
    with minirnn.use_impl(tier), minirnn.no_grad():
        y_len, (h_len, c_len) = lstm(x, lengths=lengths)
        y_mask, (h_mask, c_mask) = lstm(x, mask=steps)
    np.testing.assert_allclose(h_mask, h_len, rtol=1e-13)
    np.testing.assert_allclose(c_mask, c_len, rtol=1e-13)
    np.testing.assert_allclose(y_mask[steps], y_len[steps], rtol=1e-13)
    # forward direction: padding repeats the output of the last real step
    np.testing.assert_allclose(y_mask[1:, 1, :3], np.repeat(y_len[0:1, 1, :3], 3, 0),
                               rtol=1e-13)
    # reverse direction: padding runs first, before any real step, so its output is 0
    assert not y_mask[1:, 1, 3:].any()


def test_an_all_ones_mask_is_no_mask():
    gru = mnn.GRU(2, 3, rng=0)
    x = np.random.default_rng(0).standard_normal((3, 2, 2))
    with minirnn.no_grad():
        np.testing.assert_array_equal(gru(x, mask=np.ones((3, 2)))[0], gru(x)[0])


@pytest.mark.parametrize("mask,error,match", [
    (np.ones((3, 2)), ValueError, r"GRU: expected mask of shape \(N, L\) = \(2, 3\), got "
                                  r"\(3, 2\)"),
    (np.full((2, 3), 0.5), ValueError, r"GRU: expected mask values 0 or 1"),
    (np.full((2, 3), "1"), TypeError, r"GRU: expected mask to be an array of 0/1 or bool"),
])
def test_bad_masks_are_refused(mask, error, match):
    gru = mnn.GRU(2, 3, batch_first=True, rng=0)
    with pytest.raises(error, match=match):
        gru(np.zeros((2, 3, 2)), mask=mask)


def test_lengths_and_mask_together_are_refused():
    with pytest.raises(ValueError, match=r"LSTM: expected lengths or mask, not both"):
        mnn.LSTM(2, 3, rng=0)(np.zeros((3, 2, 2)), lengths=[3, 2], mask=np.ones((3, 2)))


def test_unbatched_input_takes_a_mask_of_shape_L():
    rnn = mnn.RNN(2, 3, rng=0)
    x = np.random.default_rng(1).standard_normal((4, 2))
    y, h = rnn(x, mask=np.array([1, 0, 1, 0]))
    np.testing.assert_array_equal(y[1], y[0])
    np.testing.assert_array_equal(y[3], y[2])
    np.testing.assert_array_equal(h, y[2][None])


# ---- option checks --------------------------------------------------------------------------

@pytest.mark.parametrize("build,match", [
    (lambda: mnn.LSTMCell(2, 3, gate_activation="softsign"), r"^LSTMCell: expected "
     r"gate_activation in \['sigmoid', 'hard_sigmoid', 'step', 'tanh', 'relu', 'identity'\]"),
    (lambda: mnn.LSTM(2, 3, cell_activation="step"), r"^LSTM: expected cell_activation in"),
    (lambda: mnn.GRUCell(2, 3, gate_activation="gelu"), r"^GRUCell: expected gate_activation"),
    (lambda: mnn.GRU(2, 3, cell_activation="step"), r"^GRU: expected cell_activation in "
     r"\['tanh', 'identity', 'relu', 'sigmoid', 'hard_sigmoid'\]"),
    (lambda: mnn.RNN(2, 3, nonlinearity="step"), r"^RNN: expected nonlinearity in \['tanh', "
     r"'relu', 'sigmoid', 'hard_sigmoid', 'identity'\], got 'step'"),
    (lambda: mnn.RNNCell(2, 3, nonlinearity=None), r"^RNNCell: expected nonlinearity"),
])
def test_unknown_activations_are_refused_naming_the_class(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_flags_must_be_booleans():
    with pytest.raises(TypeError, match=r"GRU: expected reset_after to be True or False"):
        mnn.GRU(2, 3, reset_after="no")
    with pytest.raises(TypeError, match=r"LSTMCell: expected peephole to be True or False"):
        mnn.LSTMCell(2, 3, peephole=1)


def test_peephole_parameters_are_named_shaped_and_initialised_like_the_others():
    lstm = mnn.LSTM(3, 4, num_layers=2, bidirectional=True, peephole=True, rng=0)
    names = dict(lstm.named_parameters())
    for sfx in ("_l0", "_l0_reverse", "_l1", "_l1_reverse"):
        for w in ("weight_ci", "weight_cf", "weight_co"):
            p = names[w + sfx]
            assert p.shape == (4,) and np.all(np.abs(p.data) <= 0.5) and np.any(p.data != 0)
    plain = mnn.LSTM(3, 4, num_layers=2, bidirectional=True, rng=0)
    for name, p in plain.named_parameters():       # drawn last: the first direction's other
        if name.endswith("_l0"):                   # weights are the same numbers
            np.testing.assert_array_equal(p.data, names[name].data)
    assert "peephole=True" in repr(lstm)
    assert "reset_after=False" in repr(mnn.GRU(2, 3, reset_after=False))
