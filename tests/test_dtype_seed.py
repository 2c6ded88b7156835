"""dtypes, seeding, no_grad and initialisation.

float32 modules stay float32 end to end; set_default_dtype changes new modules only; the same
seed gives bit-identical weights and outputs; no_grad keeps no caches; recurrent weights are
drawn from torch's U(-1/sqrt(H), 1/sqrt(H)).
"""
import numpy as np
import pytest

import minirnn
import minirnn.nn as mnn

DTYPES = [np.float32, np.float64]


@pytest.fixture
def restore_default_dtype():
    before = minirnn.get_default_dtype()
    yield
    minirnn.set_default_dtype(before)


def recurrent(cls, dtype=None, rng=0, **kw):
    return cls(3, 4, num_layers=2, bidirectional=True, dtype=dtype, rng=rng, **kw)


def forward_backward(module, x):
    """Run one forward and backward with ones as upstream gradients; return every array.

    Cells start from a nonzero state (so weight_hh gets a nonzero gradient).
    """
    if isinstance(module, (mnn.RNNCell, mnn.GRUCell, mnn.LSTMCell)):
        h0 = np.full(x.shape[:-1] + (module.hidden_size,), 0.5, x.dtype)
        out = module(x, (h0, h0) if isinstance(module, mnn.LSTMCell) else h0)
    else:
        out = module(x)
    if isinstance(module, mnn.LSTM):
        y, (h, c) = out
        gx, (gh, gc) = module.backward(np.ones_like(y), (np.ones_like(h), np.ones_like(c)))
        return [y, h, c, gx, gh, gc]
    if isinstance(module, (mnn.RNN, mnn.GRU)):
        y, h = out
        gx, gh = module.backward(np.ones_like(y), np.ones_like(h))
        return [y, h, gx, gh]
    if isinstance(module, (mnn.RNNCell, mnn.GRUCell)):
        gx, gh = module.backward(np.ones_like(out))
        return [out, gx, gh]
    if isinstance(module, mnn.LSTMCell):
        h, c = out
        gx, (gh, gc) = module.backward((np.ones_like(h), np.ones_like(c)))
        return [h, c, gx, gh, gc]
    grad = module.backward(np.ones_like(out))
    return [out] + ([] if grad is None else [grad])


MODULES = [
    pytest.param(lambda dt: (recurrent(mnn.RNN, dt), (5, 2, 3)), id="RNN"),
    pytest.param(lambda dt: (recurrent(mnn.RNN, dt, nonlinearity="relu"), (5, 2, 3)),
                 id="RNN-relu"),
    pytest.param(lambda dt: (recurrent(mnn.LSTM, dt), (5, 2, 3)), id="LSTM"),
    pytest.param(lambda dt: (recurrent(mnn.LSTM, dt, proj_size=2), (5, 2, 3)), id="LSTM-proj"),
    pytest.param(lambda dt: (recurrent(mnn.GRU, dt), (5, 2, 3)), id="GRU"),
    pytest.param(lambda dt: (mnn.RNNCell(3, 4, dtype=dt, rng=0), (2, 3)), id="RNNCell"),
    pytest.param(lambda dt: (mnn.LSTMCell(3, 4, dtype=dt, rng=0), (2, 3)), id="LSTMCell"),
    pytest.param(lambda dt: (mnn.GRUCell(3, 4, dtype=dt, rng=0), (2, 3)), id="GRUCell"),
    pytest.param(lambda dt: (mnn.Linear(3, 4, dtype=dt, rng=0), (2, 5, 3)), id="Linear"),
    pytest.param(lambda dt: (mnn.Sequential(mnn.Linear(3, 4, dtype=dt, rng=0),
                                            mnn.Dropout(0.5, rng=1),
                                            mnn.Linear(4, 2, dtype=dt, rng=2)), (6, 3)),
                 id="Sequential"),
]


# ---- dtypes ------------------------------------------------------------------------------

