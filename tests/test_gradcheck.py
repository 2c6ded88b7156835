"""Finite differences (float64, central, eps=1e-6) for every module's backward.

``minirnn.gradcheck`` contracts the module's outputs (final states included) with random upstream
gradients and compares its backward with central differences for every parameter and every float
input. Parameters keep their random nonzero initialisation (biases included). The last tests
prove the checker can fail: a module with a wrong derivative gets a large error.
"""
import numpy as np
import pytest

import minirnn
import minirnn.nn as mnn

TOL = 1e-7


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def check(module, *inputs, expect_inputs=("input0",)):
    errors = minirnn.gradcheck(module, *inputs, eps=1e-6, seed=0)
    names = {name for name, _ in module.named_parameters()}
    missing = (names | set(expect_inputs)) - set(errors)
    assert not missing, f"gradcheck reported no error for {sorted(missing)}: {errors}"
    worst = max(errors, key=errors.get) if errors else None
    assert worst is None or errors[worst] < TOL, f"worst: {worst} = {errors[worst]:.2e}; {errors}"
    return errors


# ---- simple layers -----------------------------------------------------------------------

def test_linear():
    check(mnn.Linear(3, 2, rng=0), rand(2, 2, 3))


def test_linear_without_bias():
    check(mnn.Linear(3, 2, bias=False, rng=0), rand(4, 3))


def test_embedding():
    # no padding_idx: its row is frozen on purpose, so it would (rightly) disagree with FD
    emb = mnn.Embedding(5, 3, rng=0)
    errors = check(emb, np.array([[0, 1, 4], [4, 4, 2]]), expect_inputs=())
    assert set(errors) == {"weight"}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy(reduction):
    target = np.array([0, 2, -100, 1])
    check(mnn.CrossEntropyLoss(reduction=reduction), 3 * rand(4, 3), target)


def test_sequential():
    model = mnn.Sequential(mnn.Linear(3, 4, rng=0), mnn.Linear(4, 2, rng=1))
    check(model, rand(5, 3))


def test_sequential_with_training_dropout():
    """gradcheck replays the dropout mask, so this checks backward uses forward's mask."""
    model = mnn.Sequential(mnn.Linear(3, 6, rng=0), mnn.Dropout(0.5, rng=1),
                           mnn.Linear(6, 2, rng=2)).train()
    check(model, rand(5, 3))


# ---- cells -------------------------------------------------------------------------------

@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_cell(nonlinearity, bias):
    cell = mnn.RNNCell(3, 4, bias=bias, nonlinearity=nonlinearity, rng=0)
    check(cell, rand(2, 3), rand(2, 4, seed=1), expect_inputs=("input0", "input1"))


def test_gru_cell():
    check(mnn.GRUCell(3, 4, rng=0), rand(2, 3), rand(2, 4, seed=1),
          expect_inputs=("input0", "input1"))


def test_gru_cell_unbatched():
    check(mnn.GRUCell(3, 2, rng=0), rand(3), rand(2, seed=1), expect_inputs=("input0", "input1"))


