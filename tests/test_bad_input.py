"""Invalid input raises before any computation, with a message naming what was expected.

"Before any computation" is checked too: after a rejected forward no cache was pushed, so a
backward has nothing to undo and raises RuntimeError.
"""
import re

import numpy as np
import pytest

import minirnn
import minirnn.nn as mnn

RECURRENT = [
    pytest.param(lambda **kw: mnn.RNN(5, 7, rng=0, **kw), id="RNN"),
    pytest.param(lambda **kw: mnn.LSTM(5, 7, rng=0, **kw), id="LSTM"),
    pytest.param(lambda **kw: mnn.GRU(5, 7, rng=0, **kw), id="GRU"),
]


def assert_nothing_pending(module):
    with pytest.raises(RuntimeError):
        module.backward(np.zeros(1))


def states(module, shape_h, shape_c=None):
    """An hx for ``module``: an array, or (h0, c0) for an LSTM."""
    h = np.zeros(shape_h)
    if isinstance(module, mnn.LSTM):
        return h, np.zeros(shape_c or shape_h)
    return h


# ---- recurrent layers --------------------------------------------------------------------

@pytest.mark.parametrize("make", RECURRENT)
def test_wrong_feature_size(make):
    m = make()
    with pytest.raises(ValueError, match=r"expected.*\b5\b") as info:
        m(np.zeros((4, 3, 6)))
    assert "6" in str(info.value)
    assert_nothing_pending(m)


@pytest.mark.parametrize("make", RECURRENT)
def test_wrong_feature_size_batch_first_and_unbatched(make):
    m = make(batch_first=True)
    with pytest.raises(ValueError, match=r"\b5\b"):
        m(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match=r"\b5\b"):
        m(np.zeros((4, 2)))


@pytest.mark.parametrize("make", RECURRENT)
def test_wrong_hx_shape_names_both_shapes(make):
    m = make(num_layers=2)
    x = np.zeros((4, 3, 5))
    # the contract's example message; an LSTM may name h0 instead of hx
    with pytest.raises(ValueError,
                       match=r"expected (hx|h0) of shape \(2, 3, 7\), got \(2, 4, 7\)"):
        m(x, states(m, (2, 4, 7), (2, 3, 7)))
    assert_nothing_pending(m)


@pytest.mark.parametrize("make", RECURRENT)
def test_wrong_hx_ndim(make):
    m = make()
    with pytest.raises(ValueError, match=re.escape("(1, 3, 7)")):
        m(np.zeros((4, 3, 5)), states(m, (3, 7), (1, 3, 7)))
    with pytest.raises(ValueError, match=re.escape("(1, 7)")):  # unbatched input, batched hx
        m(np.zeros((4, 5)), states(m, (1, 3, 7), (1, 7)))


def test_wrong_hx_shape_bidirectional_batch_first():
    m = mnn.GRU(5, 7, num_layers=2, bidirectional=True, batch_first=True, rng=0)
    with pytest.raises(ValueError, match=re.escape("of shape (4, 3, 7)")):
        m(np.zeros((3, 6, 5)), np.zeros((2, 3, 7)))


def test_lstm_wrong_c0_shape():
    m = mnn.LSTM(5, 7, rng=0)
    with pytest.raises(ValueError, match=re.escape("(1, 3, 7)")) as info:
        m(np.zeros((4, 3, 5)), (np.zeros((1, 3, 7)), np.zeros((1, 3, 6))))
    assert "(1, 3, 6)" in str(info.value)
    assert_nothing_pending(m)


def test_lstm_projection_h0_shape_uses_proj_size():
    m = mnn.LSTM(5, 7, proj_size=3, rng=0)
    with pytest.raises(ValueError, match=re.escape("(1, 2, 3)")):
        m(np.zeros((4, 2, 5)), (np.zeros((1, 2, 7)), np.zeros((1, 2, 7))))
    out, (h, c) = m(np.zeros((4, 2, 5)), (np.zeros((1, 2, 3)), np.zeros((1, 2, 7))))
    assert out.shape == (4, 2, 3) and h.shape == (1, 2, 3) and c.shape == (1, 2, 7)