@pytest.mark.parametrize("make", MODULES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_module_keeps_its_dtype_end_to_end(make, dtype):
    module, shape = make(dtype)
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    module.zero_grad()
    for a in forward_backward(module, x):
        assert a.dtype == dtype, a.dtype
    for name, p in module.named_parameters():
        assert p.data.dtype == dtype, name
        assert p.grad.dtype == dtype, name
        assert np.any(p.grad != 0), name


@pytest.mark.parametrize("cls", [mnn.RNN, mnn.LSTM, mnn.GRU])
def test_float32_module_fed_float64_stays_float32(cls):
    m = cls(3, 4, dtype=np.float32, rng=0)
    out, _ = m(np.random.default_rng(0).standard_normal((2, 1, 3)))  # float64 input
    assert out.dtype == np.float32
    grad_x = m.backward(np.ones(out.shape))[0]
    assert grad_x.dtype == np.float32
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32
               for p in m.parameters())


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_and_dropout_keep_dtype(dtype):
    emb = mnn.Embedding(5, 3, dtype=dtype, rng=0)
    y = emb(np.array([[1, 2], [4, 4]]))
    assert y.dtype == dtype
    emb.backward(np.ones_like(y))
    assert emb.weight.grad.dtype == dtype
    drop = mnn.Dropout(0.5, rng=0)
    assert drop(y).dtype == dtype and drop.backward(y).dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_keeps_dtype(dtype):
    crit = mnn.CrossEntropyLoss(reduction="none")
    logits = np.random.default_rng(0).standard_normal((3, 4)).astype(dtype)
    assert crit(logits, np.array([0, 1, 3])).dtype == dtype
    assert crit.backward(np.ones(3, dtype)).dtype == dtype
    mean = mnn.CrossEntropyLoss()
    assert isinstance(mean(logits, np.array([0, 1, 3])), float)
    assert mean.backward().dtype == dtype


def test_set_default_dtype_affects_new_modules(restore_default_dtype):
    before = mnn.LSTM(3, 4, rng=0)
    minirnn.set_default_dtype(np.float32)
    assert minirnn.get_default_dtype() == np.float32
    for m in [mnn.LSTM(3, 4, rng=0), mnn.GRU(3, 4, rng=0), mnn.RNN(3, 4, rng=0),
              mnn.LSTMCell(3, 4, rng=0), mnn.Linear(3, 4, rng=0), mnn.Embedding(3, 4, rng=0)]:
        assert all(p.data.dtype == np.float32 for p in m.parameters()), m
    assert all(p.data.dtype == np.float64 for p in before.parameters())  # old modules unchanged
    assert mnn.LSTM(3, 4, dtype=np.float64, rng=0).weight_ih_l0.dtype == np.float64
    out, _ = mnn.GRU(3, 4, rng=0)(np.zeros((2, 1, 3), np.float32))
    assert out.dtype == np.float32


def test_default_dtype_is_float64():
    assert minirnn.get_default_dtype() == np.float64
    assert mnn.RNN(2, 2, rng=0).weight_ih_l0.dtype == np.float64


def test_float32_load_state_dict_keeps_float32():
    m = mnn.GRU(2, 3, dtype=np.float32, rng=0)
    m.load_state_dict({k: v.astype(np.float64) for k, v in m.state_dict().items()})
    assert all(p.data.dtype == np.float32 for p in m.parameters())


def test_state_dict_is_a_copy_and_load_accepts_lists():
    m = mnn.Linear(2, 2, dtype=np.float32, rng=0)
    state = m.state_dict()
    state["weight"] += 1  # a copy: the module is unchanged
    assert not np.array_equal(m.weight.data, state["weight"])
    m.load_state_dict({"weight": [[1, 2], [3, 4]], "bias": [0.5, -0.5]})
    np.testing.assert_array_equal(m.weight.data, [[1, 2], [3, 4]])
    assert m.weight.data.dtype == np.float32 and m.bias.data.dtype == np.float32


# ---- seeds -------------------------------------------------------------------------------

@pytest.mark.parametrize("make", MODULES)
def test_same_seed_identical_weights_and_outputs(make):
    (a, shape), (b, _) = make(np.float64), make(np.float64)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb
        np.testing.assert_array_equal(pa.data, pb.data)
    x = np.random.default_rng(1).standard_normal(shape)
    for ya, yb in zip(forward_backward(a, x), forward_backward(b, x)):
        np.testing.assert_array_equal(ya, yb)


def test_different_seeds_different_weights():
    assert not np.array_equal(mnn.GRU(3, 4, rng=1).weight_ih_l0.data,
                              mnn.GRU(3, 4, rng=2).weight_ih_l0.data)


def test_generator_accepted_as_rng():
    a = mnn.LSTM(3, 4, rng=np.random.default_rng(9))
    b = mnn.LSTM(3, 4, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a.weight_hh_l0.data, b.weight_hh_l0.data)


