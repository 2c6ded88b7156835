"""The exercise checker cannot be fooled or hung: wrong answers that used to pass ("all 6
checks passed" for an output scaled by 1e200, a complex output, a loop over the wrong axis),
code that never returns or exits, and files Python reads but the checker used to reject.

Every file here is a correct solution from tests/exercise_solutions/ with one planted change,
so the only reason for a verdict is that change. Hang tests use a 1 s time limit.
"""
import os
import signal
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from minirnn import textbook
from minirnn.exercises import check_functions, check_main
from minirnn.exercises.cells import CELLS
from minirnn.exercises.checker import SIZES, check_timeout

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "tests" / "exercise_solutions"


def solution(cell):
    return (SOLUTIONS / f"{cell}_solution.py").read_text(encoding="utf-8")


def planted(tmp_path, cell, old, new, name=None):
    source = solution(cell)
    assert source.count(old) == 1, f"{old!r} is not in the {cell} solution exactly once"
    path = tmp_path / (name or f"{cell}_exercise.py")
    path.write_text(source.replace(old, new), encoding="utf-8")
    return path


def check(capsys, path, *options):
    start = time.monotonic()
    status = check_main([str(path), *options])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, time.monotonic() - start


def failed_at(out, rung):
    failed = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(failed) == 1 and failed[0].startswith(f"✗ {rung}. "), out
    return failed[0]


# ---- the test problems ---------------------------------------------------------------------

def test_every_problem_has_distinct_sizes_and_there_is_more_than_one():
    assert len(SIZES) >= 2
    for N, D, H, T in SIZES:
        assert len({N, D, H, T}) == 4, (N, D, H, T)
    assert len(set(SIZES)) == len(SIZES)


def test_a_hard_coded_size_is_caught_by_the_second_problem(tmp_path, capsys):
    # right for the first problem's H = 5 only
    path = planted(tmp_path, "lstm", "H = h_prev.shape[1]", "H = 5")
    status, out, _ = check(capsys, path)
    assert status == 1
    failed_at(out, 2)


# ---- wrong answers that used to pass -------------------------------------------------------

@pytest.mark.parametrize("where,old,new,rung", [
    ("step forward", "    h = np.tanh(a)\n", "    h = 1e200 * np.tanh(a)\n", 2),
    ("sequence forward", "return np.stack(ys), h, (x.shape, caches)",
     "return 1e200 * np.stack(ys), h, (x.shape, caches)", 5),
])
def test_an_output_scaled_by_1e200_fails(tmp_path, capsys, where, old, new, rung):
    status, out, _ = check(capsys, planted(tmp_path, "srn", old, new))
    assert status == 1
    line = failed_at(out, rung)
    assert "is wrong (relative error 1," in line and "nan" not in line.lower()


def test_a_complex_output_is_named_complex(tmp_path, capsys):
    path = planted(tmp_path, "srn", "return np.stack(ys), h, (x.shape, caches)",
                   "return np.stack(ys) + 1e-3j, h, (x.shape, caches)")
    status, out, _ = check(capsys, path)
    assert status == 1
    assert "rnn_forward: y is complex (complex128)" in failed_at(out, 5)


def test_a_complex_output_with_zero_imaginary_part_is_still_refused(tmp_path, capsys):
    path = planted(tmp_path, "srn", "    h = np.tanh(a)\n", "    h = np.tanh(a) + 0j\n")
    status, out, _ = check(capsys, path)
    assert status == 1 and "h is complex" in failed_at(out, 2)


@pytest.mark.parametrize("axis,size", [(1, "N, the batch size"), (2, "D, the input size")])
def test_a_loop_over_the_wrong_axis_fails(tmp_path, capsys, axis, size):
    path = planted(tmp_path, "srn", "    T = x.shape[0]\n", f"    T = x.shape[{axis}]\n")
    status, out, _ = check(capsys, path)
    assert status == 1
    assert "rnn_forward: y has shape" in failed_at(out, 5)
    assert size in out and "time is axis 0" in out


def test_an_object_array_of_strings_is_named(tmp_path, capsys):
    path = planted(tmp_path, "srn", "return np.stack(ys), h, (x.shape, caches)",
                   "return np.full((len(ys),) + h.shape, 'x', dtype=object), h, "
                   "(x.shape, caches)")
    status, out, _ = check(capsys, path)
    assert status == 1
    assert "y is an array of object (shape (6, 3, 5)), not of float64" in failed_at(out, 5)


