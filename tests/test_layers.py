"""Linear, Embedding, Dropout, Sequential and CrossEntropyLoss against torch."""
import warnings

import numpy as np

import minirnn
import pytest
import torch

import minirnn.nn as mnn
from torch_oracle import assert_close, compare_param_grads, tensor, twins

DTYPES = [np.float64, np.float32]


# ---- Linear ------------------------------------------------------------------------------

@pytest.mark.parametrize("lead", [(), (5,), (2, 3), (2, 1, 3)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_matches_torch(lead, bias, dtype):
    mini, ref = twins(mnn.Linear, torch.nn.Linear, 4, 3, bias=bias, dtype=dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(lead + (4,)).astype(dtype)
    g = rng.standard_normal(lead + (3,)).astype(dtype)
    xt = tensor(x, True)
    y_t = ref(xt)
    (y_t * tensor(g)).sum().backward()
    mini.zero_grad()
    y = mini(x)
    grad_x = mini.backward(g)
    assert_close(y, y_t, dtype, "output", "Linear")
    assert_close(grad_x, xt.grad, dtype, "grad of x", "Linear")
    compare_param_grads(mini, ref, dtype, "Linear")


def test_linear_parameter_shapes():
    lin = mnn.Linear(4, 3)
    assert lin.weight.shape == (3, 4) and lin.bias.shape == (3,)
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in mnn.Linear(4, 3, bias=False).named_parameters()] == ["weight"]


# ---- Embedding ---------------------------------------------------------------------------

@pytest.mark.parametrize("padding_idx", [None, 0, 3, -2])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 2, 3)], ids=str)
def test_embedding_matches_torch(padding_idx, shape):
    mini, ref = twins(mnn.Embedding, torch.nn.Embedding, 5, 3, padding_idx=padding_idx)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 5, size=shape)
    ids.flat[:3] = [3, 3, 0]  # repeated ids, and every padding row tried, are always present
    g = rng.standard_normal(shape + (3,))
    y_t = ref(torch.as_tensor(ids))
    (y_t * tensor(g)).sum().backward()
    mini.zero_grad()
    y = mini(ids)
    assert mini.backward(g) is None
    assert_close(y, y_t, np.float64, "output", "Embedding")
    compare_param_grads(mini, ref, np.float64, "Embedding")
    if padding_idx is not None:  # a negative padding_idx counts from the end, as torch
        np.testing.assert_array_equal(mini.weight.grad[padding_idx], 0.0)


def test_embedding_repeated_ids_accumulate():
    emb = mnn.Embedding(4, 2, rng=0)
    emb.zero_grad()
    emb(np.array([1, 1, 1, 2]))
    emb.backward(np.ones((4, 2)))
    np.testing.assert_array_equal(emb.weight.grad, [[0, 0], [3, 3], [1, 1], [0, 0]])


def test_embedding_accepts_any_integer_dtype():
    emb = mnn.Embedding(4, 2, rng=0)
    for dt in (np.int8, np.int32, np.int64, np.uint8):
        np.testing.assert_array_equal(emb(np.array([3, 0], dtype=dt)), emb.weight.data[[3, 0]])


# ---- Dropout -----------------------------------------------------------------------------

def test_dropout_train_zeroes_with_probability_p_and_scales():
    p = 0.3
    drop = mnn.Dropout(p, rng=0)
    x = np.random.default_rng(1).uniform(1, 2, size=(200, 500))  # never zero
    y = drop(x)
    kept = y != 0
    assert abs(1 - kept.mean() - p) < 0.01
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=1e-15)
    g = np.random.default_rng(2).standard_normal(x.shape)
    grad = drop.backward(g)
    np.testing.assert_array_equal(grad == 0, ~kept)  # the same mask ...
    np.testing.assert_allclose(grad[kept], g[kept] / (1 - p), rtol=1e-15)  # ... and scale


def test_dropout_backward_uses_the_mask_of_its_forward():
    drop = mnn.Dropout(0.5, rng=3)
    x = np.ones((50, 40))
    y1, y2 = drop(x), drop(x)
    assert not np.array_equal(y1, y2)
    np.testing.assert_array_equal(drop.backward(x), y2)  # last in, first out
    np.testing.assert_array_equal(drop.backward(x), y1)


def test_dropout_eval_is_identity():
    drop = mnn.Dropout(0.5, rng=0).eval()
    x = np.random.default_rng(0).standard_normal((4, 5))
    np.testing.assert_array_equal(drop(x), x)
    np.testing.assert_array_equal(drop.backward(2 * x), 2 * x)