@pytest.mark.parametrize("hx", ["bare-array", "c0-None", "h0-None", "1-tuple"])
def test_lstm_missing_c0(hx):
    m = mnn.LSTM(5, 7, rng=0)
    h = np.zeros((1, 3, 7))
    value = {"bare-array": h, "c0-None": (h, None), "h0-None": (None, h), "1-tuple": (h,)}[hx]
    with pytest.raises((ValueError, TypeError), match=r"(?i)\(h0, c0\)|c0|h0|tuple"):
        m(np.zeros((4, 3, 5)), value)
    assert_nothing_pending(m)


@pytest.mark.parametrize("make", RECURRENT)
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 5)], ids=["1-D", "4-D"])
def test_wrong_number_of_input_dimensions(make, shape):
    m = make()
    with pytest.raises(ValueError, match=r"(?i)expected.*(\(L, N, 5\)|[23]-?D|dim)"):
        m(np.zeros(shape))
    assert_nothing_pending(m)


@pytest.mark.parametrize("make", RECURRENT)
def test_integer_input_is_a_type_error(make):
    m = make()
    with pytest.raises(TypeError, match=r"(?i)float"):
        m(np.zeros((4, 3, 5), dtype=np.int64))
    with pytest.raises(TypeError, match=r"(?i)float"):
        m(np.zeros((4, 3, 5), dtype=bool))
    assert_nothing_pending(m)


@pytest.mark.parametrize("make", RECURRENT)
@pytest.mark.parametrize("lengths", [[4, 0, 2], [4, 5, 2], [4, -1, 2], [4, 2], [4, 3, 2, 1]],
                         ids=["zero", "above-L", "negative", "too-few", "too-many"])
def test_bad_lengths(make, lengths):
    m = make()
    with pytest.raises(ValueError, match=r"(?i)length"):
        m(np.zeros((4, 3, 5)), lengths=lengths)
    assert_nothing_pending(m)


@pytest.mark.parametrize("make", RECURRENT)
def test_non_integer_lengths(make):
    with pytest.raises((ValueError, TypeError), match=r"(?i)length"):
        make()(np.zeros((4, 3, 5)), lengths=[4.0, 3.5, 1.0])


# ---- cells -------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [mnn.RNNCell, mnn.GRUCell, mnn.LSTMCell])
def test_cell_bad_input(cls):
    cell = cls(5, 7, rng=0)
    with pytest.raises(ValueError, match=r"\b5\b"):
        cell(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"(?i)expected"):
        cell(np.zeros((2, 3, 5)))
    with pytest.raises(TypeError):
        cell(np.zeros((3, 5), dtype=np.int32))
    bad_h = np.zeros((4, 7))
    with pytest.raises(ValueError, match=re.escape("(3, 7)")):
        cell(np.zeros((3, 5)), (bad_h, np.zeros((3, 7))) if cls is mnn.LSTMCell else bad_h)
    assert_nothing_pending(cell)


# ---- Linear, Embedding, CrossEntropyLoss -------------------------------------------------

def test_linear_bad_input():
    lin = mnn.Linear(4, 3, rng=0)
    with pytest.raises(ValueError, match=r"\b4\b"):
        lin(np.zeros((2, 5)))
    with pytest.raises(TypeError):
        lin(np.zeros((2, 4), dtype=np.int64))
    assert_nothing_pending(lin)


@pytest.mark.parametrize("ids", [[0, 5], [-1, 2], [[1, 2], [7, 0]]], ids=["num", "negative", "2-D"])
def test_embedding_ids_out_of_range(ids):
    emb = mnn.Embedding(5, 3, rng=0)
    with pytest.raises(IndexError, match=r"\b5\b"):
        emb(np.array(ids))
    assert_nothing_pending(emb)