@pytest.mark.parametrize("gate_activation", ["sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("cell_activation", ["tanh", "identity", "relu"])
def test_lstm_cell(gate_activation, cell_activation):
    cell = mnn.LSTMCell(3, 4, gate_activation=gate_activation, cell_activation=cell_activation,
                        rng=0)
    check(cell, rand(2, 3), (rand(2, 4, seed=1), rand(2, 4, seed=2)),
          expect_inputs=("input0", "input1", "input2"))


# ---- recurrent layers --------------------------------------------------------------------

@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn(nonlinearity):
    rnn = mnn.RNN(3, 4, num_layers=2, nonlinearity=nonlinearity, rng=0)
    check(rnn, rand(4, 2, 3), rand(2, 2, 4, seed=1), expect_inputs=("input0", "input1"))


def test_gru():
    check(mnn.GRU(3, 4, num_layers=2, rng=0), rand(4, 2, 3), rand(2, 2, 4, seed=1),
          expect_inputs=("input0", "input1"))


def test_lstm():
    check(mnn.LSTM(3, 4, rng=0), rand(4, 2, 3), (rand(1, 2, 4, seed=1), rand(1, 2, 4, seed=2)),
          expect_inputs=("input0", "input1", "input2"))


def test_lstm_with_projection():
    lstm = mnn.LSTM(3, 4, num_layers=2, proj_size=2, rng=0)
    check(lstm, rand(3, 2, 3), (rand(2, 2, 2, seed=1), rand(2, 2, 4, seed=2)),
          expect_inputs=("input0", "input1", "input2"))


@pytest.mark.parametrize("gate_activation,cell_activation",
                         [("hard_sigmoid", "tanh"), ("sigmoid", "identity"),
                          ("hard_sigmoid", "relu")])
def test_lstm_other_activations(gate_activation, cell_activation):
    """Piecewise-linear activations: random pre-activations are never within eps of a kink."""
    lstm = mnn.LSTM(3, 3, gate_activation=gate_activation, cell_activation=cell_activation,
                    rng=0)
    check(lstm, rand(4, 2, 3), (rand(1, 2, 3, seed=1), rand(1, 2, 3, seed=2)),
          expect_inputs=("input0", "input1", "input2"))


@pytest.mark.parametrize("cls", [mnn.RNN, mnn.GRU, mnn.LSTM])
def test_bidirectional_multilayer_with_lengths(cls):
    """Two bidirectional layers, batch_first, variable lengths, hx=None (zeros)."""
    layer = cls(2, 2, num_layers=2, bidirectional=True, batch_first=True, rng=0)
    check(layer, rand(3, 4, 2), None, np.array([4, 1, 3]))


def test_lstm_projection_bidirectional_with_lengths_and_hx():
    lstm = mnn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=1, rng=0)
    check(lstm, rand(4, 3, 2), (rand(4, 3, 1, seed=1), rand(4, 3, 3, seed=2)), [2, 4, 3],
          expect_inputs=("input0", "input1", "input2"))


@pytest.mark.parametrize("cls", [mnn.RNN, mnn.GRU])
def test_unbatched_with_hx(cls):
    check(cls(2, 3, bidirectional=True, rng=0), rand(4, 2), rand(2, 3, seed=1),
          expect_inputs=("input0", "input1"))


@pytest.mark.parametrize("cls", [mnn.RNN, mnn.GRU, mnn.LSTM])
def test_training_dropout_between_layers(cls):
    """gradcheck replays the module's rng, so each layer is checked against one fixed mask."""
    layer = cls(2, 3, num_layers=3, dropout=0.5, rng=0).train()
    check(layer, rand(3, 2, 2))


# ---- the checker can fail ----------------------------------------------------------------

class WrongSquare(mnn.Module):
    """y = w ⊙ x², with a backward that forgets the factor 2 (dL/dx = g ⊙ w ⊙ x, wrong)."""

    def __init__(self):
        super().__init__()
        self.w = mnn.Parameter(np.linspace(0.5, 1.5, 4))

    def forward(self, x):
        self._push(x)
        return self.w.data * x ** 2

    def backward(self, grad):
        x = self._pop()
        self.w.grad += np.sum(grad * x ** 2, axis=0)  # correct
        return grad * self.w.data * x                 # wrong: should be 2 w x


class WrongSign(WrongSquare):
    """Right input gradient, parameter gradient with the wrong sign."""

    def backward(self, grad):
        x = self._pop()
        self.w.grad -= np.sum(grad * x ** 2, axis=0)
        return 2 * grad * self.w.data * x


def test_gradcheck_passes_the_correct_version():
    class RightSquare(WrongSquare):
        def backward(self, grad):
            x = self._pop()
            self.w.grad += np.sum(grad * x ** 2, axis=0)
            return 2 * grad * self.w.data * x

    errors = check(RightSquare(), rand(3, 4))
    assert set(errors) == {"w", "input0"}


def test_gradcheck_catches_wrong_input_gradient():
    errors = minirnn.gradcheck(WrongSquare(), rand(3, 4), eps=1e-6, seed=0)
    assert errors["w"] < TOL
    assert errors["input0"] > 0.1


def test_gradcheck_catches_wrong_parameter_gradient():
    errors = minirnn.gradcheck(WrongSign(), rand(3, 4), eps=1e-6, seed=0)
    assert errors["input0"] < TOL
    assert errors["w"] > 0.1


def test_gradcheck_leaves_inputs_and_grads_alone():
    lin = mnn.Linear(3, 2, rng=0)
    x = rand(4, 3)
    x_before, w_before = x.copy(), lin.weight.data.copy()
    minirnn.gradcheck(lin, x)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(lin.weight.data, w_before)


def test_gradcheck_handles_non_contiguous_inputs():
    x = np.random.default_rng(0).standard_normal((3, 2, 4)).transpose(1, 0, 2)  # not C order
    m = mnn.GRU(4, 3, rng=0)
    assert max(minirnn.gradcheck(m, x).values()) < 1e-7


# ---- what the checker refuses ------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: mnn.Linear(3, 2, dtype=np.float32, rng=0),
                                  lambda: mnn.GRU(3, 2, dtype=np.float32, rng=0)],
                         ids=["Linear", "GRU"])
def test_gradcheck_refuses_float32_parameters(make):
    """In float32, central differences give ~0.1 for a correct backward: refused, not
    reported as a number that looks like a bug."""
    with pytest.raises(TypeError, match=r"expected float64 parameters .* got 'weight.*' in "
                                        r"float32: build the module with dtype=np.float64"):
        minirnn.gradcheck(make(), rand(4, 3).astype(np.float32))


@pytest.mark.parametrize("eps, error", [(0.0, ValueError), (-1e-6, ValueError),
                                        (float("nan"), ValueError), ("1e-6", TypeError)],
                         ids=repr)
def test_gradcheck_refuses_a_bad_eps(eps, error):
    with pytest.raises(error, match="gradcheck: expected eps to be a finite number > 0"):
        minirnn.gradcheck(mnn.Linear(3, 2, rng=0), rand(4, 3), eps=eps)
