"""Every hint the exercise checker shows is true: a planted bug gets a hint that names the
right quantity (and its equation number), and no hint about anything that is right.

Each case is a correct solution from tests/exercise_solutions/ with one planted change. The
three hints the audit found false (issue #21: a dc carry reset blamed on dh, a bias taken
from one row blamed on the gate blocks, dx from a transposed weight answered with the forward's
shapes and an undefined G) come first; then the other verified hypotheses.
"""
from pathlib import Path

import numpy as np
import pytest

from minirnn.exercises import check_main
from minirnn.exercises.cells import CELLS
from minirnn.exercises.checker import make_problems
from minirnn.exercises.diagnosis import _STEP_BUGS, _step_backward, rel_error
from minirnn.exercises.reference import functions

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "tests" / "exercise_solutions"
LSTM_STEP = ("        dxs[t], dh_next, dc_next, step_grads = "
             "lstm_step_backward(dh, dc_next, cache[t])\n")


def checked(tmp_path, capsys, cell, old, new):
    source = (SOLUTIONS / f"{cell}_solution.py").read_text(encoding="utf-8")
    assert source.count(old) == 1, f"{old!r} is not in the {cell} solution exactly once"
    path = tmp_path / f"{cell}_exercise.py"
    path.write_text(source.replace(old, new), encoding="utf-8")
    status = check_main([str(path)])
    out, err = capsys.readouterr()
    assert status == 1 and "Traceback" not in out + err, out
    return out


# (cell, old, new, rung, words the output must contain, words it must not)
CASES = {
    # ---- the three false hints of the audit
    "dc_next reset to zeros before every step": (
        "lstm", LSTM_STEP, "        dc_next = np.zeros_like(dh)\n" + LSTM_STEP, 6,
        ["dc_next is set to zeros at every step", "dc_prev that step t+1 returned", "(6')"],
        ["dh_next is not carried", "every step's dh", "dh = dy[t] + dh_next"]),
    "dc_next reset to zeros after every step": (
        "lstm", LSTM_STEP, LSTM_STEP + "        dc_next = np.zeros_like(dh)\n", 6,
        ["dc_next is set to zeros after each step", "(6')"],
        ["dh_next is not carried", "dh = dy[t] + dh_next"]),
    "LSTM bias from one row": (
        "lstm", '"b_ih": da.sum(axis=0), "b_hh": da.sum(axis=0)', '"b_ih": da[0], "b_hh": da[0]',
        3, ["db_ih, db_hh are wrong", "db_ih is row 0 of da", "db_hh is row 0 of da",
            "(1') db_ih = Σ_n da", "da.sum(axis=0)"],
        ["gate block", "dx is wrong", "dW_ih is wrong"]),
    "SRN bias from one row": (
        "srn", '"b_ih": da.sum(axis=0), "b_hh"', '"b_ih": da[1], "b_hh"',
        3, ["db_ih is wrong", "db_ih is row 1 of da", "(1') db_ih = Σ_n da"], ["db_hh is"]),
    "GRU bias from one row": (
        "gru", '"b_ih": dgi.sum(axis=0), "b_hh": dgh.sum(axis=0)', '"b_ih": dgi[0], "b_hh": dgh[0]',
        3, ["db_ih is row 0 of dgi", "db_hh is row 0 of dgh", "(1') db_hh = Σ_n dgh"],
        ["gate block"]),
    "LSTM dx from a transposed W_ih": (
        "lstm", 'dx = da @ cache["W_ih"]', 'dx = da @ cache["W_ih"].T', 3,
        ["your line computes dx: (1') dx = da W_ih is (3, 20)(20, 4) -> (3, 4)",
         "it transposes a weight", "4H = 20"],
        ["G·H", "G ", "x @ W_ih.T", "(1) a"]),
    "SRN dx from a transposed W_ih": (
        "srn", "dx = da @ W_ih\n", "dx = da @ W_ih.T\n", 3,
        ["your line computes dx: (1') dx = da W_ih is (3, 5)(5, 4) -> (3, 4)",
         "it transposes a weight"], ["G·H", "x @ W_ih.T"]),
    "GRU dx from a transposed W_ih": (
        "gru", "dx = dgi @ W_ih", "dx = dgi @ W_ih.T", 3,
        ["your line computes dx: (1') dx = dgi W_ih is (3, 15)(15, 4) -> (3, 4)"], ["G·H"]),
    # ---- dx or dh_prev from the wrong weight: a wrong shape, explained by its value
    "SRN dx from W_hh": ("srn", "dx = da @ W_ih\n", "dx = da @ W_hh\n", 3,
                         ["dx has shape (3, 5), expected (3, 4)", "dx is da W_hh",
                          "(1') dx = da W_ih"], ["dh_prev is"]),
    "LSTM dx from W_hh": ("lstm", 'dx = da @ cache["W_ih"]', 'dx = da @ cache["W_hh"]', 3,
                          ["dx is da W_hh", "(1') dx = da W_ih"], ["gate block"]),
    "GRU dx from W_hh": ("gru", "dx = dgi @ W_ih", "dx = dgi @ W_hh", 3,
                         ["dx is dgi W_hh", "(1') dx = dgi W_ih"], []),
    "SRN dh_prev from W_ih": ("srn", "dh_prev = da @ W_hh\n", "dh_prev = da @ W_ih\n", 3,
                              ["dh_prev is da W_ih", "(1') dh_prev = da W_hh"], ["dx is"]),
    # ---- other verified hypotheses
    "LSTM dW_ih transposed": ("lstm", '"W_ih": da.T @ cache["x"]', '"W_ih": cache["x"].T @ da',
                              3, ["dW_ih is xᵀ da, the transpose", "(1') dW_ih = daᵀ x"], []),
    "SRN bias summed over axis 1": (
        "srn", '"b_ih": da.sum(axis=0), "b_hh"', '"b_ih": da.sum(axis=1), "b_hh"', 3,
        ["db_ih sums each row of da (axis 1)"], []),
    "SRN tanh' missing": ("srn", "da = dh * (1 - h ** 2)", "da = dh", 3,
                          ["the tanh' factor is missing, (2')"], ["dh_prev = da W_hh, not"]),
    "SRN da from 1 - h": ("srn", "da = dh * (1 - h ** 2)", "da = dh * (1 - h)", 3,
                          ["follows (1') from one da, and that da is wrong: (2')"],
                          ["dx is wrong:", "dW_ih is wrong:"]),
    "LSTM o block doubled": ("lstm", "do * dsigmoid(o)", "do * dsigmoid(o) * 2", 3,
                             ["gate block o is wrong", "(5') do = dh ⊙ tanh(c_t)"],
                             ["block of i", "i, f", "dc is"]),
    "LSTM do from c": ("lstm", "do = dh * tanh_c", "do = dh * c", 3,
                       ["do = dh ⊙ c_t: (5') do = dh ⊙ tanh(c_t)"], ["gate block"]),
    "LSTM dc_prev from the incoming dc": ("lstm", "dc_prev = dc_t * f", "dc_prev = dc * f", 3,
                                          ["dc_prev is wrong", "(4') dc_prev = dc ⊙ f"],
                                          ["dx is wrong"]),
    "GRU dz sign": ("gru", "dz = dh * (h_prev - n)", "dz = dh * (n - h_prev)", 3,
                    ["dz has the wrong sign: (5')"], ["gate block"]),
    "GRU r missing in dgh's n block": ("gru", "r * da_n], axis=1)", "da_n], axis=1)", 3,
                                       ["dgh's n block is da_n", "r ⊙ da_n"], []),
}


