"""The textbook tier (minirnn.textbook) against torch and against finite differences.

1. Each step function against torch's RNNCell, LSTMCell and GRUCell (float64, random nonzero
   biases, random upstream gradients on h and c): states, dx, dh_prev, dc_prev and every
   weight gradient by autograd, to 1e-9.
2. Central finite differences of every step backward (float64, relative error < 1e-6).
3. The LSTM step with a projection and with every gate and cell activation, against an LSTM
   step written here in torch ops, with autograd as the oracle.
4. The sequence functions against torch.nn.RNN, LSTM and GRU with one layer: proj_size,
   reverse (by flipping time; with lengths, the reverse half of a bidirectional layer), and
   lengths through packed sequences.
5. The contract: None upstream gradients mean zeros, the caller's arrays are neither kept nor
   changed, names are checked, sigmoid(-1000) is 0, float32 stays float32.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import minirnn.textbook
import minirnn.textbook.variants as tb
from minirnn.gradcheck import _numeric as numeric_grad, _rel_error as rel_error
from torch_oracle import HYPOTHESIS, assert_close, randomize_, tensor, to_numpy

F64 = np.float64
KINDS = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
TORCH_NAMES = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh",
               "W_hr": "weight_hr"}
TORCH_ACT = {"sigmoid": torch.sigmoid, "hard_sigmoid": lambda x: torch.clamp(0.2 * x + 0.5, 0, 1),
             "step": lambda x: (x >= 0).to(x.dtype), "tanh": torch.tanh, "relu": torch.relu,
             "identity": lambda x: x}


def rnn_kw(kind):
    return {"nonlinearity": kind[4:].lower()} if kind.startswith("RNN") else {}


def numpy_params(module, suffix=""):
    """A torch module's parameters as float64 arrays under the textbook's names."""
    params = dict(module.named_parameters())
    out = {k: to_numpy(params[v + suffix]).copy() for k, v in TORCH_NAMES.items()
           if v + suffix in params}
    out.setdefault("b_ih", None)
    out.setdefault("b_hh", None)
    return out


def compare_grads(grads, module, suffix="", label=""):
    """The textbook's grads dict has exactly the module's parameters and torch's gradients."""
    params = dict(module.named_parameters())
    expected = {k for k, v in TORCH_NAMES.items() if v + suffix in params}
    assert set(grads) == expected, f"grads keys {sorted(grads)}, expected {sorted(expected)}"
    arrays = list(grads.values())
    assert not any(np.shares_memory(p, q) for n, p in enumerate(arrays) for q in arrays[:n])
    for k, g in grads.items():
        tg = params[TORCH_NAMES[k] + suffix].grad
        assert_close(g, np.zeros(g.shape) if tg is None else tg, F64, f"grad of {k}", label)


# ---- 1. one step against torch's cells -------------------------------------------------------

def step_forward(kind, x, h, c, p, **kw):
    """(states, cache) of the textbook step for ``kind``; p holds the weights by name."""
    weights = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    if kind == "LSTM":
        h1, c1, cache = tb.lstm_step_forward(x, h, c, *weights, p.get("W_hr"), **kw)
        return (h1, c1), cache
    forward = tb.gru_step_forward if kind == "GRU" else tb.rnn_step_forward
    h1, cache = forward(x, h, *weights, **rnn_kw(kind))
    return (h1,), cache


