"""Hostile input to Linear, Embedding, Dropout and CrossEntropyLoss: every case asserts the
exact exception type, that the message names what was expected, and that nothing changed
(weights, .grad, and the stack of pending forwards: a rejected forward pushes nothing, a
rejected backward leaves its forward pending).

From simple to complex: constructor arguments, forward inputs, upstream gradients, then
hypothesis over ids and targets.
"""
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minirnn
import minirnn.nn as mnn


def snapshot(m):
    return [(p.data.copy(), p.grad.copy()) for p in m.parameters()], len(m._caches)


def assert_unchanged(m, before):
    params, pending = snapshot(m)
    assert pending == before[1], "the stack of pending forwards changed"
    for (w0, g0), (w1, g1) in zip(before[0], params):
        np.testing.assert_array_equal(w0, w1)
        np.testing.assert_array_equal(g0, g1)


def refuses(m, call, error, text, owner=""):
    """``call()`` raises ``error`` whose message starts with ``owner`` and matches ``text``,
    and leaves ``m`` as it was."""
    before = snapshot(m)
    with pytest.raises(error, match=rf"^{re.escape(owner)}.*{text}" if owner else text):
        call()
    assert_unchanged(m, before)


RAGGED = [[1.0, 2.0], [3.0]]


# ---- constructor arguments -----------------------------------------------------------------

@pytest.mark.parametrize("padding_idx", [1.5, 2.0, True, "1", np.float64(1.0)], ids=repr)
def test_embedding_padding_idx_must_be_an_integer(padding_idx):
    with pytest.raises(TypeError, match=r"Embedding: expected padding_idx \(or None\) to be an "
                                        r"integer"):
        mnn.Embedding(5, 3, padding_idx=padding_idx)


@pytest.mark.parametrize("padding_idx", [5, -6, 100], ids=repr)
def test_embedding_padding_idx_out_of_range(padding_idx):
    with pytest.raises(ValueError, match=r"expected padding_idx in \[-5, 5\)"):
        mnn.Embedding(5, 3, padding_idx=padding_idx)


def test_embedding_padding_idx_numpy_integer_is_accepted():
    assert mnn.Embedding(5, 3, padding_idx=np.int64(-1), rng=0).padding_idx == 4


@pytest.mark.parametrize("ignore_index", [1.5, -100.0, None, "1", True], ids=repr)
def test_cross_entropy_ignore_index_must_be_an_integer(ignore_index):
    with pytest.raises(TypeError, match="CrossEntropyLoss: expected ignore_index to be an "
                                        "integer"):
        mnn.CrossEntropyLoss(ignore_index=ignore_index)


@pytest.mark.parametrize("reduction", ["avg", None, ["mean"], np.array(["mean", "sum"])],
                         ids=repr)
def test_cross_entropy_reduction_must_be_named(reduction):
    with pytest.raises(ValueError, match=re.escape("expected reduction in ['mean', 'sum', "
                                                   "'none']")):
        mnn.CrossEntropyLoss(reduction=reduction)


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan, math.inf, "0.5", True], ids=repr)
def test_dropout_p_must_be_a_probability(p):
    with pytest.raises(ValueError, match=r"expected p to be a number in \[0, 1\]"):
        mnn.Dropout(p)


# ---- Linear --------------------------------------------------------------------------------

LINEAR_INPUTS = [
    ("int", np.ones((2, 4), np.int64), TypeError, "expected input to be a float array, got "
                                                   "dtype int64"),
    ("bool", np.ones((2, 4), bool), TypeError, "got dtype bool"),
    ("None", None, TypeError, "expected input to be a float array, got None"),
    ("str", "x", TypeError, "got dtype <U1"),
    ("ragged", RAGGED, ValueError, "nested lists must have equal lengths"),
    ("features", np.ones((2, 5)), ValueError, r"expected input of shape \(\.\.\., 4\), got "
                                              r"\(2, 5\)"),
    ("0-d", np.float64(1.0), ValueError, r"expected input of shape \(\.\.\., 4\), got \(\)"),
]