@pytest.mark.parametrize("case", CASES)
def test_a_planted_bug_gets_a_true_hint(tmp_path, capsys, case):
    cell, old, new, rung, words, absent = CASES[case]
    out = checked(tmp_path, capsys, cell, old, new)
    failed = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(failed) == 1 and failed[0].startswith(f"✗ {rung}. "), out
    for word in words:
        assert word in out, f"{word!r} not in:\n{out}"
    for word in absent:
        assert word not in out, f"{word!r} in:\n{out}"


@pytest.mark.parametrize("cell", CELLS)
def test_the_bug_free_step_backward_of_the_hints_is_the_textbooks(cell):
    # the hypotheses are run on diagnosis's own step backward: without a bug it must be
    # the textbook's, or "verified" would mean nothing
    step_forward, step_backward = functions(CELLS[cell])[:2]
    for p in make_problems(CELLS[cell], seed=3):
        mine = _step_backward(CELLS[cell], p)
        dx, *d_prev, grads = step_backward(*p.d_out, step_forward(p.x, *p.prev, *p.weights)[-1])
        assert rel_error(mine["dx"], dx) < 1e-13
        assert rel_error(mine["dh_prev"], d_prev[0]) < 1e-13
        if cell == "lstm":
            assert rel_error(mine["dc_prev"], d_prev[1]) < 1e-13
        for k, g in grads.items():
            assert rel_error(mine[f"d{k}"], g) < 1e-13


@pytest.mark.parametrize("cell", CELLS)
def test_every_step_bug_is_distinct_and_changes_something(cell):
    # a hint is shown when its bug reproduces every number; two bugs that give the same
    # numbers, or a "bug" that changes nothing, would make that test meaningless
    p = make_problems(CELLS[cell], seed=0)[0]
    right = _step_backward(CELLS[cell], p)
    outputs = {}
    for bug in _STEP_BUGS[cell]:
        bugged = _step_backward(CELLS[cell], p, bug)
        keys = [k for k in bugged if not k.startswith("_")]
        assert any(rel_error(bugged[k], right[k]) > 1e-3 for k in keys), bug
        outputs[bug] = np.concatenate([np.ravel(bugged[k]) for k in keys])
    for a in outputs:
        for b in outputs:
            if a < b:
                assert rel_error(outputs[a], outputs[b]) > 1e-3, (a, b)