def test_dropout_same_seed_same_mask():
    x = np.ones((30, 30))
    np.testing.assert_array_equal(mnn.Dropout(0.4, rng=7)(x), mnn.Dropout(0.4, rng=7)(x))
    assert not np.array_equal(mnn.Dropout(0.4, rng=7)(x), mnn.Dropout(0.4, rng=8)(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_keeps_dtype(dtype):
    drop = mnn.Dropout(0.5, rng=0)
    x = np.ones((3, 4), dtype)
    assert drop(x).dtype == dtype
    assert drop.backward(x).dtype == dtype


def test_dropout_p_zero_and_one_as_torch():
    x = np.random.default_rng(0).standard_normal((6, 7))
    np.testing.assert_array_equal(mnn.Dropout(0.0, rng=0)(x), x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            drop = mnn.Dropout(1.0, rng=0)
            np.testing.assert_array_equal(drop(x), torch.nn.Dropout(1.0)(tensor(x)).numpy())
            np.testing.assert_array_equal(drop.backward(x), 0.0)


# ---- Sequential --------------------------------------------------------------------------

def test_sequential_matches_torch():
    rng = np.random.default_rng(4)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 5, dtype=torch.float64), torch.nn.Dropout(0.5),
                              torch.nn.Linear(5, 2, dtype=torch.float64)).eval()
    mini = mnn.Sequential(mnn.Linear(4, 5, rng=0), mnn.Dropout(0.5, rng=1),
                          mnn.Linear(5, 2, rng=2)).eval()
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape))))
    mini.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    x, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 2))
    xt = tensor(x, True)
    (ref(xt) * tensor(g)).sum().backward()
    mini.zero_grad()
    y = mini(x)
    grad_x = mini.backward(g)
    assert_close(y, ref(xt), np.float64, "output", "Sequential")
    assert_close(grad_x, xt.grad, np.float64, "grad of x", "Sequential")
    compare_param_grads(mini, ref, np.float64, "Sequential")
    assert len(mini) == 3 and isinstance(mini[2], mnn.Linear)


def test_sequential_backward_runs_children_in_reverse_lifo():
    mini = mnn.Sequential(mnn.Linear(3, 4, rng=0), mnn.Linear(4, 2, rng=1))
    rng = np.random.default_rng(5)
    xa, xb = rng.standard_normal((2, 3)), rng.standard_normal((5, 3))
    ga, gb = rng.standard_normal((2, 2)), rng.standard_normal((5, 2))
    mini(xa)
    expected_a = mini.backward(ga)
    mini.stacked_calls = True              # a model unrolled by hand on purpose
    mini(xa)
    mini(xb)
    assert mini.backward(gb).shape == (5, 3)
    np.testing.assert_array_equal(mini.backward(ga), expected_a)


def test_a_model_called_twice_then_backward_raises_before_anything_changes():
    """The dev-evaluation-outside-no_grad mistake: backward would silently use the second
    call's caches."""
    mini = mnn.Sequential(mnn.Linear(3, 4, rng=0), mnn.Linear(4, 2, rng=1))
    rng = np.random.default_rng(5)
    xa, xb = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    mini(xa)
    mini(xb)                                            # "evaluation" outside no_grad
    with pytest.raises(mnn.StackedForwardError, match=r"2 calls of Sequential are waiting.*"
                       r"no_grad.*clear_caches.*stacked_calls = True"):
        mini.backward(np.ones((2, 2)))
    assert all(not p.grad.any() for p in mini.parameters())
    mini.clear_caches()                                 # the fix the message names
    mini(xa)
    with minirnn.no_grad():
        mini(xb)                                        # or this one
    mini.backward(np.ones((2, 2)))
    assert any(p.grad.any() for p in mini.parameters())


def test_single_modules_and_nested_calls_still_unroll_freely():
    """Cells, layers and Linear called T times at the top level, and a child called at every
    step inside one forward, are back-propagated last first without complaint."""
    lin = mnn.Linear(3, 2, rng=0)
    xs = np.random.default_rng(1).standard_normal((4, 5, 3))
    for x in xs:
        lin(x)
    grads = [lin.backward(np.ones((5, 2))) for _ in xs]
    for g, x in zip(grads, reversed(xs)):
        assert g.shape == x.shape

    class Twice(mnn.Module):
        def __init__(self):
            super().__init__()
            self.lin = mnn.Linear(3, 3, rng=2)

        def forward(self, x):
            return self.lin(self.lin(x))

        def backward(self, g):
            return self.lin.backward(self.lin.backward(g))

    m = Twice()
    m(xs[0])
    assert m.backward(np.ones((5, 3))).shape == (5, 3)