def test_a_string_array_is_named(tmp_path, capsys):
    path = planted(tmp_path, "srn", "    h = np.tanh(a)\n", "    h = np.tanh(a).astype(str)\n")
    status, out, _ = check(capsys, path)
    assert status == 1 and "h is an array of <U" in failed_at(out, 2)


def test_a_float32_solution_is_told_about_precision_not_equations(tmp_path, capsys):
    path = planted(tmp_path, "lstm", "    H = h_prev.shape[1]\n",
                   "    H = h_prev.shape[1]\n    x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh = ("
                   "v.astype(np.float32) for v in (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh))\n")
    status, out, _ = check(capsys, path)
    assert status == 1
    assert "h is float32, not float64" in failed_at(out, 2)
    assert "the equations may well be right" in out and "go through" not in out


def test_a_forward_computed_in_float32_is_told_about_precision(tmp_path, capsys):
    path = planted(tmp_path, "srn", "    h = np.tanh(a)\n",
                   "    h = np.tanh(a.astype(np.float32)).astype(np.float64)\n")
    status, out, _ = check(capsys, path)
    assert status == 1
    # its values pass check 2 (3e-8 < 1e-7), but finite differences of it are noise
    assert "rnn_step_backward disagrees with finite differences" in failed_at(out, 3)
    assert "agrees with the textbook's backward" in out and "float32" in out
    assert "is wrong" not in out


def test_an_integer_output_is_named(tmp_path, capsys):
    path = planted(tmp_path, "srn", "    h = np.tanh(a)\n",
                   "    h = np.round(np.tanh(a)).astype(int)\n")
    status, out, _ = check(capsys, path)
    assert status == 1 and "has dtype int64, expected float64" in failed_at(out, 2)


def test_an_inf_output_is_named(tmp_path, capsys):
    path = planted(tmp_path, "srn", "    dh_prev = da @ W_hh\n", "    dh_prev = da @ W_hh / 0\n")
    status, out, _ = check(capsys, path)
    assert status == 1 and "dh_prev contains NaN or inf" in failed_at(out, 3)


# ---- code that never returns, or exits ----------------------------------------------------

def test_an_endless_loop_in_a_function_is_a_hang(tmp_path, capsys):
    path = planted(tmp_path, "srn", "    T = x.shape[0]\n", "    T = x.shape[0]\n    while True:\n"
                   "        pass\n")
    status, out, elapsed = check(capsys, path, "--timeout", "1")
    assert status == 1
    assert "✗ 5. rnn_forward did not finish within 1 s: an endless loop" in out
    assert "--timeout" in out and elapsed < 15


def test_an_endless_loop_at_import_is_a_hang(tmp_path, capsys):
    path = tmp_path / "srn_exercise.py"
    path.write_text("while True:\n    pass\n" + solution("srn"), encoding="utf-8")
    status, out, elapsed = check(capsys, path, "--timeout", "1")
    assert status == 1
    assert "✗ importing srn_exercise.py did not finish within 1 s" in out and elapsed < 15


def test_waiting_for_input_does_not_hang(tmp_path, capsys):
    path = tmp_path / "srn_exercise.py"
    path.write_text("input('press enter')\n" + solution("srn"), encoding="utf-8")
    status, out, elapsed = check(capsys, path, "--timeout", "5")
    assert status == 1 and "EOFError" in out and elapsed < 15


@pytest.mark.parametrize("call", ["sys.exit(0)", "exit()", "quit()", "raise SystemExit"])
def test_an_exit_at_import_fails(tmp_path, capsys, call):
    path = tmp_path / "srn_exercise.py"
    path.write_text(solution("srn") + f"\nimport sys\n{call}\n", encoding="utf-8")
    status, out, _ = check(capsys, path)
    assert status == 1
    assert "srn_exercise.py called exit()" in out and "passed" not in out


@pytest.mark.parametrize("call", ["sys.exit(0)", "exit()", "os._exit(0)"])
def test_an_exit_in_a_function_fails(tmp_path, capsys, call):
    path = planted(tmp_path, "srn", "    T = x.shape[0]\n",
                   f"    import os, sys\n    {call}\n    T = x.shape[0]\n")
    status, out, _ = check(capsys, path)
    assert status == 1 and "passed" not in out
    if call == "os._exit(0)":
        assert "✗ 5. the process running your code ended during rnn_forward (exit status 0)" in out
    else:
        assert "✗ 5. rnn_forward called exit()" in out