LINEAR_GRADS = [
    ("shape", np.ones((2, 4)), ValueError, r"expected grad of shape \(2, 3\), got \(2, 4\)"),
    ("transposed", np.ones((3, 2)), ValueError, r"expected grad of shape \(2, 3\)"),
    ("flat", np.ones(6), ValueError, r"expected grad of shape \(2, 3\)"),
    ("None", None, TypeError, "expected grad to be a float array, got None"),
    ("int", np.ones((2, 3), np.int32), TypeError, "got dtype int32"),
    ("ragged", RAGGED, ValueError, "equal lengths"),
]


# ---- Embedding -----------------------------------------------------------------------------

EMBEDDING_IDS = [
    ("half", np.array([1.5, 0.0]), TypeError, "expected integer ids, got dtype float64"),
    ("whole-floats", np.array([2.0, 1.0]), TypeError, r"an integer dtype is needed even for "
                                                      r"whole numbers like 2\.0"),
    ("float-list", [1.0, 2.0], TypeError, "expected integer ids, got dtype float64"),
    ("float32", np.array([1, 2], np.float32), TypeError, "got dtype float32"),
    ("bool", np.array([True, False]), TypeError, "got dtype bool"),
    ("None", None, TypeError, "got dtype object"),
    ("str", ["a", "b"], TypeError, "got dtype <U1"),
    ("ragged", [[1, 2], [3]], ValueError, "equal lengths"),
    ("too-big", np.array([[0, 5]]), IndexError, r"expected ids in \[0, 5\), got 5"),
    ("negative", np.array([-1, 0]), IndexError, r"expected ids in \[0, 5\), got -1"),
    ("huge", np.array([2 ** 62]), IndexError, r"expected ids in \[0, 5\)"),
]


EMBEDDING_GRADS = [
    ("shape", np.ones((2, 4)), ValueError, r"expected grad of shape \(2, 3\), got \(2, 4\)"),
    ("missing-dim", np.ones(2), ValueError, r"expected grad of shape \(2, 3\)"),
    ("None", None, TypeError, "got None"),
    ("int", np.ones((2, 3), np.int64), TypeError, "got dtype int64"),
]


# one table per direction: (module, case, value, exception, what the message says)
LAYERS = {"Linear": (lambda: mnn.Linear(4, 3, rng=0), np.ones((2, 4))),
          "Embedding": (lambda: mnn.Embedding(5, 3, rng=0), np.array([1, 4]))}
FORWARD = ([("Linear",) + c for c in LINEAR_INPUTS]
           + [("Embedding",) + c for c in EMBEDDING_IDS])
BACKWARD = ([("Linear",) + c for c in LINEAR_GRADS]
            + [("Embedding",) + c for c in EMBEDDING_GRADS])


@pytest.mark.parametrize("owner, label, x, error, text", FORWARD,
                         ids=[f"{c[0]}-{c[1]}" for c in FORWARD])
def test_bad_forward_input(owner, label, x, error, text):
    m = LAYERS[owner][0]()
    refuses(m, lambda: m(x), error, text, owner=owner)


@pytest.mark.parametrize("owner, label, g, error, text", BACKWARD,
                         ids=[f"{c[0]}-{c[1]}" for c in BACKWARD])
def test_bad_upstream_gradient_keeps_the_forward(owner, label, g, error, text):
    make, x = LAYERS[owner]
    m = make()
    m(x)                                          # output (2, 3) for both
    refuses(m, lambda: m.backward(g), error, text, owner=owner)
    m.backward(np.ones((2, 3)))                   # still pending: the right gradient works


# ---- Dropout -------------------------------------------------------------------------------