def step_backward(kind, upstream, cache):
    """(dx, dh_prev[, dc_prev]) and grads of the textbook backward step for ``kind``."""
    if kind == "LSTM":
        *d, grads = tb.lstm_step_backward(*upstream, cache)
    else:
        backward = tb.gru_step_backward if kind == "GRU" else tb.rnn_step_backward
        *d, grads = backward(*upstream, cache)
    return d, grads


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("kind", KINDS)
def test_step_matches_torch_cell(kind, bias):
    rng = np.random.default_rng(1)
    N, D, H = 3, 4, 5
    cls = {"LSTM": torch.nn.LSTMCell, "GRU": torch.nn.GRUCell}.get(kind, torch.nn.RNNCell)
    cell = randomize_(cls(D, H, bias=bias, dtype=torch.float64, **rnn_kw(kind)), rng)
    x, h, c, gh, gc = (rng.standard_normal((N, k)) for k in (D, H, H, H, H))
    xt, ht, ct = tensor(x, True), tensor(h, True), tensor(c, True)
    if kind == "LSTM":
        states_t = cell(xt, (ht, ct))
    else:
        states_t = (cell(xt, ht),)
    sum(((s * tensor(g)).sum() for s, g in zip(states_t, (gh, gc)))).backward()

    states, cache = step_forward(kind, x, h, c, numpy_params(cell))
    d, grads = step_backward(kind, (gh, gc)[:len(states)], cache)
    for name, s, st_ in zip(["h", "c"], states, states_t):
        assert_close(s, st_, F64, name, kind)
    for name, g, leaf in zip(["dx", "dh_prev", "dc_prev"], d, (xt, ht, ct)):
        assert_close(g, leaf.grad, F64, name, kind)
    compare_grads(grads, cell, label=kind)


# ---- 2. finite differences of every step backward ---------------------------------------------

FD_CASES = [("RNN_TANH", {}, True), ("RNN_RELU", {}, True), ("RNN_TANH", {}, False),
            ("GRU", {}, True), ("GRU", {}, False), ("LSTM", {}, True), ("LSTM", {}, False),
            ("LSTM", {"P": 3}, True),
            ("LSTM", {"gate_activation": "hard_sigmoid", "cell_activation": "relu"}, True),
            ("LSTM", {"gate_activation": "step", "cell_activation": "identity", "P": 2}, True)]


@pytest.mark.parametrize("kind, options, bias", FD_CASES)
def test_step_backward_matches_finite_differences(kind, options, bias):
    rng = np.random.default_rng(2)
    N, D, H, G = 2, 3, 4, GATES[kind]
    kw = dict(options)
    P = kw.pop("P", H)
    arrays = dict(x=rng.standard_normal((N, D)), h=rng.standard_normal((N, P)),
                  W_ih=rng.uniform(-0.5, 0.5, (G * H, D)), W_hh=rng.uniform(-0.5, 0.5, (G * H, P)))
    if bias:
        arrays["b_ih"], arrays["b_hh"] = rng.uniform(-0.5, 0.5, (2, G * H))
    if kind == "LSTM":
        arrays["c"] = rng.standard_normal((N, H))
    if P != H:
        arrays["W_hr"] = rng.uniform(-0.5, 0.5, (P, H))
    shapes = [(N, P), (N, H)] if kind == "LSTM" else [(N, P)]          # of h and c
    upstream = [rng.standard_normal(shape) for shape in shapes]

    weights = {"b_ih": None, "b_hh": None, **arrays}    # the same arrays, perturbed in place

    def score():                                         # s = Σ ⟨upstream, the step's outputs⟩
        states, _ = step_forward(kind, arrays["x"], arrays["h"], arrays.get("c"), weights, **kw)
        return sum(np.sum(u * state) for u, state in zip(upstream, states))

    _, cache = step_forward(kind, arrays["x"], arrays["h"], arrays.get("c"), weights, **kw)
    d, grads = step_backward(kind, upstream, cache)
    analytic = dict(grads, x=d[0], h=d[1], **({"c": d[2]} if kind == "LSTM" else {}))
    numeric = {k: numeric_grad(score, a, 1e-6) for k, a in arrays.items()}
    assert set(analytic) == set(numeric)
    errors = {k: rel_error(analytic[k], numeric[k]) for k in numeric}
    assert max(errors.values()) < 1e-6, errors


# ---- 3. LSTM projection and activations against torch ops ------------------------------------

def torch_lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh, W_hr, gate_activation, cell_activation):
    """The LSTM step in torch ops, from torch's documented equations."""
    sigma, phi = TORCH_ACT[gate_activation], TORCH_ACT[cell_activation]
    a = x @ W_ih.T + h @ W_hh.T
    if b_ih is not None:
        a = a + b_ih + b_hh
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    c_new = sigma(a_f) * c + sigma(a_i) * phi(a_g)
    h_new = sigma(a_o) * phi(c_new)
    return (h_new if W_hr is None else h_new @ W_hr.T), c_new