@pytest.mark.parametrize("ids", [np.array([0.0, 1.0]), np.array([True, False]), [0.5]])
def test_embedding_non_integer_ids(ids):
    emb = mnn.Embedding(5, 3, rng=0)
    with pytest.raises(TypeError, match=r"(?i)int"):
        emb(ids)


def test_cross_entropy_bad_input():
    crit = mnn.CrossEntropyLoss()
    with pytest.raises(ValueError):
        crit(np.zeros((3, 4)), np.array([0, 1]))  # one target per row
    with pytest.raises(TypeError):
        crit(np.zeros((3, 4)), np.array([0.0, 1.0, 2.0]))
    with pytest.raises((IndexError, ValueError), match=r"\b4\b"):
        crit(np.zeros((3, 4)), np.array([0, 4, 1]))
    assert_nothing_pending(crit)


# ---- load_state_dict ---------------------------------------------------------------------

def test_load_state_dict_missing_key_named():
    m = mnn.LSTM(3, 4, rng=0)
    state = m.state_dict()
    del state["bias_hh_l0"]
    with pytest.raises((KeyError, ValueError), match="bias_hh_l0"):
        m.load_state_dict(state)


def test_load_state_dict_unexpected_key_named():
    m = mnn.GRU(3, 4, rng=0)
    state = m.state_dict()
    state["weight_ih_l1"] = np.zeros((12, 4))
    with pytest.raises((KeyError, ValueError), match="weight_ih_l1"):
        m.load_state_dict(state)


