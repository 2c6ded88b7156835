"""The two tiers compute the same numbers: minirnn.textbook (readable) and minirnn.functional
(the engine), in float64, to 1e-12 relative on every output, final state and gradient.

Property tests draw every option the sequence functions take: cell type, T, N, D, H, biases
or not, a mask from random lengths (1 to T) or a per-step 0/1 mask with gaps (and its Keras
output mask), reverse, an LSTM projection and peepholes, the GRU's reset_after, every gate and
cell activation and SRN nonlinearity, and None or an array for each upstream gradient. Then
the step functions against the engine run on T = 1, ``lstm_gates`` of both tiers, and the
equations both tiers' docstrings state.
"""
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minirnn.functional as engine
import minirnn.functional.gru
import minirnn.functional.lstm
import minirnn.functional.rnn
import minirnn.textbook.variants as textbook
import minirnn.textbook.variants.gru
import minirnn.textbook.variants.lstm
import minirnn.textbook.variants.rnn
from minirnn.functional._sequence import mask_from_lengths, seen_mask
from minirnn.textbook.activations import ALLOWED
from torch_oracle import HYPOTHESIS, _log, relative_error

RTOL = 1e-12
# the shared profile, with 8 times its examples: each is a few milliseconds, and the options
# to cover are many (MINIRNN_HYPOTHESIS_EXAMPLES scales this too)
TIERS = settings(HYPOTHESIS, max_examples=8 * HYPOTHESIS.max_examples)
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "RNN": 1, "LSTM": 4, "GRU": 3}


def assert_agree(actual, expected, what, label):
    """Same shape and dtype, and max |actual − expected| ≤ 1e-12 · max |expected|."""
    assert actual.shape == expected.shape, f"{what}: {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: {actual.dtype} != {expected.dtype}"
    err = relative_error(actual, expected)
    _log(f"tiers {label}", what, err)
    assert err <= RTOL, f"{label} {what}: relative error {err:.2e}"


def assert_grads_agree(actual, expected, label):
    assert set(actual) == set(expected), f"{label}: grads keys {set(actual)} != {set(expected)}"
    for k in expected:
        assert_agree(actual[k], expected[k], f"grad of {k}", label)


# ---- drawing a configuration ----------------------------------------------------------------

@st.composite
def configs(draw, kind):
    T, N = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    c = dict(kind=kind, T=T, N=N, D=draw(st.integers(1, 5)), H=draw(st.integers(1, 5)),
             bias=draw(st.booleans()), reverse=draw(st.booleans()), lengths=None, P=None,
             seed=draw(st.integers(0, 2**20)),
             given=draw(st.lists(st.booleans(), min_size=3, max_size=3)))   # dy, dh_n, dc_n
    masking = draw(st.sampled_from(["none", "lengths", "steps"]))
    if masking == "lengths":        # lengths 1..T: a length-1 and a full sequence both occur
        c["lengths"] = draw(st.lists(st.integers(1, T), min_size=N, max_size=N))
    elif masking == "steps":        # any 0/1 pattern, gaps and all-zero rows included
        c["steps"] = draw(st.lists(st.lists(st.integers(0, 1), min_size=N, max_size=N),
                                   min_size=T, max_size=T))
    if kind == "RNN":
        c["nonlinearity"] = draw(st.sampled_from(ALLOWED["nonlinearity"]))
    if kind in ("LSTM", "GRU"):
        c["gate_activation"] = draw(st.sampled_from(ALLOWED["gate_activation"]))
        c["cell_activation"] = draw(st.sampled_from(ALLOWED["cell_activation"]))
    if kind == "LSTM":
        c["P"] = draw(st.one_of(st.none(), st.integers(1, 5)))
        c["peephole"] = draw(st.booleans())
    if kind == "GRU":
        c["reset_after"] = draw(st.booleans())
    return c


