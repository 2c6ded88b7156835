"""minirnn.exercises: the exercise files, and a checker that catches planted bugs at the right
check, naming the right quantity.

The correct solutions in tests/exercise_solutions/ are written as a student would; every
planted bug is a text substitution in a copy of one, so the bugs are real code.
"""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from minirnn import textbook
from minirnn.exercises import check_functions, check_main, exercise_main
from minirnn.exercises.cells import CELLS
from minirnn.exercises.templates import exercise_source

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "tests" / "exercise_solutions"


def solution(cell):
    return (SOLUTIONS / f"{cell}_solution.py").read_text(encoding="utf-8")


def run_check(capsys, path):
    status = check_main([str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out


def planted(tmp_path, cell, old, new):
    """A copy of ``cell``'s solution with ``old`` replaced by ``new`` (once)."""
    source = solution(cell)
    assert source.count(old) == 1, f"{old!r} is not in the {cell} solution exactly once"
    path = tmp_path / f"{cell}_exercise.py"
    path.write_text(source.replace(old, new), encoding="utf-8")
    return path


# ---- the exercise files --------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
def test_exercise_file_has_the_contract_and_stubs(tmp_path, capsys, cell):
    assert exercise_main([cell, "--dir", str(tmp_path / "sub")]) == 0
    path = tmp_path / "sub" / f"{cell}_exercise.py"
    assert str(path) in capsys.readouterr().out
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree)
    assert "(1)" in doc and "(1')" in doc and "W_ih (" in doc
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    for name in CELLS[cell].functions:
        f = functions[name]
        assert tuple(a.arg for a in f.args.args) == CELLS[cell].arguments(name)
        assert "(N, " in ast.get_docstring(f)
        assert isinstance(f.body[-1], ast.Raise)


def test_exercise_never_overwrites_without_force(tmp_path, capsys):
    path = tmp_path / "lstm_exercise.py"
    path.write_text("my work\n", encoding="utf-8")
    assert exercise_main(["lstm", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "already exists" in out and "--force" in out
    assert path.read_text(encoding="utf-8") == "my work\n"
    assert exercise_main(["lstm", "--dir", str(tmp_path), "--force"]) == 0
    assert path.read_text(encoding="utf-8") == exercise_source("lstm")


def test_exercise_rejects_an_unknown_cell(capsys):
    assert exercise_main(["transformer"]) == 2
    err = capsys.readouterr().err
    assert "minirnn exercise: error: argument cell: invalid choice" in err
    assert len(err.strip().splitlines()) == 1


# ---- correct implementations pass ----------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
def test_a_correct_solution_passes_every_check(tmp_path, capsys, cell):
    status, out = run_check(capsys, SOLUTIONS / f"{cell}_solution.py")
    assert status == 0, out
    assert out.count("✓") == 6 and "all 6 checks passed" in out


@pytest.mark.parametrize("cell", CELLS)
def test_the_textbooks_own_functions_pass(tmp_path, capsys, cell):
    module = {"srn": "rnn", "lstm": "lstm", "gru": "gru"}[cell]
    names = ", ".join(CELLS[cell].functions)
    path = tmp_path / f"{cell}_textbook.py"
    path.write_text(f"from minirnn.textbook.{module} import {names}\n", encoding="utf-8")
    status, out = run_check(capsys, path)
    assert status == 0, out


def test_check_functions_takes_a_namespace(capsys):
    namespace = {name: getattr(textbook, name) for name in CELLS["gru"].functions}
    assert check_functions(dict(namespace, unrelated=print)) is True
    assert "all 6 checks passed" in capsys.readouterr().out


def test_the_checker_runs_as_a_module(tmp_path):
    run = subprocess.run([sys.executable, "-m", "minirnn.exercises", "check",
                          str(SOLUTIONS / "srn_solution.py")], capture_output=True, text=True,
                         encoding="utf-8", cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all 6 checks passed" in run.stdout


# ---- planted bugs: each stops at the right check and names the right quantity -------------

_STEP = "        h, step_cache = gru_step_forward(x[t], h, W_ih, W_hh, b_ih, b_hh)\n"
BUGS = {
    "missing dh_next carry": ("lstm", "dh = dy[t] + dh_next", "dh = dy[t]",
                              6, ["dh_next is not carried"]),
    "= instead of += on dW_hh": ("srn", 'grads["W_hh"] += step_grads["W_hh"]',
                                 'grads["W_hh"] = step_grads["W_hh"]',
                                 6, ["dW_hh is wrong but dx, dh0 are right", "+="]),
    "sigma for sigma'": ("lstm", "return s * (1 - s)", "return s",
                         3, ["σ' is taken as σ", "σ(a)(1 − σ(a))"]),
    "c instead of c_prev in df": ("lstm", 'df = dc_t * cache["c_prev"]', "df = dc_t * c",
                                  3, ["df = dc ⊙ c_t", "(4') df = dc ⊙ c_{t-1}"]),
    "W_hh instead of its transpose": ("srn", "h_prev @ W_hh.T", "h_prev @ W_hh",
                                      2, ["h is wrong (relative error", "W_hhᵀ"]),
    "transposed W_hh in dh_prev": ("srn", "dh_prev = da @ W_hh", "dh_prev = da @ W_hh.T",
                                   3, ["dh_prev is wrong (relative error", "not da W_hhᵀ"]),
    "bias gradient not summed": ("lstm", '"b_ih": da.sum(axis=0)', '"b_ih": da',
                                 3, ["grads['b_ih'] has shape (3, 20)", "sum over the batch"]),
    "bias gradient averaged": ("gru", '"b_hh": dgh.sum(axis=0)', '"b_hh": dgh.mean(axis=0)',
                               3, ["db_hh is wrong (relative error", "mean over the batch"]),
    "missing dc carry": ("lstm", "lstm_step_backward(dh, dc_next, cache[t])",
                         "lstm_step_backward(dh, dc_n, cache[t])",
                         6, ["dc_next is not carried"]),
    "off by one in time (backward)": ("srn", "for t in reversed(range(T)):",
                                      "for t in reversed(range(1, T)):",
                                      6, ["never visits t = 0"]),
    "off by one in time (forward)": ("gru", _STEP + "        ys.append(h)\n",
                                     "        ys.append(h)\n" + _STEP,
                                     5, ["y is shifted by one step"]),
    "state not carried": ("lstm", "lstm_step_forward(x[t], h, c,",
                          "lstm_step_forward(x[t], h0, c0,", 5, ["starts from the initial"]),
    "z and 1 - z swapped": ("gru", "h = (1 - z) * n + z * h_prev", "h = z * n + (1 - z) * h_prev",
                            2, ["z and 1 − z are swapped"]),
    "GRU dh_prev without the direct path": ("gru", "dh_prev = dh * z + dgh @ W_hh",
                                            "dh_prev = dgh @ W_hh",
                                            3, ["dh_prev is wrong (relative error", "direct path"]),
    "dc from step t+1 dropped": ("lstm", "dc_t = dc + dh", "dc_t = dh", 3,
                                 ["dc is missing dc_next", "(5')"]),
    "dh_n ignored": ("gru", "dh_next = dh_n", "dh_next = 0 * dh_n", 6, ["dh_n is ignored"]),
    "a bias left out": ("lstm", "a = x @ W_ih.T + b_ih + h_prev", "a = x @ W_ih.T + h_prev",
                        2, ["b_ih is missing"]),
}


@pytest.mark.parametrize("bug", BUGS)
def test_a_planted_bug_fails_at_the_right_check(tmp_path, capsys, bug):
    cell, old, new, rung, words = BUGS[bug]
    path = planted(tmp_path, cell, old, new)
    status, out = run_check(capsys, path)
    assert status == 1
    assert out.count("✓") == rung - 1, out
    failed = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(failed) == 1 and failed[0].startswith(f"✗ {rung}. "), out
    for word in words:
        assert word in out, f"{word!r} not in:\n{out}"
    assert f"stopped at check {rung} of 6" in out


def test_the_documented_example_is_what_the_checker_prints(tmp_path, capsys, monkeypatch):
    text = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
    shown = text.split("<!-- planted-bug -->\n```text\n", 1)[1].split("```", 1)[0]
    path = planted(tmp_path, "srn", 'grads["W_hh"] += step_grads["W_hh"]',
                   'grads["W_hh"] = step_grads["W_hh"]')
    monkeypatch.chdir(tmp_path)
    status, out = run_check(capsys, path.name)
    assert status == 1
    # the relative errors of the passing checks are rounding noise and may differ in the
    # last digit on another machine; everything else is printed as shown
    strip = re.compile(r"\(relative error \de[-+]\d+\)")
    assert strip.sub("", out) == strip.sub("", shown)


# ---- files that cannot be checked ----------------------------------------------------------

def test_an_untouched_exercise_says_where_to_start(tmp_path, capsys):
    exercise_main(["lstm", "--dir", str(tmp_path)])
    capsys.readouterr()
    status, out = run_check(capsys, tmp_path / "lstm_exercise.py")
    assert status == 1
    assert "start with lstm_step_forward" in out and "✓ 1. signatures" in out


def test_a_half_done_exercise_says_what_is_next(tmp_path, capsys):
    source = solution("srn").replace('    T = x.shape[0]\n    h, ys, caches',
                                     '    raise NotImplementedError\n    h, ys, caches')
    path = tmp_path / "srn_exercise.py"
    path.write_text(source, encoding="utf-8")
    status, out = run_check(capsys, path)
    assert status == 1 and out.count("✓") == 4 and "next: write rnn_forward" in out


@pytest.mark.parametrize("text,words", [
    ("def lstm_step_forward(x:\n", ["not valid Python", "line 1"]),
    ("import numpy as np\nraise RuntimeError('boom')\n", ["RuntimeError", "boom", "line 2"]),
    ("import numpy as np\n", ["defines none of the exercise's functions"]),
    ("def lstm_step_forward(): pass\ndef gru_forward(): pass\n",
     ["more than one cell", "LSTM: lstm_step_forward", "GRU: gru_forward"]),
])
def test_a_file_that_cannot_be_checked_gets_a_message(tmp_path, capsys, text, words):
    path = tmp_path / "mine.py"
    path.write_text(text, encoding="utf-8")
    status, out = run_check(capsys, path)
    assert status == 1
    for word in words:
        assert word in out, out


def test_a_missing_function_is_named(tmp_path, capsys):
    source = solution("gru")
    path = tmp_path / "gru_exercise.py"
    path.write_text(source.replace("def gru_backward(", "def gru_backwards("), encoding="utf-8")
    status, out = run_check(capsys, path)
    assert status == 1 and "✗ 1. there is no gru_backward" in out


def test_a_wrong_signature_is_named(tmp_path, capsys):
    path = planted(tmp_path, "srn", "def rnn_step_backward(dh, cache):",
                   "def rnn_step_backward(dh, cache, extra):")
    status, out = run_check(capsys, path)
    assert status == 1 and "cannot be called as rnn_step_backward(dh, cache)" in out


def test_an_exception_names_the_line(tmp_path, capsys):
    path = planted(tmp_path, "lstm", "a = x @ W_ih.T + b_ih", "a = x @ W_ih + b_ih")
    status, out = run_check(capsys, path)
    assert status == 1
    assert "✗ 2. lstm_step_forward raised ValueError" in out and "a = x @ W_ih + b_ih" in out


def test_nan_is_never_right(tmp_path, capsys):
    path = planted(tmp_path, "gru", "h = (1 - z) * n + z * h_prev",
                   "h = (1 - z) * n + z * h_prev + np.nan")
    status, out = run_check(capsys, path)
    assert status == 1 and "✗ 2. gru_step_forward: h contains NaN or inf (" in out


def test_a_list_instead_of_an_array_is_named(tmp_path, capsys):
    path = planted(tmp_path, "lstm", "return np.stack(ys), h, c, caches", "return ys, h, c, caches")
    status, out = run_check(capsys, path)
    assert status == 1 and "✗ 5. lstm_forward: y is a list, not a NumPy array" in out


def test_a_missing_file_gets_a_message(tmp_path, capsys):
    status, out = run_check(capsys, tmp_path / "nowhere.py")
    assert status == 1 and "there is no file" in out