def test_load_state_dict_wrong_shape_named_and_nothing_changed():
    m = mnn.RNN(3, 4, rng=0)
    before = m.state_dict()
    state = {k: v + 1 for k, v in before.items()}
    state["weight_hh_l0"] = np.zeros((4, 3))
    with pytest.raises(ValueError, match="weight_hh_l0"):
        m.load_state_dict(state)
    with pytest.raises(ValueError, match="weight_hh_l0"):
        m.load_state_dict(state, strict=False)  # a wrong shape raises even when not strict
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_not_strict_ignores_missing_and_unexpected():
    m = mnn.Linear(2, 3, rng=0)
    bias = m.bias.data.copy()
    m.load_state_dict({"weight": np.ones((3, 2)), "extra": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(m.weight.data, 1.0)
    np.testing.assert_array_equal(m.bias.data, bias)


def test_load_state_dict_nested_name():
    m = mnn.Sequential(mnn.Linear(2, 3, rng=0), mnn.Linear(3, 1, rng=1))
    state = m.state_dict()
    state["1.weight"] = np.zeros((3, 1))
    with pytest.raises(ValueError, match=re.escape("1.weight")):
        m.load_state_dict(state)


# ---- backward without a pending forward --------------------------------------------------

ALL_MODULES = [
    pytest.param(lambda: (mnn.RNN(2, 3, rng=0), np.ones((2, 1, 2))), id="RNN"),
    pytest.param(lambda: (mnn.LSTM(2, 3, rng=0), np.ones((2, 1, 2))), id="LSTM"),
    pytest.param(lambda: (mnn.GRU(2, 3, rng=0), np.ones((2, 1, 2))), id="GRU"),
    pytest.param(lambda: (mnn.RNNCell(2, 3, rng=0), np.ones((1, 2))), id="RNNCell"),
    pytest.param(lambda: (mnn.LSTMCell(2, 3, rng=0), np.ones((1, 2))), id="LSTMCell"),
    pytest.param(lambda: (mnn.GRUCell(2, 3, rng=0), np.ones((1, 2))), id="GRUCell"),
    pytest.param(lambda: (mnn.Linear(2, 3, rng=0), np.ones((1, 2))), id="Linear"),
    pytest.param(lambda: (mnn.Embedding(4, 3, rng=0), np.array([1, 2])), id="Embedding"),
    pytest.param(lambda: (mnn.Dropout(0.5, rng=0), np.ones((1, 2))), id="Dropout"),
    pytest.param(lambda: (mnn.Sequential(mnn.Linear(2, 3, rng=0)), np.ones((1, 2))),
                 id="Sequential"),
]


def output_grad(module, out):
    """A gradient shaped like ``out`` (the forward's result), in backward's argument form."""
    if isinstance(module, (mnn.LSTM,)):
        o, (h, c) = out
        return (np.ones_like(o), (np.ones_like(h), np.ones_like(c)))
    if isinstance(module, (mnn.RNN, mnn.GRU)):
        o, h = out
        return (np.ones_like(o), np.ones_like(h))
    if isinstance(module, mnn.LSTMCell):
        return ((np.ones_like(out[0]), np.ones_like(out[1])),)
    return (np.ones_like(out),)


@pytest.mark.parametrize("make", ALL_MODULES)
def test_backward_without_forward_raises(make):
    m, x = make()
    with pytest.raises(RuntimeError, match=r"(?i)forward"):
        m.backward(*output_grad(m, out_without_cache(m, x)))


def out_without_cache(m, x):
    with minirnn.no_grad():
        return m(x)


@pytest.mark.parametrize("make", ALL_MODULES)
def test_backward_after_no_grad_forward_raises(make):
    m, x = make()
    out = m(x)
    grads = output_grad(m, out)
    m.backward(*grads)  # the one pending forward
    with minirnn.no_grad():
        m(x)
    with pytest.raises(RuntimeError, match=r"(?i)forward"):
        m.backward(*grads)


def test_cross_entropy_backward_without_forward_raises():
    crit = mnn.CrossEntropyLoss()
    with pytest.raises(RuntimeError):
        crit.backward()
    with minirnn.no_grad():
        crit(np.zeros((2, 3)), np.array([0, 1]))
    with pytest.raises(RuntimeError):
        crit.backward()


# ---- backward with a wrongly shaped gradient ---------------------------------------------

BACKWARD_CASES = [
    pytest.param(lambda: mnn.GRU(3, 4, rng=0), np.ones((2, 1, 3)), (np.ones((2, 1, 5)),),
                 (np.ones((2, 1, 4)),), "(2, 1, 4)", id="GRU-output"),
    pytest.param(lambda: mnn.RNN(3, 4, rng=0), np.ones((2, 1, 3)),
                 (np.ones((2, 1, 4)), np.ones((2, 1, 4))),
                 (np.ones((2, 1, 4)), np.ones((1, 1, 4))), "(1, 1, 4)", id="RNN-state"),
    pytest.param(lambda: mnn.LSTM(3, 4, rng=0), np.ones((2, 1, 3)),
                 (np.ones((2, 1, 4)), (None, np.ones((1, 2, 4)))),
                 (np.ones((2, 1, 4)), (None, np.ones((1, 1, 4)))), "(1, 1, 4)", id="LSTM-c"),
    pytest.param(lambda: mnn.Linear(3, 4, rng=0), np.ones((2, 3)), (np.ones((2, 5)),),
                 (np.ones((2, 4)),), "(2, 4)", id="Linear"),
    pytest.param(lambda: mnn.GRUCell(3, 4, rng=0), np.ones((2, 3)), (np.ones((4,)),),
                 (np.ones((2, 4)),), "(2, 4)", id="GRUCell"),
]


@pytest.mark.parametrize("make,x,bad,good,shape", BACKWARD_CASES)
def test_backward_wrong_gradient_shape_names_expected_shape(make, x, bad, good, shape):
    m = make()
    m(x)
    with pytest.raises(ValueError, match=re.escape(shape)):
        m.backward(*bad)


@pytest.mark.parametrize("make,x,bad,good,shape", BACKWARD_CASES)
def test_rejected_backward_keeps_the_pending_forward(make, x, bad, good, shape):
    m = make()
    m(x)
    with pytest.raises(ValueError):
        m.backward(*bad)
    m.backward(*good)  # the forward is still there to undo