def arrays(c):
    """Random inputs, weights and upstream gradients for configuration ``c``."""
    rng = np.random.default_rng(c["seed"])
    T, N, D, H, G = c["T"], c["N"], c["D"], c["H"], GATES[c["kind"]]
    P = c["P"] or H                                     # size of h
    a = dict(x=rng.standard_normal((T, N, D)), h0=rng.standard_normal((N, P)),
             W_ih=rng.uniform(-0.6, 0.6, (G * H, D)), W_hh=rng.uniform(-0.6, 0.6, (G * H, P)),
             b_ih=None, b_hh=None)
    if c["bias"]:
        a["b_ih"], a["b_hh"] = rng.uniform(-0.5, 0.5, (2, G * H))
    upstream = [rng.standard_normal(s) for s in [(T, N, P), (N, P), (N, H)]]
    dy, dh_n, dc_n = [u if keep else None for u, keep in zip(upstream, c["given"])]
    kw = {}
    if c["kind"] in ("LSTM", "GRU"):
        kw = dict(gate_activation=c.get("gate_activation", "sigmoid"),
                  cell_activation=c.get("cell_activation", "tanh"))
    if c["kind"] == "LSTM":
        a["c0"] = rng.standard_normal((N, H))
        if c["P"] is not None:
            kw["W_hr"] = rng.uniform(-0.6, 0.6, (P, H))
        if c.get("peephole"):
            kw["w_ci"], kw["w_cf"], kw["w_co"] = rng.uniform(-0.6, 0.6, (3, H))
    elif c["kind"] == "GRU":
        kw["reset_after"] = c.get("reset_after", True)
    elif c["kind"] == "RNN":
        kw["nonlinearity"] = c.get("nonlinearity", "tanh")
    else:
        kw["nonlinearity"] = c["kind"][4:].lower()
    if c["lengths"] is not None:
        kw["mask"] = mask_from_lengths(c["lengths"], T, np.float64)
    elif c.get("steps") is not None:
        kw["mask"] = np.array(c["steps"], np.float64)[:, :, None]
        kw["output_mask"] = seen_mask(kw["mask"], c["reverse"])
    return a, kw, dy, dh_n, dc_n