def test_a_keyboard_interrupt_from_the_code_fails(tmp_path, capsys):
    path = planted(tmp_path, "srn", "    T = x.shape[0]\n", "    raise KeyboardInterrupt\n")
    status, out, _ = check(capsys, path)
    assert status == 1
    assert "✗ 5. rnn_forward raised KeyboardInterrupt (line 22: raise KeyboardInterrupt)" in out


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signals")
def test_ctrl_c_during_a_hang_stops_the_check_and_its_child(tmp_path):
    path = planted(tmp_path, "srn", "    T = x.shape[0]\n", "    T = x.shape[0]\n    while True:\n"
                   "        pass\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "minirnn", "check", str(path), "--timeout",
                             "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8", cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:          # until check 4 passed: the loop has begun
        lines.append(proc.stdout.readline())
        if lines[-1].startswith("✓ 4."):
            break
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, "".join(lines) + out + err
    assert "interrupted (Ctrl-C)" in out and "Traceback" not in out + err


# ---- files Python reads --------------------------------------------------------------------

def test_a_file_with_a_bom_is_read(tmp_path, capsys):
    path = tmp_path / "srn_exercise.py"
    path.write_bytes(b"\xef\xbb\xbf" + solution("srn").encode("utf-8"))
    status, out, _ = check(capsys, path)
    assert status == 0, out


def test_a_coding_cookie_is_honoured(tmp_path, capsys):
    path = tmp_path / "srn_exercise.py"
    path.write_bytes(("# -*- coding: latin-1 -*-\n# café\n" + solution("srn")).encode("latin-1"))
    status, out, _ = check(capsys, path)
    assert status == 0, out


def test_a_file_that_is_not_utf8_without_a_cookie_is_invalid_python(tmp_path, capsys):
    path = tmp_path / "srn_exercise.py"
    path.write_bytes(("# café\n" + solution("srn")).encode("latin-1"))
    status, out, _ = check(capsys, path)
    assert status == 1 and "is not valid Python" in out


@pytest.mark.parametrize("expression", ["1+" * 100000 + "1", "-" * 100000 + "1",
                                        "(" * 300 + "1" + ")" * 300],
                         ids=["long sum", "many signs", "many parentheses"])
def test_a_deeply_nested_expression_gets_a_message(tmp_path, capsys, expression):
    path = tmp_path / "srn_exercise.py"
    path.write_text(solution("srn") + f"\nY = {expression}\n", encoding="utf-8")
    status, out, _ = check(capsys, path)
    assert status == 1
    assert "nested too deeply" in out or "is not valid Python" in out


def test_a_null_byte_gets_a_message(tmp_path, capsys):
    path = tmp_path / "srn_exercise.py"
    path.write_bytes(solution("srn").encode("utf-8") + b"\n\x00\n")
    status, out, _ = check(capsys, path)
    assert status == 1 and "is not valid Python" in out


# ---- the time limit option -----------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "abc", "3601"])
def test_a_bad_timeout_is_a_usage_error(tmp_path, capsys, value):
    assert check_main([str(SOLUTIONS / "srn_solution.py"), "--timeout", value]) == 2
    err = capsys.readouterr().err
    assert "--timeout" in err and "seconds in (0, 3600]" in err
    with pytest.raises(ValueError, match="seconds"):
        check_timeout(float(value) if value not in ("abc",) else value)


def test_a_correct_file_is_checked_well_under_the_time_limit(capsys):
    for cell in CELLS:
        status, out, elapsed = check(capsys, SOLUTIONS / f"{cell}_solution.py")
        assert status == 0, out
        assert elapsed < 5, f"{cell}: {elapsed:.1f} s"


# ---- the notebook path: the same verdicts, in this process ---------------------------------

def _namespace(cell, **replace):
    names = CELLS[cell].functions
    return dict({name: getattr(textbook, name) for name in names}, **replace)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="the limit needs SIGALRM")
def test_the_notebook_path_stops_an_endless_loop(capsys):
    def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        while True:
            try:
                pass
            except Exception:            # a student's broad except cannot swallow the limit
                pass

    start = time.monotonic()
    assert check_functions(_namespace("srn", rnn_forward=rnn_forward), timeout=1) is False
    out = capsys.readouterr().out
    assert "✗ 5. rnn_forward did not finish within 1 s" in out and time.monotonic() - start < 15
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None, signal.default_int_handler) \
        or callable(signal.getsignal(signal.SIGALRM))


