"""Hostile and mistaken inputs to the recurrent layers and cells: each is refused with the
exception and message promised, before anything changes; in-place edits of inputs after a
forward never change the gradients; a model called twice before its backward is refused."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import minirnn
from minirnn import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
CELLS = {"RNNCell": nn.RNNCell, "LSTMCell": nn.LSTMCell, "GRUCell": nn.GRUCell}


def grads_of(module):
    return {k: p.grad.copy() for k, p in module.named_parameters()}


def unchanged(module, before_data, before_grads):
    for k, p in module.named_parameters():
        np.testing.assert_array_equal(p.data, before_data[k], err_msg=k)
        np.testing.assert_array_equal(p.grad, before_grads[k], err_msg=k)


def layer_step(layer, x, edit=None):
    """Forward, optionally edit the input in place, backward with fixed gradients."""
    y, state = layer(x)
    if edit is not None:
        edit(x)
    g = np.random.default_rng(1).standard_normal(y.shape)
    dx = layer.backward(g)[0]
    return dx, grads_of(layer)


# ---- item 4: caches own what backward reads -------------------------------------------------

@pytest.mark.parametrize("mode", LAYERS)
@pytest.mark.parametrize("layout", ["time_first", "batch_first", "unbatched"])
@pytest.mark.parametrize("impl", minirnn._config.IMPLS)
def test_editing_the_input_after_forward_does_not_change_layer_gradients(mode, layout, impl):
    rng = np.random.default_rng(0)
    shape = {"time_first": (5, 3, 4), "batch_first": (3, 5, 4), "unbatched": (5, 4)}[layout]
    x = rng.standard_normal(shape)
    with minirnn.use_impl(impl):
        ref = LAYERS[mode](4, 6, batch_first=layout == "batch_first", rng=2)
        dx_ref, g_ref = layer_step(ref, x.copy())
        layer = LAYERS[mode](4, 6, batch_first=layout == "batch_first", rng=2)
        dx, g = layer_step(layer, x, edit=lambda a: a.__setitem__(Ellipsis, 99.0))
    np.testing.assert_array_equal(dx, dx_ref)
    for k in g_ref:
        np.testing.assert_array_equal(g[k], g_ref[k], err_msg=k)


@pytest.mark.parametrize("mode", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("impl", minirnn._config.IMPLS)
def test_editing_the_input_or_state_after_forward_does_not_change_cell_gradients(mode, batched,
                                                                                 impl):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4) if batched else (4,))
    h = rng.standard_normal((3, 5) if batched else (5,))
    hx = (h, h.copy()) if mode == "LSTMCell" else h

    def run(x, hx, edit):
        cell = CELLS[mode](4, 5, rng=1)
        out = cell(x, hx)
        if edit:
            x[...] = 7.0
            for a in (hx if isinstance(hx, tuple) else (hx,)):
                a[...] = -3.0
        g = np.ones_like(out[0] if isinstance(out, tuple) else out)
        res = cell.backward((g, None) if mode == "LSTMCell" else g)
        return res[0], grads_of(cell)

    with minirnn.use_impl(impl):
        dx_ref, g_ref = run(x.copy(), tuple(a.copy() for a in hx) if isinstance(hx, tuple)
                            else hx.copy(), False)
        dx, g = run(x, hx, True)
    np.testing.assert_array_equal(dx, dx_ref)
    for k in g_ref:
        np.testing.assert_array_equal(g[k], g_ref[k], err_msg=k)


def test_under_no_grad_inputs_are_not_copied():
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    layer = nn.RNN(3, 4, rng=0)
    with minirnn.no_grad():
        layer(x)
    assert not layer._caches


# ---- item 9: empty batches and other shapes the cells refuse --------------------------------

@pytest.mark.parametrize("mode", CELLS)
@pytest.mark.parametrize("shape, match", [
    ((0, 4), "at least one sequence"),
    ((2, 5), r"expected input of shape \(N, 4\)"),
    ((4, 2, 4), r"expected input of shape \(N, 4\)"),
    ((), r"expected input of shape \(N, 4\)"),
])
def test_cells_refuse_bad_input_shapes_with_our_message(mode, shape, match):
    cell = CELLS[mode](4, 5, rng=0)
    data, grads = {k: p.data.copy() for k, p in cell.named_parameters()}, grads_of(cell)
    with pytest.raises(ValueError, match=match):
        cell(np.zeros(shape))
    unchanged(cell, data, grads)
    assert not cell._caches


@pytest.mark.parametrize("mode", LAYERS)
@pytest.mark.parametrize("shape, match", [
    ((0, 2, 4), "at least one time step and one sequence"),
    ((3, 0, 4), "at least one time step and one sequence"),
    ((3, 2, 5), "4 features in its last dimension"),
    ((3,), r"expected input of shape \(L, N, 4\)"),
    ((1, 1, 1, 4), r"expected input of shape \(L, N, 4\)"),
])
def test_layers_refuse_bad_input_shapes_with_our_message(mode, shape, match):
    layer = LAYERS[mode](4, 5, rng=0)
    with pytest.raises(ValueError, match=match):
        layer(np.zeros(shape))
    assert not layer._caches


@pytest.mark.parametrize("mode", LAYERS)
@pytest.mark.parametrize("bad, exc, match", [
    (np.zeros((3, 2), dtype=int), TypeError, "float array"),
    (np.array([["a"]]), TypeError, "float array"),
    (None, TypeError, "float array, got None"),
])
def test_layers_refuse_non_float_input(mode, bad, exc, match):
    layer = LAYERS[mode](2, 3, rng=0)
    with pytest.raises(exc, match=match):
        layer(bad)


@pytest.mark.parametrize("mode", LAYERS)
@pytest.mark.parametrize("lengths, exc, match", [
    ([3, 9], ValueError, r"every length in 1\.\.3 .*from 3 to 9"),
    ([0, 2], ValueError, r"every length in 1\.\.3 .*from 0 to 2"),
    ([2], ValueError, "expected 2 lengths"),
    ([1.5, 2], ValueError, "lengths to be a 1-D list or array of integers"),
    ([[1, 2]], ValueError, "lengths to be a 1-D list or array of integers"),
])
def test_bad_lengths_are_refused_before_anything_changes(mode, lengths, exc, match):
    layer = LAYERS[mode](2, 3, rng=0)
    with pytest.raises(exc, match=match):
        layer(np.zeros((3, 2, 2)), lengths=lengths)
    assert not layer._caches


@pytest.mark.parametrize("mode", LAYERS)
def test_a_bad_upstream_gradient_leaves_the_forward_pending(mode):
    layer = LAYERS[mode](2, 3, rng=0)
    y, _ = layer(np.ones((4, 2, 2)))
    grads = grads_of(layer)
    with pytest.raises(ValueError, match="grad_output"):
        layer.backward(np.ones((4, 2, 5)))
    unchanged(layer, {k: p.data for k, p in layer.named_parameters()}, grads)
    layer.backward(np.ones(y.shape))                     # the forward is still there
    assert not layer._caches


# ---- the switch ----------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["Textbook", "fast", "", None, 1])
def test_an_unknown_implementation_is_refused_naming_both(bad):
    before = minirnn.get_impl()
    with pytest.raises(ValueError, match="'engine' or 'textbook'"):
        minirnn.set_impl(bad)
    with pytest.raises(ValueError, match="'engine' or 'textbook'"):
        with minirnn.use_impl(bad):
            pass
    assert minirnn.get_impl() == before


def python(code, impl):
    """(exit status, stdout, stderr) of ``python -c code`` with MINIRNN_IMPL=impl."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": ROOT, "MINIRNN_IMPL": impl})
    return r.returncode, r.stdout, r.stderr


