"""The textbook core (minirnn/textbook/rnn.py, lstm.py, gru.py): plain, numbered, and right.

1. Plain: the step functions and loops have no branch and no activation looked up by name;
   lstm_step_backward is at most 15 statements; every line that computes something cites its
   equation; the lines fit in 100 columns.
2. One numbering: the equations of each core file are, word for word, the equations of the
   exercise template (``minirnn exercise``) for the same cell.
3. Right: the core's step and sequence functions against torch.nn.RNN, LSTM and GRU (float64,
   random nonzero biases, random upstream gradients on every output and the final states):
   outputs, states, dx, the initial states' gradients and every weight gradient, to 1e-9.
4. The textbook tier runs the core: with the default options, the variants' functions (what
   the layers call on the textbook tier) hand every step to the core's step functions.
"""
import ast
import inspect
import re

import numpy as np
import pytest
import torch

import minirnn.textbook.variants as variants
from minirnn.exercises.templates import exercise_parts
from minirnn.textbook import gru, lstm, rnn
from torch_oracle import assert_close, to_numpy

CORE = {"srn": rnn, "lstm": lstm, "gru": gru}
PREFIX = {"srn": "rnn", "lstm": "lstm", "gru": "gru"}
TAG = re.compile(r"# \((\d)'?\)")


def functions(cell):
    """The core's four functions for ``cell``: step forward, step backward, forward, backward."""
    p = PREFIX[cell]
    return [getattr(CORE[cell], f"{p}_{name}")
            for name in ("step_forward", "step_backward", "forward", "backward")]


def body(function):
    """The statements of ``function`` after its docstring."""
    tree = ast.parse(inspect.getsource(function)).body[0]
    return tree.body[1:] if isinstance(tree.body[0].value, ast.Constant) else tree.body


# ---- 1. plain ------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CORE)
def test_core_functions_have_no_branch_and_no_lookup(cell):
    for function in functions(cell):
        tree = ast.parse(inspect.getsource(function))
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.If, ast.IfExp, ast.Try, ast.While, ast.Match)), \
                f"{function.__name__} has a branch at line {node.lineno}"
        source = inspect.getsource(function)
        assert "act." not in source and "derivative(" not in source, function.__name__


def test_lstm_step_backward_is_at_most_15_statements():
    count = sum(1 for node in ast.walk(ast.Module(body(lstm.lstm_step_backward), []))
                if isinstance(node, ast.stmt))
    assert count <= 15, count


@pytest.mark.parametrize("cell", CORE)
def test_every_computing_line_of_a_step_cites_its_equation(cell):
    for function in functions(cell)[:2]:
        lines, start = inspect.getsourcelines(function)
        for statement in body(function):
            computes = any(isinstance(n, (ast.BinOp, ast.Call)) for n in ast.walk(statement))
            if isinstance(statement, ast.Return) or not computes:
                continue
            first = lines[statement.lineno - 1]
            assert TAG.search(first), f"{function.__name__}: no equation tag on {first.strip()!r}"


@pytest.mark.parametrize("cell", CORE)
def test_core_files_fit_100_columns(cell):
    for k, line in enumerate(inspect.getsource(CORE[cell]).splitlines(), 1):
        assert len(line) <= 100, f"{CORE[cell].__name__}:{k} has {len(line)} columns"


def test_the_backward_walks_the_equations_in_reverse():
    """The tags of lstm_step_backward never go up: (5') before (4') before (3') ... (1')."""
    lines = inspect.getsource(lstm.lstm_step_backward).splitlines()
    numbers = [int(m.group(1)) for line in lines for m in [TAG.search(line)] if m]
    assert numbers == sorted(numbers, reverse=True) and numbers[0] == 5 and numbers[-1] == 1


# ---- 2. one numbering ----------------------------------------------------------------------

def equation_block(text):
    """From 'Forward, one step:' to the end of the last numbered equation of the sequence."""
    start = text.index("Forward, one step:")
    lines = text[start:].splitlines()
    last = max(k for k, line in enumerate(lines) if re.match(r"  \(\d'\)", line))
    while last + 1 < len(lines) and lines[last + 1].startswith(" " * 7):
        last += 1
    return "\n".join(line.rstrip() for line in lines[:last + 1])


