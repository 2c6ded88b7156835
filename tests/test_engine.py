"""The engine's own arrangements, each against the textbook tier or against itself.

The engine (minirnn/functional/) runs its loops over chunks of steps, keeps chunk-sized
scratch in a per-thread workspace, takes large float64 tanh through exp, and has a lean
inference path (``keep_cache=False``). The ordinary tests run sequences short enough to fit
one chunk and arrays too small for the exp path, so here:
- the tier agreement of tests/test_tiers.py again, with chunks of 1, 2 or 3 steps, and with
  the exp path of tanh taken at every size;
- inference gives exactly the training forward's outputs, on every option, and its memory
  does not grow with T beyond the output;
- nothing a call returns or caches shares memory with the workspace: a later call does not
  change an earlier output or cache;
- ``activations.tanh`` through exp agrees with np.tanh to rounding, extremes included.
"""
import contextlib
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minirnn
import minirnn.functional as engine
import minirnn.nn as nn
from minirnn.functional import _sequence, activations
from test_tiers import GATES, TIERS, arrays, check_sequence, configs, run_tier


@contextlib.contextmanager
def chunk_steps(k, N, H):
    """Run the block with chunks of k steps for a batch N and hidden size H."""
    old = _sequence.CHUNK_ELEMENTS
    _sequence.CHUNK_ELEMENTS = k * N * H
    try:
        yield
    finally:
        _sequence.CHUNK_ELEMENTS = old


@contextlib.contextmanager
def tanh_through_exp():
    """Take float64 tanh through exp at every size."""
    old = activations.TANH_VIA_EXP
    activations.TANH_VIA_EXP = 1
    try:
        yield
    finally:
        activations.TANH_VIA_EXP = old


ANY_CELL = st.sampled_from(["RNN", "LSTM", "GRU"]).flatmap(configs)


@TIERS
@given(c=ANY_CELL, k=st.integers(1, 3))
def test_tiers_agree_over_chunks_of_a_few_steps(c, k):
    with chunk_steps(k, c["N"], c["H"]):
        check_sequence(c)


@TIERS
@given(c=ANY_CELL)
def test_tiers_agree_with_tanh_through_exp(c):
    with tanh_through_exp(), chunk_steps(2, c["N"], c["H"]):
        check_sequence(c)


def test_chunks_cover_every_step_once_in_processing_order():
    for T in (1, 5, 7):
        for size in (1, 2, 3, 10):
            for reverse in (False, True):
                with chunk_steps(size, 1, 1):
                    runs = list(_sequence.chunks(T, reverse, 1, 1))
                order = [t for _, _, steps in runs for t in steps]
                assert order == (list(range(T - 1, -1, -1)) if reverse else list(range(T)))
                assert all(hi - lo <= size and list(sorted(steps)) == list(range(lo, hi))
                           for lo, hi, steps in runs)


# ---- inference ------------------------------------------------------------------------------