def test_torch_ops_reference_is_torchs_lstm_cell():
    rng = np.random.default_rng(3)
    cell = randomize_(torch.nn.LSTMCell(3, 4, dtype=torch.float64), rng)
    x, h, c = (torch.from_numpy(rng.standard_normal((2, k))) for k in (3, 4, 4))
    p = {k: torch.from_numpy(v) for k, v in numpy_params(cell).items()}
    ours = torch_lstm_step(x, h, c, p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"], None,
                           "sigmoid", "tanh")
    for a, b in zip(ours, cell(x, (h, c))):
        assert_close(to_numpy(a), b, F64, "reference")


@pytest.mark.parametrize("proj", [None, 2], ids=["no-proj", "proj"])
@pytest.mark.parametrize("cell_activation", ["tanh", "identity", "relu"])
@pytest.mark.parametrize("gate_activation", ["sigmoid", "hard_sigmoid", "step"])
def test_lstm_step_matches_torch_ops(gate_activation, cell_activation, proj):
    rng = np.random.default_rng(4)
    N, D, H = 3, 4, 5
    P = proj or H
    p = dict(W_ih=rng.uniform(-1, 1, (4 * H, D)), W_hh=rng.uniform(-1, 1, (4 * H, P)),
             b_ih=rng.uniform(-1, 1, 4 * H), b_hh=rng.uniform(-1, 1, 4 * H),
             W_hr=None if proj is None else rng.uniform(-1, 1, (P, H)))
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, P)), rng.standard_normal((N, H))
    gh, gc = rng.standard_normal((N, P)), rng.standard_normal((N, H))
    leaves = {k: tensor(v, True) for k, v in dict(p, x=x, h=h, c=c).items() if v is not None}
    h_t, c_t = torch_lstm_step(leaves["x"], leaves["h"], leaves["c"],
                               *(leaves.get(k) for k in ("W_ih", "W_hh", "b_ih", "b_hh", "W_hr")),
                               gate_activation, cell_activation)
    ((h_t * tensor(gh)).sum() + (c_t * tensor(gc)).sum()).backward()

    kw = dict(gate_activation=gate_activation, cell_activation=cell_activation)
    (h1, c1), cache = step_forward("LSTM", x, h, c, p, **kw)
    (dx, dh, dc), grads = step_backward("LSTM", (gh, gc), cache)
    label = f"LSTM {gate_activation} {cell_activation} proj={proj}"
    assert_close(h1, h_t, F64, "h", label)
    assert_close(c1, c_t, F64, "c", label)
    for name, g in dict(grads, x=dx, h=dh, c=dc).items():
        tg = leaves[name].grad
        assert_close(g, torch.zeros_like(leaves[name]) if tg is None else tg, F64, name, label)
    assert set(grads) == {k for k, v in p.items() if v is not None}


# ---- 4. sequences against torch.nn.RNN / LSTM / GRU --------------------------------------------