def test_manual_seed_makes_rng_none_modules_reproducible():
    def build():
        return (mnn.LSTM(3, 4, num_layers=2, dropout=0.5), mnn.Linear(4, 2),
                mnn.Dropout(0.5), mnn.Embedding(6, 2))

    minirnn.manual_seed(123)
    first = build()
    x = np.ones((3, 2, 3))
    out_first = first[0](x)[0], first[2](np.ones((10, 10)))
    minirnn.manual_seed(123)
    second = build()
    out_second = second[0](x)[0], second[2](np.ones((10, 10)))
    for a, b in zip(first, second):
        for pa, pb in zip(a.parameters(), b.parameters()):
            np.testing.assert_array_equal(pa.data, pb.data)
    for a, b in zip(out_first, out_second):
        np.testing.assert_array_equal(a, b)
    minirnn.manual_seed(124)
    assert not np.array_equal(mnn.Linear(4, 2).weight.data, first[1].weight.data)


# ---- no_grad -----------------------------------------------------------------------------

@pytest.mark.parametrize("make", MODULES)
def test_no_grad_keeps_no_caches(make):
    module, shape = make(np.float64)
    x = np.ones(shape)
    with minirnn.no_grad():
        for _ in range(3):
            module(x)
    assert all(len(m._caches) == 0 for m in module.modules())
    with pytest.raises(RuntimeError):
        forward_backward_without_forward(module, shape)
    assert minirnn.is_grad_enabled()


def forward_backward_without_forward(module, shape):
    """A backward whose gradients have the right shapes, with no forward pending."""
    with minirnn.no_grad():
        out = module(np.ones(shape))
    if isinstance(module, mnn.LSTM):
        y, (h, c) = out
        return module.backward(np.ones_like(y), (np.ones_like(h), np.ones_like(c)))
    if isinstance(module, (mnn.RNN, mnn.GRU)):
        y, h = out
        return module.backward(np.ones_like(y), np.ones_like(h))
    if isinstance(module, mnn.LSTMCell):
        return module.backward((np.ones_like(out[0]), np.ones_like(out[1])))
    return module.backward(np.ones_like(out))


def test_no_grad_gives_the_same_values():
    lstm = mnn.LSTM(3, 4, rng=0)
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    with minirnn.no_grad():
        quiet = lstm(x)[0]
    np.testing.assert_array_equal(lstm(x)[0], quiet)


def test_no_grad_as_decorator_and_restored_after_error():
    @minirnn.no_grad()
    def infer(m, x):
        assert not minirnn.is_grad_enabled()
        return m(x)

    lin = mnn.Linear(2, 2, rng=0)
    infer(lin, np.ones((1, 2)))
    assert minirnn.is_grad_enabled()
    with pytest.raises(ValueError):
        with minirnn.no_grad():
            raise ValueError("boom")
    assert minirnn.is_grad_enabled()


# ---- initialisation ----------------------------------------------------------------------

@pytest.mark.parametrize("cls", [mnn.RNN, mnn.LSTM, mnn.GRU, mnn.RNNCell, mnn.LSTMCell,
                                 mnn.GRUCell])
@pytest.mark.parametrize("H", [4, 25])
def test_torch_initialisation_bounds(cls, H):
    kw = dict(num_layers=2, bidirectional=True) if cls in (mnn.RNN, mnn.LSTM, mnn.GRU) else {}
    m = cls(30, H, rng=0, **kw)
    bound = 1 / np.sqrt(H)
    everything = np.concatenate([p.data.ravel() for p in m.parameters()])
    for name, p in m.named_parameters():
        assert np.all(np.abs(p.data) <= bound), name
        assert np.all(p.data != 0), name  # biases too: random, not zero
    # uniform over the whole interval, not a narrower one (4-sigma sampling margins)
    n, sd = everything.size, bound / np.sqrt(3)
    assert everything.max() > 0.95 * bound and everything.min() < -0.95 * bound
    assert abs(everything.mean()) < 4 * sd / np.sqrt(n)
    assert np.std(everything) == pytest.approx(sd, rel=4 * 0.45 / np.sqrt(n))


def test_lstm_projection_initialisation_bounds():
    m = mnn.LSTM(3, 16, proj_size=4, rng=0)
    assert np.all(np.abs(m.weight_hr_l0.data) <= 0.25)
    assert m.weight_hr_l0.shape == (4, 16) and m.weight_hh_l0.shape == (64, 4)


def test_no_grad_instance_reentered_restores_the_outer_mode():
    """One instance entered again before it exits (recursion under the decorator, or nested
    ``with``) must still restore grad mode on the way out."""
    @minirnn.no_grad()
    def depth(k):
        return 0 if k == 0 else 1 + depth(k - 1)

    assert depth(3) == 3 and minirnn.is_grad_enabled()
    ng = minirnn.no_grad()
    with ng:
        with ng:
            assert not minirnn.is_grad_enabled()
        assert not minirnn.is_grad_enabled()
    assert minirnn.is_grad_enabled()