def forward_only(tier, c, keep_cache):
    a, kw, *_ = arrays(c)
    weights = (a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"])
    if c["kind"] == "LSTM":
        return tier.lstm_forward(a["x"], a["h0"], a["c0"], *weights, reverse=c["reverse"],
                                 keep_cache=keep_cache, **kw)
    f = tier.gru_forward if c["kind"] == "GRU" else tier.rnn_forward
    return f(a["x"], a["h0"], *weights, reverse=c["reverse"], keep_cache=keep_cache, **kw)


@TIERS
@given(c=ANY_CELL, k=st.integers(1, 3))
def test_inference_gives_exactly_the_training_forward(c, k):
    with chunk_steps(k, c["N"], c["H"]):
        *train, cache = forward_only(engine, c, True)
        *infer, none = forward_only(engine, c, False)
    assert cache is not None and none is None
    for a, b in zip(train, infer):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_textbook_inference_returns_no_cache(kind):
    c = dict(kind=kind, T=3, N=2, D=2, H=3, bias=True, reverse=False, lengths=None, P=None,
             seed=1, given=[True, True, True])
    *out, cache = forward_only(minirnn.textbook.variants, c, False)
    *want, _ = forward_only(minirnn.textbook.variants, c, True)
    assert cache is None
    for a, b in zip(out, want):
        np.testing.assert_array_equal(a, b)


def inference_peak(layer, T, N, D, dtype):
    x = np.random.default_rng(0).standard_normal((T, N, D)).astype(dtype)
    layer(x)                                   # warm: workspaces, caches of constants
    tracemalloc.start()
    with minirnn.no_grad():
        y, _ = layer(x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, y.nbytes


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_inference_memory_does_not_grow_with_T_beyond_the_output(kind):
    """Peak memory of a no_grad forward at T and 8T: the difference is the output's growth
    (plus the state buffer's, the same size), not the per-step cache training keeps."""
    N, D, H = 4, 5, 64
    layer = getattr(nn, kind)(D, H, rng=0)
    with minirnn.use_impl("engine"):        # the textbook's loop keeps its steps, to be read
        peak1, out1 = inference_peak(layer, 64, N, D, np.float64)
        peak8, out8 = inference_peak(layer, 512, N, D, np.float64)
    gates = GATES[kind] * (512 - 64) * N * H * 8          # what a per-step cache would add
    assert peak8 - peak1 <= 2 * (out8 - out1) + 64 * 1024, (peak1, peak8, out8 - out1)
    assert peak8 - peak1 < 2 * (out8 - out1) + gates / 2


def test_last_gates_after_an_inference_forward_says_why():
    lstm = nn.LSTM(2, 3, rng=0)
    with minirnn.no_grad():
        lstm(np.zeros((4, 1, 2)))
    with pytest.raises(RuntimeError, match="no_grad"):
        lstm.last_gates


# ---- the workspace never leaks into results -------------------------------------------------

@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_later_call_changes_no_earlier_output_or_cache(kind):
    c1 = dict(kind=kind, T=5, N=2, D=3, H=4, bias=True, reverse=False, lengths=None, P=None,
              seed=3, given=[True, True, True])
    c2 = dict(c1, seed=4, reverse=True)
    with chunk_steps(2, 2, 4):
        out1, back1, cache1 = run_tier(engine, c1)
        kept = [o.copy() for o in out1]
        run_tier(engine, c2)                             # same shapes: same workspaces
        for before, after in zip(kept, out1):
            np.testing.assert_array_equal(before, after)
        _, _, dy, dh_n, dc_n = arrays(c1)
        if kind == "LSTM":
            again = engine.lstm_backward(dy, dh_n, dc_n, cache1)
        elif kind == "GRU":
            again = engine.gru_backward(dy, dh_n, cache1)
        else:
            again = engine.rnn_backward(dy, dh_n, cache1)
    for a, b in zip(back1[:-1], again[:-1]):
        np.testing.assert_array_equal(a, b)
    for key in back1[-1]:
        np.testing.assert_array_equal(back1[-1][key], again[-1][key])


def test_backward_leaves_the_upstream_gradients_as_they_were():
    c = dict(kind="LSTM", T=3, N=2, D=2, H=3, bias=True, reverse=False, lengths=None, P=None,
             seed=5, given=[True, True, True])
    _, _, cache = run_tier(engine, c)
    _, _, dy, dh_n, dc_n = arrays(c)
    copies = [dy.copy(), dh_n.copy(), dc_n.copy()]
    engine.lstm_backward(dy, dh_n, dc_n, cache)
    for before, after in zip(copies, (dy, dh_n, dc_n)):
        np.testing.assert_array_equal(before, after)


# ---- tanh through exp -----------------------------------------------------------------------

def test_tanh_through_exp_agrees_with_numpy_to_rounding():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(4000) * 3, np.linspace(-20, 20, 4001),
                        [0.0, -0.0, 1e-300, -1e-300, 1e-8, 400.0, -400.0, 1e308, -1e308,
                         np.inf, -np.inf]])
    out = np.empty_like(x)
    with np.errstate(all="raise", under="ignore"):     # no overflow warning reaches a user
        activations.tanh(x, out)
    assert x.size >= activations.TANH_VIA_EXP
    assert np.max(np.abs(out - np.tanh(x))) <= 4 * np.finfo(np.float64).eps
    assert out[-2] == 1.0 and out[-1] == -1.0 and np.all(np.abs(out) <= 1)
    nan = np.full(activations.TANH_VIA_EXP, np.nan)
    assert np.isnan(activations.tanh(nan, np.empty_like(nan))).all()