@pytest.mark.parametrize("cell", CORE)
def test_the_exercise_states_the_cores_equations(cell):
    template = exercise_parts(cell)[0]
    assert equation_block(template) == equation_block(CORE[cell].__doc__)


@pytest.mark.parametrize("cell", CORE)
def test_the_exercise_notation_is_the_cores(cell):
    template, core = exercise_parts(cell)[0], CORE[cell].__doc__
    notation = template[template.index("Notation."):template.index("Forward, one step:")]
    assert notation in core


# ---- 3. right --------------------------------------------------------------------------------

def torch_twin(cell, D, H, seed):
    torch.manual_seed(seed)
    module = {"srn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        D, H, dtype=torch.float64)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.6, 0.6)              # nonzero biases, weights of both signs
    return module


@pytest.mark.parametrize("cell", CORE)
@pytest.mark.parametrize("seed", [0, 1])
def test_core_sequence_against_torch(cell, seed):
    T, N, D, H = 5, 3, 4, 6                    # every size distinct
    module = torch_twin(cell, D, H, seed)
    rng = np.random.default_rng(seed)
    x, h0, c0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H)), \
        rng.standard_normal((N, H))
    dy, dh_n, dc_n = rng.standard_normal((T, N, H)), rng.standard_normal((N, H)), \
        rng.standard_normal((N, H))
    weights = [to_numpy(p).copy() for p in (module.weight_ih_l0, module.weight_hh_l0,
                                            module.bias_ih_l0, module.bias_hh_l0)]
    tx, th0, tc0 = (torch.tensor(a, requires_grad=True) for a in (x, h0[None], c0[None]))
    _, _, forward, backward = functions(cell)
    if cell == "lstm":
        y, h_n, c_n, caches = forward(x, h0, c0, *weights)
        dx, dh0, dc0, grads = backward(dy, dh_n, dc_n, caches)
        ty, (th_n, tc_n) = module(tx, (th0, tc0))
        loss = (ty * torch.tensor(dy)).sum() + (th_n[0] * torch.tensor(dh_n)).sum() \
            + (tc_n[0] * torch.tensor(dc_n)).sum()
        assert_close(c_n, tc_n[0], np.float64, "c_n")
    else:
        y, h_n, caches = forward(x, h0, *weights)
        dx, dh0, grads = backward(dy, dh_n, caches)
        ty, th_n = module(tx, th0)
        loss = (ty * torch.tensor(dy)).sum() + (th_n[0] * torch.tensor(dh_n)).sum()
    loss.backward()
    assert_close(y, ty, np.float64, "y")
    assert_close(h_n, th_n[0], np.float64, "h_n")
    assert_close(dx, tx.grad, np.float64, "dx")
    assert_close(dh0, th0.grad[0], np.float64, "dh0")
    if cell == "lstm":
        assert_close(dc0, tc0.grad[0], np.float64, "dc0")
    names = {"W_ih": module.weight_ih_l0, "W_hh": module.weight_hh_l0,
             "b_ih": module.bias_ih_l0, "b_hh": module.bias_hh_l0}
    assert set(grads) == set(names)
    for name, p in names.items():
        assert_close(grads[name], p.grad, np.float64, f"grad of {name}")


# ---- 4. the textbook tier runs the core --------------------------------------------------------

@pytest.mark.parametrize("cell", CORE)
def test_the_variants_hand_the_standard_cell_to_the_core(cell, monkeypatch):
    T, N, D, H = 3, 2, 4, 5
    G = {"srn": 1, "lstm": 4, "gru": 3}[cell]
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s) for s in ((G * H, D), (G * H, H), (G * H,), (G * H,))]
    x, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    p = PREFIX[cell]
    calls = []
    for name in ("step_forward", "step_backward"):
        real = getattr(CORE[cell], f"{p}_{name}")
        monkeypatch.setattr(CORE[cell], f"{p}_{name}",
                            lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a))
    kernels = getattr(variants, p)
    states = (h0, h0.copy()) if cell == "lstm" else (h0,)
    *out, cache = getattr(kernels, f"{p}_forward")(x, *states, *weights)
    getattr(kernels, f"{p}_backward")(np.ones_like(out[0]), None, *([None] * (cell == "lstm")),
                                      cache)
    assert calls == ["step_forward"] * T + ["step_backward"] * T
