"""The two tiers through the layers and cells: the same module run on the textbook tier and on
the engine gives the same outputs, final states, input and state gradients and parameter
gradients to 1e-12 relative (float64), over every option: multi-layer, bidirectional,
batch_first, lengths, projection, activations, bias, dropout between layers, unbatched."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minirnn
from minirnn import nn
from torch_oracle import HYPOTHESIS, relative_error

TOL = 1e-12


def run(impl, make, x, hx, lengths, grads):
    """Forward and backward of a fresh module (same seed) on tier ``impl``."""
    with minirnn.use_impl(impl):
        m = make()
        out, state = m(x, hx, lengths=lengths) if lengths is not None else m(x, hx)
        dy, dstate = grads(out, state)
        dx, dhx = m.backward(dy, dstate)
    return [out, state, dx, dhx] + [p.grad for _, p in m.named_parameters()]


def leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [a for t in tree for a in leaves(t)]
    return [tree]


def assert_tiers_agree(make, x, hx=None, lengths=None, seed=0):
    rng = np.random.default_rng(seed)

    def grads(out, state):
        dy = rng.standard_normal(out.shape)
        dstate = tuple(rng.standard_normal(s.shape) for s in state) if isinstance(state, tuple) \
            else rng.standard_normal(state.shape)
        return dy, dstate

    engine = leaves(run("engine", make, x, hx, lengths, grads))
    rng = np.random.default_rng(seed)
    textbook = leaves(run("textbook", make, x, hx, lengths, grads))
    assert len(engine) == len(textbook)
    for k, (a, b) in enumerate(zip(engine, textbook)):
        assert a.shape == b.shape, k
        assert relative_error(b, a) <= TOL, (k, relative_error(b, a))


options = st.fixed_dictionaries({
    "mode": st.sampled_from(["RNN", "LSTM", "GRU"]),
    "T": st.integers(1, 5), "N": st.integers(1, 3), "D": st.integers(1, 4),
    "H": st.integers(2, 5), "layers": st.integers(1, 2), "bi": st.booleans(),
    "batch_first": st.booleans(), "bias": st.booleans(), "with_lengths": st.booleans(),
    "proj": st.booleans(), "dropout": st.sampled_from([0.0, 0.5]),
    "gate": st.sampled_from(["sigmoid", "hard_sigmoid", "step"]),
    "cell": st.sampled_from(["tanh", "identity", "relu"]),
    "nonlinearity": st.sampled_from(["tanh", "relu"]),
    "with_hx": st.booleans(), "seed": st.integers(0, 2 ** 16),
})


@HYPOTHESIS
@given(options)
def test_layers_agree_on_both_tiers(o):
    rng = np.random.default_rng(o["seed"])
    kw = dict(num_layers=o["layers"], bidirectional=o["bi"], batch_first=o["batch_first"],
              bias=o["bias"], dropout=o["dropout"] if o["layers"] > 1 else 0.0)
    if o["mode"] == "RNN":
        kw["nonlinearity"] = o["nonlinearity"]
    if o["mode"] == "LSTM":
        kw.update(gate_activation=o["gate"], cell_activation=o["cell"],
                  proj_size=o["H"] - 1 if o["proj"] else 0)
    make = lambda: getattr(nn, o["mode"])(o["D"], o["H"], rng=o["seed"], **kw)  # noqa: E731
    T, N = o["T"], o["N"]
    x = rng.standard_normal((N, T, o["D"]) if o["batch_first"] else (T, N, o["D"]))
    lengths = rng.integers(1, T + 1, N) if o["with_lengths"] else None
    hx = None
    if o["with_hx"]:
        LD, P = o["layers"] * (2 if o["bi"] else 1), make().output_size
        h0 = rng.standard_normal((LD, N, P))
        hx = (h0, rng.standard_normal((LD, N, o["H"]))) if o["mode"] == "LSTM" else h0
    assert_tiers_agree(make, x, hx, lengths, o["seed"])


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_agrees_on_both_tiers(mode):
    x = np.random.default_rng(1).standard_normal((6, 3))
    assert_tiers_agree(lambda: getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, rng=2),
                       x)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_unrolled_by_hand_agree_on_both_tiers(kind):
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((5, 2, 3))
    dys = rng.standard_normal((5, 2, 4))

    def unroll(impl):
        with minirnn.use_impl(impl):
            cell = getattr(nn, kind)(3, 4, rng=4)
            h = c = None
            for x in xs:
                if kind == "LSTMCell":
                    h, c = cell(x, None if h is None else (h, c))
                else:
                    h = cell(x, h)
            dh, dc, dxs = np.zeros((2, 4)), np.zeros((2, 4)), []
            for dy in dys[::-1]:
                if kind == "LSTMCell":
                    dx, (dh, dc) = cell.backward((dy + dh, dc))
                else:
                    dx, dh = cell.backward(dy + dh)
                dxs.append(dx)
        return [h, np.stack(dxs), dh] + [p.grad for _, p in cell.named_parameters()]

    for a, b in zip(unroll("engine"), unroll("textbook")):
        assert relative_error(b, a) <= TOL


def test_a_backward_runs_on_the_tier_of_its_forward():
    x = np.random.default_rng(5).standard_normal((4, 2, 3))
    for forward_tier, backward_tier in (("textbook", "engine"), ("engine", "textbook")):
        with minirnn.use_impl(forward_tier):
            lstm = nn.LSTM(3, 4, rng=0)
            out, _ = lstm(x)
        with minirnn.use_impl(backward_tier):               # the cache knows its tier
            dx, _ = lstm.backward(np.ones_like(out))
        with minirnn.use_impl(forward_tier):
            ref = nn.LSTM(3, 4, rng=0)
            out_ref, _ = ref(x)
            dx_ref = ref.backward(np.ones_like(out_ref))[0]
        np.testing.assert_allclose(dx, dx_ref, rtol=1e-12)


def test_last_gates_agree_on_both_tiers():
    x = np.random.default_rng(6).standard_normal((5, 2, 3))
    gates = {}
    for impl in ("engine", "textbook"):
        with minirnn.use_impl(impl):
            lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, rng=0)
            lstm(x, lengths=[5, 2])
            gates[impl] = lstm.last_gates
    for k in "ifgoc":
        assert relative_error(gates["textbook"][k], gates["engine"][k]) <= TOL, k