# ---- CrossEntropyLoss --------------------------------------------------------------------

def run_cross_entropy(logits, target, reduction, ignore_index=-100, grad=None):
    dtype = logits.dtype
    crit = mnn.CrossEntropyLoss(reduction=reduction, ignore_index=ignore_index)
    lt = tensor(logits, True)
    loss_t = torch.nn.CrossEntropyLoss(reduction=reduction, ignore_index=ignore_index)(
        lt, torch.as_tensor(target))
    if grad is None:
        grad = 1.0 if reduction != "none" else np.random.default_rng(0).standard_normal(
            len(target)).astype(dtype)
    (loss_t * tensor(np.asarray(grad, dtype))).sum().backward()
    loss = crit(logits, target)
    grad_logits = crit.backward(grad)
    if reduction == "none":
        assert_close(loss, loss_t, dtype, "loss", "CrossEntropyLoss")
    else:
        assert isinstance(loss, float), type(loss)
        assert_close(np.asarray(loss, dtype), loss_t, dtype, "loss", "CrossEntropyLoss")
    assert_close(grad_logits, lt.grad, dtype, "grad of logits", "CrossEntropyLoss")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_matches_torch(reduction, dtype):
    rng = np.random.default_rng(6)
    logits = (3 * rng.standard_normal((7, 5))).astype(dtype)
    target = rng.integers(0, 5, size=7)
    run_cross_entropy(logits, target, reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_ignore_index_matches_torch(reduction, ignore_index):
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((8, 4))
    target = rng.integers(0, 4, size=8)
    target[[1, 4, 5]] = ignore_index
    target[0] = 3  # at least one counted target
    run_cross_entropy(logits, target, reduction, ignore_index)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_scalar_upstream_grad(reduction):
    rng = np.random.default_rng(8)
    run_cross_entropy(rng.standard_normal((3, 6)), rng.integers(0, 6, size=3), reduction,
                      grad=2.5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_large_logits_stable(reduction, dtype):
    logits = np.array([[1e4, 0, -1e4], [-1e4, 1e4, 1e4], [0, 0, -1e4], [5e3, -1e4, 1e4]],
                      dtype=dtype)
    target = np.array([2, 0, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            run_cross_entropy(logits, target, reduction)


def test_cross_entropy_initial_loss_is_log_classes():
    crit = mnn.CrossEntropyLoss()
    loss = crit(np.zeros((4, 10)), np.array([0, 3, 9, 5]))
    assert loss == pytest.approx(np.log(10), rel=1e-14)
    grad = crit.backward()
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-16)


def test_cross_entropy_backward_is_lifo():
    crit = mnn.CrossEntropyLoss()
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    crit(a, np.array([0, 1]))
    grad_a = crit.backward()
    crit(a, np.array([0, 1]))
    crit(b, np.array([2, 2, 1, 0]))
    assert crit.backward().shape == (4, 3)
    np.testing.assert_array_equal(crit.backward(), grad_a)



# ---- outputs never alias the caches that backward reads ---------------------------------

@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_editing_an_output_in_place_leaves_the_gradients_unchanged(kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2, 3))
    dy = rng.standard_normal((4, 2, 5))
    grads = []
    for edit in (False, True):
        m = getattr(mnn, kind)(3, 5, rng=1)
        out, _ = m(x)
        if edit:
            out *= 2
        dx, _ = m.backward(dy)
        grads.append([dx] + [p.grad.copy() for p in m.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["RNNCell", "GRUCell", "LSTMCell"])
def test_editing_a_cell_state_in_place_leaves_the_gradients_unchanged(kind):
    rng = np.random.default_rng(0)
    x, dh = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    grads = []
    for edit in (False, True):
        m = getattr(mnn, kind)(3, 4, rng=1)
        h = m(x)
        h1 = h[0] if kind == "LSTMCell" else h
        if edit:
            h1 *= 2
        g = m.backward((dh, None) if kind == "LSTMCell" else dh)
        grads.append([g[0]] + [p.grad.copy() for p in m.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_gru_and_rnn_are_siblings_as_in_torch():
    assert not isinstance(mnn.GRU(2, 3, rng=0), mnn.RNN)
    assert not isinstance(mnn.LSTM(2, 3, rng=0), mnn.RNN)