DROPOUT_MODES = [
    pytest.param(lambda: mnn.Dropout(0.5, rng=0), id="train-p0.5"),
    pytest.param(lambda: mnn.Dropout(0.0, rng=0), id="train-p0"),
    pytest.param(lambda: mnn.Dropout(0.5, rng=0).eval(), id="eval"),
    pytest.param(lambda: mnn.Dropout(1.0, rng=0), id="train-p1"),
]


@pytest.mark.parametrize("make", DROPOUT_MODES)
@pytest.mark.parametrize("g, error, text", [
    (np.ones((4, 3)), ValueError, r"expected grad of shape \(3, 4\), got \(4, 3\)"),
    (np.ones(12), ValueError, r"expected grad of shape \(3, 4\), got \(12,\)"),
    (np.ones((3, 4), np.int64), TypeError, "expected grad to be a float array, got dtype"),
    (None, TypeError, "got None"),
], ids=["transposed", "flat", "int", "None"])
def test_dropout_backward_checks_the_shape_in_every_mode(make, g, error, text):
    drop = make()
    drop(np.ones((3, 4)))
    refuses(drop, lambda: drop.backward(g), error, text, owner="Dropout.backward")
    assert drop.backward(np.ones((3, 4))).shape == (3, 4)


@pytest.mark.parametrize("x, error", [(np.ones(3, np.int64), TypeError), (None, TypeError),
                                      (RAGGED, ValueError)],
                         ids=["int", "None", "ragged"])
def test_dropout_bad_input(x, error):
    drop = mnn.Dropout(0.5, rng=0)
    refuses(drop, lambda: drop(x), error, "Dropout: expected input to be")


# ---- CrossEntropyLoss ----------------------------------------------------------------------

CE_INPUTS = [
    ("no-classes", np.zeros((3, 0)), [0, 0, 0], ValueError,
     r"at least one example and one class, got \(3, 0\)"),
    ("no-examples", np.zeros((0, 4)), np.zeros(0, int), ValueError,
     r"at least one example and one class, got \(0, 4\)"),
    ("1-D", np.zeros(4), [0], ValueError, r"expected logits of shape \(N, C\)"),
    ("3-D", np.zeros((2, 3, 4)), [0, 1], ValueError, r"expected logits of shape \(N, C\)"),
    ("int-logits", np.zeros((2, 3), int), [0, 1], TypeError,
     "expected logits to be a float array, got dtype int64"),
    ("None-logits", None, [0, 1], TypeError, "expected logits to be a float array, got None"),
    ("ragged-logits", RAGGED, [0, 1], ValueError, "equal lengths"),
    ("float-target", np.zeros((2, 3)), [0.0, 1.0], TypeError,
     "expected integer target, got dtype float64"),
    ("bool-target", np.zeros((2, 3)), [True, False], TypeError, "got dtype bool"),
    ("target-column", np.zeros((2, 3)), [[0], [1]], ValueError,
     r"expected target of shape \(2,\), got \(2, 1\)"),
    ("target-short", np.zeros((2, 3)), [0], ValueError, r"expected target of shape \(2,\)"),
    ("target-too-big", np.zeros((2, 3)), [0, 3], IndexError,
     r"expected targets in \[0, 3\) \(or ignore_index -100\), got 3"),
    ("target-negative", np.zeros((2, 3)), [-1, 0], IndexError, r"got -1"),
]


@pytest.mark.parametrize("label, logits, target, error, text", CE_INPUTS,
                         ids=[c[0] for c in CE_INPUTS])
def test_cross_entropy_bad_input(label, logits, target, error, text):
    crit = mnn.CrossEntropyLoss()
    refuses(crit, lambda: crit(logits, target), error, text, owner="CrossEntropyLoss")