@pytest.mark.parametrize("bad", ["fast", ""])
def test_an_unknown_environment_value_is_our_value_error_at_first_use(bad):
    status, out, err = python(
        "import minirnn, numpy as np\n"
        "print('imported')\n"
        "try:\n"
        "    minirnn.nn.LSTM(2, 3)(np.zeros((1, 1, 2)))\n"
        "except ValueError as e:\n"
        "    print(e)\n"
        "minirnn.set_impl('textbook')            # an explicit choice wins over the variable\n"
        "print(minirnn.get_impl())\n", bad)
    assert status == 0, err
    assert out.splitlines() == [
        "imported", "expected the environment variable MINIRNN_IMPL to be 'engine' or "
        f"'textbook', got {bad!r}", "textbook"]


# ---- issue #20 item 3.2: grad mode and the tier are per thread -----------------------------

def in_thread(function):
    """function() in a new thread; what it returned (re-raising what it raised)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(_catch(function)))
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def _catch(function):
    try:
        return function()
    except BaseException as e:          # noqa: BLE001 -- handed back to the caller
        return e


def test_no_grad_in_one_thread_leaves_another_thread_training():
    entered, trained = threading.Event(), threading.Event()

    def evaluate():
        with minirnn.no_grad():
            entered.set()
            assert trained.wait(30)
            return minirnn.is_grad_enabled()

    evaluation = threading.Thread(target=lambda: results.append(evaluate()))
    results = []
    evaluation.start()
    assert entered.wait(30)
    layer = nn.LSTM(3, 4, rng=0)                       # trains while the other evaluates
    y, _ = layer(np.ones((5, 2, 3)))
    layer.backward(np.ones(y.shape))
    assert not layer._caches and minirnn.is_grad_enabled()
    trained.set()
    evaluation.join(30)
    assert results == [False]


def test_a_new_thread_starts_with_grad_enabled():
    with minirnn.no_grad():
        assert in_thread(minirnn.is_grad_enabled) is True
        assert not minirnn.is_grad_enabled()
    assert minirnn.is_grad_enabled()


def test_one_no_grad_decorator_in_two_threads_restores_each():
    inside, a_left = threading.Barrier(2), threading.Event()
    after = {}

    @minirnn.no_grad()
    def evaluate(name):
        inside.wait(30)                 # both threads inside the one instance at once
        if name == "B":
            assert a_left.wait(30)      # B leaves after A

    def worker(name):
        evaluate(name)
        after[name] = minirnn.is_grad_enabled()
        a_left.set()

    threads = [threading.Thread(target=worker, args=(name,)) for name in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert after == {"A": True, "B": True} and minirnn.is_grad_enabled()


def test_interleaved_use_impl_in_two_threads_leaves_the_default_alone():
    # A enters, B enters, A leaves, B leaves: with one process-wide tier, B restored A's
    # 'textbook' and left the whole process on it
    step = threading.Barrier(2)
    seen = {}

    def worker(name, tier, leave_first):
        step.wait(30)
        if name == "B":
            step.wait(30)
        with minirnn.use_impl(tier):
            if name == "A":
                step.wait(30)                  # B may enter now
            step.wait(30)                      # both inside
            if not leave_first:
                step.wait(30)                  # A has left
            seen[name] = minirnn.get_impl()
        if leave_first:
            step.wait(30)

    before = minirnn.get_impl()
    threads = [threading.Thread(target=worker, args=("A", "textbook", True)),
               threading.Thread(target=worker, args=("B", "engine", False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert seen == {"A": "textbook", "B": "engine"}
    assert minirnn.get_impl() == before and in_thread(minirnn.get_impl) == before


def test_set_impl_is_the_process_default_and_use_impl_stays_in_its_thread():
    before = minirnn.get_impl()
    try:
        with minirnn.use_impl("textbook"):
            assert in_thread(minirnn.get_impl) == before       # another thread: the default
        minirnn.set_impl("textbook")
        assert in_thread(minirnn.get_impl) == "textbook"        # a later thread follows it
        with minirnn.use_impl("engine"):
            assert minirnn.get_impl() == "engine"
            assert in_thread(minirnn.get_impl) == "textbook"
            minirnn.set_impl("engine")          # inside a block: this thread follows it now
            assert minirnn.get_impl() == "engine"
        assert minirnn.get_impl() == "engine"
    finally:
        minirnn.set_impl(before)


# ---- item 3: a model called twice, then back-propagated once --------------------------------

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 4, rng=0)
        self.out = nn.Linear(4, 2, rng=1)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return self.out(h[0])

    def backward(self, g):
        dh = self.out.backward(g)
        return self.rnn.backward(None, (dh[None], None))


def test_a_dev_evaluation_outside_no_grad_is_refused_at_backward():
    rng = np.random.default_rng(0)
    train_x, dev_x = rng.standard_normal((5, 2, 3)), rng.standard_normal((5, 2, 3))
    model = Classifier()
    model(train_x)
    model.eval()
    model(dev_x)                                  # the mistake: not under no_grad()
    model.train()
    before = grads_of(model)
    with pytest.raises(nn.StackedForwardError, match="2 calls of Classifier"):
        model.backward(np.ones((2, 2)))
    unchanged(model, {k: p.data for k, p in model.named_parameters()}, before)


def test_truncated_bptt_across_batches_still_works():
    rng = np.random.default_rng(0)
    model = nn.LSTM(3, 4, rng=0)
    state = None
    for _ in range(3):
        y, state = model(rng.standard_normal((5, 2, 3)), state)
        model.backward(np.ones(y.shape))
        state = tuple(s.copy() for s in state)    # carried, not back-propagated through
    assert not model._caches