def run_tier(tier, c):
    """(forward results without the cache, backward results, cache) of one tier."""
    a, kw, dy, dh_n, dc_n = arrays(c)
    weights = (a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"])
    if c["kind"] == "LSTM":
        *out, cache = tier.lstm_forward(a["x"], a["h0"], a["c0"], *weights,
                                        reverse=c["reverse"], **kw)
        back = tier.lstm_backward(dy, dh_n, dc_n, cache)
    elif c["kind"] == "GRU":
        *out, cache = tier.gru_forward(a["x"], a["h0"], *weights, reverse=c["reverse"], **kw)
        back = tier.gru_backward(dy, dh_n, cache)
    else:
        *out, cache = tier.rnn_forward(a["x"], a["h0"], *weights, reverse=c["reverse"], **kw)
        back = tier.rnn_backward(dy, dh_n, cache)
    return out, back, cache


def check_sequence(c):
    label = str(c)
    out_t, back_t, _ = run_tier(textbook, c)
    out_e, back_e, _ = run_tier(engine, c)
    names = ["y", "h_n", "c_n"][:len(out_e)]
    for name, actual, expected in zip(names, out_t, out_e):
        assert_agree(actual, expected, name, label)
    names = ["dx", "dh0", "dc0"][:len(back_e) - 1]
    for name, actual, expected in zip(names, back_t[:-1], back_e[:-1]):
        assert_agree(actual, expected, name, label)
    assert_grads_agree(back_t[-1], back_e[-1], label)


@TIERS
@given(c=configs("RNN_TANH") | configs("RNN_RELU") | configs("RNN"))
def test_rnn_sequence_tiers_agree(c):
    check_sequence(c)


@TIERS
@given(c=configs("LSTM"))
def test_lstm_sequence_tiers_agree(c):
    check_sequence(c)


@TIERS
@given(c=configs("GRU"))
def test_gru_sequence_tiers_agree(c):
    check_sequence(c)


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("lengths", [[1, 4, 2], [4, 4, 4]], ids=["ragged", "full"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_every_option_once(kind, lengths, reverse):
    """A fixed grid beside the drawn one, so length 1, full length and both directions run."""
    c = dict(kind=kind, T=4, N=3, D=2, H=3, bias=True, reverse=reverse, lengths=lengths,
             P=2 if kind == "LSTM" else None, seed=7, given=[True, True, True],
             gate_activation="sigmoid", cell_activation="tanh")
    check_sequence(c)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("variant", [True, False], ids=["variant", "plain"])
@pytest.mark.parametrize("steps", [None, [[1, 0, 1], [0, 0, 1], [1, 0, 0], [1, 1, 0]]],
                         ids=["no-mask", "step-mask"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_every_variant_once(kind, variant, steps, reverse):
    """Peepholes (LSTM) or reset_after=False (GRU), with and without a per-step mask."""
    c = dict(kind=kind, T=4, N=3, D=2, H=3, bias=True, reverse=reverse, lengths=None,
             steps=steps, P=2 if kind == "LSTM" else None, seed=11, given=[True, True, True],
             gate_activation="sigmoid", cell_activation="tanh", peephole=variant,
             reset_after=not variant)
    check_sequence(c)


# ---- the step functions are the engine on T = 1 --------------------------------------------

@TIERS
@given(c=st.sampled_from(list(GATES)).flatmap(configs))
def test_step_functions_are_the_engine_on_one_step(c):
    c = dict(c, T=1, lengths=None, steps=None, reverse=False, given=[False, True, True])
    label = str(c)
    a, kw, _, dh, dc = arrays(c)
    (_, *states_e), (dx_e, *dstates_e, grads_e), _ = run_tier(engine, c)
    x, weights = a["x"][0], (a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"])
    if c["kind"] == "LSTM":
        W_hr = kw.pop("W_hr", None)
        h, c1, step = textbook.lstm_step_forward(x, a["h0"], a["c0"], *weights, W_hr, **kw)
        dx, *dstates, grads = textbook.lstm_step_backward(dh, dc, step)
        states = [h, c1]
    else:
        forward = textbook.gru_step_forward if c["kind"] == "GRU" else textbook.rnn_step_forward
        backward = textbook.gru_step_backward if c["kind"] == "GRU" else textbook.rnn_step_backward
        h, step = forward(x, a["h0"], *weights, **kw)
        dx, *dstates, grads = backward(dh, step)
        states = [h]
    for name, actual, expected in zip(["h", "c"], states, states_e):
        assert_agree(actual, expected, name, label)
    assert_agree(dx, dx_e[0], "dx", label)
    for name, actual, expected in zip(["dh_prev", "dc_prev"], dstates, dstates_e):
        assert_agree(actual, expected, name, label)
    assert_grads_agree(grads, grads_e, label)


# ---- lstm_gates ------------------------------------------------------------------------------

@TIERS
@given(c=configs("LSTM"))
def test_lstm_gates_agree(c):
    label = str(c)
    *_, cache_t = run_tier(textbook, c)
    *_, cache_e = run_tier(engine, c)
    gates_t = minirnn.textbook.variants.lstm.lstm_gates(cache_t)
    gates_e = minirnn.functional.lstm.lstm_gates(cache_e)
    assert set(gates_t) == set(gates_e) == set("ifgoc")
    for k in "ifgoc":
        assert gates_e[k].shape == (c["T"], c["N"], c["H"])
        assert_agree(gates_t[k], gates_e[k], k, label)


def test_lstm_gates_are_in_input_time_order():
    """Reversed input with reverse=True gives the forward run's gates, reversed in time."""
    c = dict(kind="LSTM", T=5, N=2, D=3, H=4, bias=True, reverse=False, lengths=None, P=None,
             seed=3, given=[True, True, True], gate_activation="sigmoid", cell_activation="tanh")
    a, kw, *_ = arrays(c)
    weights = (a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"])
    for tier in (minirnn.textbook.variants.lstm, minirnn.functional.lstm):
        *_, fwd = tier.lstm_forward(a["x"], a["h0"], a["c0"], *weights)
        *_, rev = tier.lstm_forward(a["x"][::-1], a["h0"], a["c0"], *weights, reverse=True)
        g_fwd, g_rev = tier.lstm_gates(fwd), tier.lstm_gates(rev)
        for k in "ifgoc":
            np.testing.assert_allclose(g_rev[k][::-1], g_fwd[k], rtol=1e-13, err_msg=k)


# ---- the equations -------------------------------------------------------------------------

def equations(doc):
    """The numbered equation lines of a module docstring, with their continuation lines."""
    lines = doc.splitlines()
    out = []
    for k, line in enumerate(lines):
        continued = out and out[-1] == k - 1 and line.startswith(" " * 7)
        if re.match(r"  \((\d|[A-Z]\d)'?\)", line) or continued:
            out.append(k)
    return [lines[k].rstrip() for k in out]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_both_tiers_state_the_same_equations(cell):
    """The engine cites the textbook's equation numbers, so the two lists must not drift."""
    ours = equations(getattr(minirnn.textbook.variants, cell).__doc__)
    theirs = equations(getattr(minirnn.functional, cell).__doc__)
    assert len(ours) >= 6
    assert ours == theirs