@pytest.mark.parametrize("reduction, g, error, text", [
    ("mean", np.ones(2), ValueError, r"expected grad of shape \(\) \(a number\), got \(2,\)"),
    ("sum", "1.0", TypeError, "expected grad to be numbers of shape ()"),
    ("mean", None, TypeError, "got dtype object"),
    ("mean", math.nan, ValueError, "expected a finite grad"),
    ("sum", math.inf, ValueError, "expected a finite grad"),
    ("none", 1.0, ValueError, r"expected grad of shape \(2,\) for reduction='none', got \(\)"),
    ("none", np.ones(3), ValueError, r"of shape \(2,\) for reduction='none', got \(3,\)"),
    ("none", np.array([1.0, math.nan]), ValueError, "1 NaN or inf values"),
], ids=["mean-array", "sum-str", "mean-None", "mean-nan", "sum-inf", "none-scalar",
        "none-shape", "none-nan"])
def test_cross_entropy_bad_upstream_gradient_keeps_the_forward(reduction, g, error, text):
    crit = mnn.CrossEntropyLoss(reduction=reduction)
    crit(np.zeros((2, 3)), np.array([0, 2]))
    refuses(crit, lambda: crit.backward(g), error, text, owner="CrossEntropyLoss.backward")
    crit.backward(np.ones(2) if reduction == "none" else 1)   # an int is a number too


# ---- caches own what backward reads --------------------------------------------------------

def grads_after(make, x, g, edit):
    m = make()
    m(x)
    if edit:
        edit(x)
    out = m.backward(g)
    return [out] + [p.grad.copy() for p in m.parameters()]


@pytest.mark.parametrize("label, make, x, g, edit", [
    ("Linear", lambda: mnn.Linear(3, 2, rng=0), np.arange(12.0).reshape(4, 3),
     np.ones((4, 2)), lambda x: x.__imul__(-5)),
    ("Linear-float32", lambda: mnn.Linear(3, 2, dtype=np.float32, rng=0),
     np.arange(6, dtype=np.float32).reshape(2, 3), np.ones((2, 2), np.float32),
     lambda x: x.fill(7)),
    ("Embedding", lambda: mnn.Embedding(5, 2, rng=0), np.array([0, 1, 1, 4]), np.ones((4, 2)),
     lambda ids: ids.fill(3)),
    ("CrossEntropyLoss", lambda: mnn.CrossEntropyLoss(), np.zeros((3, 4)), 1.0, None),
], ids=lambda v: v if isinstance(v, str) else "")
def test_editing_the_input_in_place_leaves_the_gradients_unchanged(label, make, x, g, edit):
    if label == "CrossEntropyLoss":
        target = np.array([0, 3, 1])
        crit = make()
        crit(x, target)
        untouched = crit.backward(g)
        crit(x, target)
        target[:] = 2                                   # the caller reuses its array
        np.testing.assert_array_equal(crit.backward(g), untouched)
        return
    untouched = grads_after(make, x.copy(), g, None)
    edited = grads_after(make, x, g, edit)
    for a, b in zip(untouched, edited):
        np.testing.assert_array_equal(a, b)


def test_no_grad_forward_keeps_no_cache_to_copy():
    lin = mnn.Linear(3, 2, rng=0)
    with minirnn.no_grad():
        lin(np.ones((2, 3)))
    assert lin._caches == []


# ---- hypothesis: ids and targets -----------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(ids=st.lists(st.integers(-10, 15), min_size=0, max_size=12))
def test_embedding_any_integer_ids_work_or_raise_index_error(ids):
    emb = mnn.Embedding(6, 2, rng=0)
    arr = np.array(ids, dtype=np.int64)
    if all(0 <= i < 6 for i in ids):
        np.testing.assert_array_equal(emb(arr), emb.weight.data[arr])
    else:
        bad = next(i for i in ids if not 0 <= i < 6)
        refuses(emb, lambda: emb(arr), IndexError, rf"expected ids in \[0, 6\), got {bad}$")


@settings(max_examples=60, deadline=None)
@given(targets=st.lists(st.integers(-3, 6), min_size=1, max_size=8),
       ignore_index=st.integers(-3, 6))