def run_against_torch(kind, T, N, D, H, *, bias, reverse, lengths, proj=0, seed=0):
    """One layer, one direction of torch against the textbook sequence functions."""
    rng = np.random.default_rng(seed)
    P = proj or H
    two = reverse and lengths is not None     # torch's reverse of a packed batch: bidirectional
    cls = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}.get(kind, torch.nn.RNN)
    kw = dict(rnn_kw(kind), **({"proj_size": proj} if proj else {}))
    layer = randomize_(cls(D, H, bias=bias, bidirectional=two, dtype=torch.float64, **kw), rng)
    x, h0, c0, g_y, g_h, g_c = (rng.standard_normal(shape) for shape in
                                [(T, N, D), (N, P), (N, H), (T, N, P), (N, P), (N, H)])

    xt, h0t, c0t = tensor(x, True), tensor(h0, True), tensor(c0, True)
    hx = [torch.stack([torch.zeros_like(s), s]) if two else s[None] for s in (h0t, c0t)]
    inp = torch.flip(xt, [0]) if reverse and not two else xt
    if lengths is not None:
        inp = pack_padded_sequence(inp, torch.as_tensor(lengths), enforce_sorted=False)
    y_t, state = layer(inp, tuple(hx) if kind == "LSTM" else hx[0])
    if lengths is not None:
        y_t, _ = pad_packed_sequence(y_t, total_length=T)
    if reverse:
        y_t = y_t[..., P:] if two else torch.flip(y_t, [0])
    states_t = [s[-1] for s in (state if kind == "LSTM" else (state,))]
    loss = (y_t * tensor(g_y)).sum()
    sum(((s * tensor(g)).sum() for s, g in zip(states_t, (g_h, g_c))), loss).backward()

    suffix = "_l0_reverse" if two else "_l0"
    p = numpy_params(layer, suffix)
    mask = None if lengths is None else (np.arange(T)[:, None, None]
                                         < np.array(lengths)[None, :, None]).astype(F64)
    weights = (p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    if kind == "LSTM":
        y, h_n, c_n, cache = tb.lstm_forward(x, h0, c0, *weights, p.get("W_hr"), mask=mask,
                                             reverse=reverse)
        dx, dh0, dc0, grads = tb.lstm_backward(g_y, g_h, g_c, cache)
        ours, theirs = [y, h_n, c_n, dx, dh0, dc0], [y_t, *states_t, xt.grad, h0t.grad, c0t.grad]
        names = ["y", "h_n", "c_n", "dx", "dh0", "dc0"]
    else:
        forward = tb.gru_forward if kind == "GRU" else tb.rnn_forward
        y, h_n, cache = forward(x, h0, *weights, mask=mask, reverse=reverse, **rnn_kw(kind))
        backward = tb.gru_backward if kind == "GRU" else tb.rnn_backward
        dx, dh0, grads = backward(g_y, g_h, cache)
        ours, theirs = [y, h_n, dx, dh0], [y_t, *states_t, xt.grad, h0t.grad]
        names = ["y", "h_n", "dx", "dh0"]
    label = f"{kind} T={T} N={N} reverse={reverse} lengths={lengths} proj={proj}"
    for name, a, b in zip(names, ours, theirs):
        assert_close(a, b, F64, name, label)
    compare_grads(grads, layer, suffix, label)


@pytest.mark.parametrize("lengths", [None, [4, 1, 3]], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("kind, proj", [(k, 0) for k in KINDS] + [("LSTM", 2)])
def test_sequence_matches_torch_layer(kind, proj, reverse, lengths):
    run_against_torch(kind, 4, 3, 2, 3, bias=True, reverse=reverse, lengths=lengths, proj=proj)


@HYPOTHESIS
@given(data=st.data())
def test_sequence_matches_torch_layer_property(data):
    kind = data.draw(st.sampled_from(KINDS))
    T, N, D, H = (data.draw(st.integers(1, 5)) for _ in range(4))
    lengths = data.draw(st.none() | st.lists(st.integers(1, T), min_size=N, max_size=N))
    proj = data.draw(st.integers(0, H - 1)) if kind == "LSTM" else 0
    run_against_torch(kind, T, N, D, H, bias=data.draw(st.booleans()),
                      reverse=data.draw(st.booleans()), lengths=lengths, proj=proj,
                      seed=data.draw(st.integers(0, 2**20)))


# ---- 5. the contract ---------------------------------------------------------------------------

def sequence_case(kind, dtype=F64):
    """Inputs and upstream gradients for ``kind`` (with a mask, reversed), and
    forward(a) -> (outputs, cache), backward(upstream, cache) -> (dx, dh0[, dc0], grads)."""
    rng = np.random.default_rng(5)
    T, N, D, H, G = 3, 2, 3, 4, GATES[kind]
    shapes = dict(x=(T, N, D), h0=(N, H), c0=(N, H), W_ih=(G * H, D), W_hh=(G * H, H),
                  b_ih=(G * H,), b_hh=(G * H,))
    a = {k: rng.uniform(-1, 1, shape).astype(dtype) for k, shape in shapes.items()}
    opts = dict(mask=np.array([[[1], [1]], [[1], [0]], [[1], [0]]], dtype), reverse=True)
    upstream = [rng.standard_normal(shape).astype(dtype) for shape in ((T, N, H), (N, H), (N, H))]

    def forward(a):
        w = (a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"])
        if kind == "LSTM":
            *out, cache = tb.lstm_forward(a["x"], a["h0"], a["c0"], *w, **opts)
        else:
            f = tb.gru_forward if kind == "GRU" else tb.rnn_forward
            *out, cache = f(a["x"], a["h0"], *w, **opts, **rnn_kw(kind))
        return out, cache

    def backward(upstream, cache):
        if kind == "LSTM":
            return tb.lstm_backward(*upstream, cache)
        b = tb.gru_backward if kind == "GRU" else tb.rnn_backward
        return b(*upstream[:2], cache)
    return a, upstream, forward, backward


def flat(out, back):
    """Every array of a forward's outputs and a backward's results, in a fixed order."""
    return list(out) + list(back[:-1]) + [back[-1][k] for k in sorted(back[-1])]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("which", [0, 1, 2], ids=["dy", "dh_n", "dc_n"])
def test_none_upstream_means_zeros(kind, which):
    a, upstream, forward, backward = sequence_case(kind)
    out, cache = forward(a)
    given = [None if k == which else u for k, u in enumerate(upstream)]
    zeros = [np.zeros_like(u) if k == which else u for k, u in enumerate(upstream)]
    for p, q in zip(flat(out, backward(given, cache)), flat(out, backward(zeros, cache))):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("kind", KINDS)
def test_caller_arrays_are_neither_kept_nor_changed(kind):
    a, upstream, forward, backward = sequence_case(kind)
    before = {k: v.copy() for k, v in a.items()}
    upstream_before = [u.copy() for u in upstream]
    out, cache = forward(a)
    for k in ("x", "h0", "c0"):                   # the caller edits its arrays in place ...
        a[k] += 1.0
    results = flat(out, backward(upstream, cache))
    for k in ("x", "h0", "c0"):
        np.copyto(a[k], before[k])
    out_again, cache_again = forward(a)
    expected = flat(out_again, backward(upstream, cache_again))
    for r, e in zip(results, expected):           # ... and the backward does not notice
        np.testing.assert_array_equal(r, e)
    for r in results:
        assert not any(np.shares_memory(r, v) for v in list(a.values()) + upstream)
    for k, v in a.items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    for u, b in zip(upstream, upstream_before):
        np.testing.assert_array_equal(u, b)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(kind):
    a, upstream, forward, backward = sequence_case(kind, dtype=np.float32)
    out, cache = forward(a)
    assert all(r.dtype == np.float32 for r in flat(out, backward(upstream, cache)))


@pytest.mark.parametrize("activation", ["hard_sigmoid", "step"])
def test_float32_lstm_activations_stay_float32(activation):
    x = np.ones((2, 1, 1), np.float32)
    W = np.full((4, 1), 0.5, np.float32)
    *out, cache = tb.lstm_forward(x, np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float32),
                                  W, W, gate_activation=activation, cell_activation="relu")
    for r in out + list(tb.lstm_backward(out[0], None, None, cache)[:-1]):
        assert r.dtype == np.float32


def test_activation_names_are_checked():
    x, h, W = np.zeros((1, 2)), np.zeros((1, 3)), np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"nonlinearity.*'tanh', 'relu'.*'softsign'"):
        tb.rnn_step_forward(x, h, W, np.zeros((3, 3)), None, None, nonlinearity="softsign")
    W4 = np.zeros((12, 2))
    with pytest.raises(ValueError, match=r"gate_activation.*'sigmoid', 'hard_sigmoid', 'step'"):
        tb.lstm_step_forward(x, h, h, W4, np.zeros((12, 3)), None, None, gate_activation="softsign")
    with pytest.raises(ValueError, match=r"cell_activation.*'tanh', 'identity', 'relu'"):
        tb.lstm_forward(x[None], h, h, W4, np.zeros((12, 3)), cell_activation="step")


def test_sigmoid_saturates_without_warnings():
    """The suite turns RuntimeWarning into errors, so an overflow warning would fail here."""
    y = minirnn.textbook.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(y, [0.0, 0.5, 1.0])
    assert minirnn.textbook.sigmoid(np.float32(-1000)) == 0
    assert minirnn.textbook.sigmoid(np.zeros(2, np.float32)).dtype == np.float32