@pytest.mark.parametrize("error,words", [(SystemExit(0), "called exit()"),
                                         (KeyboardInterrupt(), "raised KeyboardInterrupt")])
def test_the_notebook_path_turns_exits_into_verdicts(capsys, error, words):
    def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        raise error

    assert check_functions(_namespace("srn", rnn_forward=rnn_forward)) is False
    assert f"✗ 5. rnn_forward {words}" in capsys.readouterr().out


def test_the_notebook_path_names_an_object_array(capsys):
    def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        return np.full(h_prev.shape, "h", dtype=object), None

    assert check_functions(_namespace("srn", rnn_step_forward=rnn_step_forward)) is False
    assert "h is an array of object" in capsys.readouterr().out


def test_the_notebook_path_refuses_a_bad_timeout():
    with pytest.raises(ValueError, match="timeout"):
        check_functions(_namespace("srn"), timeout=0)


def test_every_pair_of_sizes_differs_in_each_problem():
    for sizes in SIZES:
        assert all(a != b for a, b in combinations(sizes, 2))


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs SIGINT")
def test_the_notebook_path_turns_an_interrupt_of_the_checker_into_false(capsys, monkeypatch):
    from minirnn.exercises import checker

    def interrupted(self, rung):
        raise KeyboardInterrupt

    monkeypatch.setattr(checker.Ladder, "climb", interrupted)
    assert check_functions(_namespace("srn")) is False
    assert "✗ interrupted" in capsys.readouterr().out


# ---- what the docs say about it --------------------------------------------------------------

def test_the_documented_limits_are_the_checkers():
    from minirnn.exercises.checker import FD_TOL, REF_TOL, TIMEOUT
    exercises = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
    guarantees = (ROOT / "docs" / "guarantees.md").read_text(encoding="utf-8")
    assert TIMEOUT == 5 and REF_TOL == 1e-7 and FD_TOL == 1e-6
    assert "5 seconds unless you pass `--timeout SECONDS`" in exercises
    assert "5 seconds by default" in guarantees and "`timeout`, 5 seconds per check" in guarantees
    sizes = " and ".join(", ".join(map(str, s)) for s in SIZES)
    assert f"N, D, H, T = {sizes}" in exercises.replace("\n", " ")
    assert "at most 1e-7 against the textbook (1e-6 against" in " ".join(exercises.split())


def test_the_exercise_footer_does_not_run_under_the_checker(tmp_path, capsys):
    from minirnn.exercises.templates import exercise_parts
    footer = exercise_parts("srn")[3]
    path = tmp_path / "srn_exercise.py"
    path.write_text(solution("srn") + "\n\n" + footer, encoding="utf-8")
    status, out, _ = check(capsys, path)
    assert status == 0 and out.count("checking the SRN exercise") == 1, out


def test_what_the_code_prints_goes_to_standard_error(tmp_path, capfd):
    path = planted(tmp_path, "srn", "    T = x.shape[0]\n", "    print('shape', x.shape)\n"
                   "    T = x.shape[0]\n")
    assert check_main([str(path)]) == 0
    out, err = capfd.readouterr()
    assert "shape (6, 3, 4)" in err and "shape (6, 3, 4)" not in out


def test_a_matrix_is_not_a_plain_array(tmp_path, capsys):
    path = planted(tmp_path, "srn", "    h = np.tanh(a)\n", "    h = np.asmatrix(np.tanh(a))\n")
    status, out, _ = check(capsys, path)
    assert status == 1 and "h is a matrix (a subclass of np.ndarray)" in failed_at(out, 2)


def test_a_folder_is_not_an_exercise_file(tmp_path, capsys):
    status, out, _ = check(capsys, tmp_path)
    assert status == 1 and "is not a regular file" in out


def test_the_file_can_import_its_neighbours(tmp_path, capsys):
    (tmp_path / "helpers.py").write_text("import numpy as np\n\n\ndef tanh(a):\n"
                                         "    return np.tanh(a)\n", encoding="utf-8")
    path = planted(tmp_path, "srn", "    h = np.tanh(a)\n", "    from helpers import tanh\n"
                   "    h = tanh(a)\n")
    status, out, _ = check(capsys, path)
    assert status == 0, out