def test_cross_entropy_any_integer_targets_work_or_raise_index_error(targets, ignore_index):
    crit = mnn.CrossEntropyLoss(reduction="sum", ignore_index=ignore_index)
    logits = np.random.default_rng(0).standard_normal((len(targets), 4))
    counted = [t for t in targets if t != ignore_index]
    if all(0 <= t < 4 for t in counted):
        loss = crit(logits, np.array(targets))
        assert math.isfinite(loss) and crit.backward().shape == logits.shape
    else:
        refuses(crit, lambda: crit(logits, np.array(targets)), IndexError,
                rf"expected targets in \[0, 4\) \(or ignore_index {ignore_index}\)")


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=6))
def test_embedding_float_ids_are_always_refused(values):
    emb = mnn.Embedding(12, 2, rng=0)
    refuses(emb, lambda: emb(np.array(values)), TypeError, "expected integer ids")


# ---- issue #20 item 3: NumPy integers, load_state_dict, gradcheck ----------------------------

def _numpy_ints(kwargs):
    return {k: np.int64(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in kwargs.items()}


@pytest.mark.parametrize("make, kwargs", [
    (mnn.LSTM, dict(input_size=3, hidden_size=4, num_layers=2, proj_size=2)),
    (mnn.RNN, dict(input_size=3, hidden_size=4, num_layers=2)),
    (mnn.GRU, dict(input_size=3, hidden_size=4)),
    (mnn.LSTMCell, dict(input_size=3, hidden_size=4)),
    (mnn.GRUCell, dict(input_size=3, hidden_size=4)),
    (mnn.RNNCell, dict(input_size=3, hidden_size=4)),
    (mnn.Linear, dict(in_features=3, out_features=4)),
    (mnn.Embedding, dict(num_embeddings=5, embedding_dim=3, padding_idx=1)),
], ids=["LSTM", "RNN", "GRU", "LSTMCell", "GRUCell", "RNNCell", "Linear", "Embedding"])
def test_numpy_integers_are_taken_wherever_python_integers_are(make, kwargs):
    plain, numpy = make(**kwargs, rng=0), make(**_numpy_ints(kwargs), rng=0)
    assert repr(numpy) == repr(plain)
    for (name, a), (_, b) in zip(plain.named_parameters(), numpy.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_numpy_integers_in_data_and_optim_arguments():
    from minirnn.data import DataLoader, DigitSum
    from minirnn.optim import SGD
    from minirnn.optim.lr_scheduler import StepLR
    data = DigitSum(np.int64(4), np.int64(3), rng=np.int64(0))
    x, _ = next(iter(DataLoader(data, np.int64(7))))
    assert x.shape == (7, 4)
    scheduler = StepLR(SGD(mnn.Linear(2, 2, rng=0).parameters(), lr=1.0), np.int64(2))
    scheduler.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [pytest.approx(0.1)]


@pytest.mark.parametrize("bad", [None, [("weight", np.zeros((2, 2)))], "weight", 3])
def test_load_state_dict_of_anything_but_a_mapping_is_a_type_error(bad):
    m = mnn.Linear(2, 2, rng=0)
    refuses(m, lambda: m.load_state_dict(bad), TypeError,
            rf"expected a mapping of parameter names to arrays \(such as state_dict\(\) "
            rf"returns\), got {type(bad).__name__}$", owner="Linear.load_state_dict: ")


def test_gradcheck_keeps_the_callers_accumulated_gradients():
    rng = np.random.default_rng(0)
    layer = mnn.LSTM(3, 4, rng=0)
    x = rng.standard_normal((5, 2, 3))
    y, _ = layer(x)
    layer.backward(rng.standard_normal(y.shape))       # the caller's accumulated gradient
    before = {name: p.grad.copy() for name, p in layer.named_parameters()}
    assert all(np.abs(g).max() > 0 for g in before.values())
    errors = minirnn.gradcheck(layer, x)
    assert max(errors.values()) < 1e-7
    for name, p in layer.named_parameters():
        np.testing.assert_array_equal(p.grad, before[name], err_msg=name)
