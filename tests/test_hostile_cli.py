"""Bad command-line arguments (hardening issue, item 10): argparse's usage error (exit 2, one
line naming the expected range) before any work, never a traceback, NaN training or gradient
ascent; an unusable --out fails at once; the checkout scripts demos/*.py parse their options.
"""
import os
import subprocess
import sys

import pytest

from minirnn import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_main(capsys, *argv):
    """(exit status, stdout, stderr) of ``minirnn argv...`` run in-process."""
    try:
        status = cli.main(list(argv))
    except SystemExit as e:
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_usage_error(status, out, err, *words):
    """Exit 2, nothing printed on stdout (no work started), one line on stderr naming words."""
    assert status == 2, (status, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


BAD_ARGUMENTS = [
    ("digitsum", "--forget-bias", "nan", "finite number in [-100, 100]"),
    ("digitsum", "--forget-bias", "inf", "finite number in [-100, 100]"),
    ("digitsum", "--forget-bias", "-inf", "finite number in [-100, 100]"),
    ("digitsum", "--forget-bias", "1e9", "finite number in [-100, 100]"),
    ("digitsum", "--forget-bias", "one", "number in [-100, 100]"),
    ("digitsum", "--clip", "nan", "finite number in [0, 1e+06]"),
    ("digitsum", "--clip", "-1", "finite number in [0, 1e+06]"),
    ("digitsum", "--clip", "-0.001", "finite number in [0, 1e+06]"),
    ("digitsum", "--clip", "inf", "finite number in [0, 1e+06]"),
    ("digitsum", "--clip", "x", "number in [0, 1e+06]"),
    ("digitsum", "--k", "10000000000", "positive integer in 1..1000"),
    ("digitsum", "--k", "0", "positive integer in 1..1000"),
    ("digitsum", "--k", "-5", "positive integer in 1..1000"),
    ("digitsum", "--k", "1.5", "positive integer in 1..1000"),
    ("digitsum", "--k", "three", "positive integer in 1..1000"),
    ("digitsum", "--epochs", "0", "positive integer in 1..1000000"),
    ("digitsum", "--epochs", "10000000000", "positive integer in 1..1000000"),
    ("digitsum", "--epochs", "1e3", "positive integer in 1..1000000"),
    ("digitsum", "--lengths", "2", "at least 3"),
    ("digitsum", "--lengths", "5,100000", "expected lengths in 3..1000"),
    ("digitsum", "--lengths", "5,x", "comma-separated integers"),
    ("digitsum", "--lengths", ",", "at least one length"),
    ("digitsum", "--models", "rnn", "unknown model"),
    ("digitsum", "--recipe", "best", "invalid choice"),
    ("hello", "--epochs", "-1", "positive integer"),
    ("hello", "--seed", "-1", "integer in 0..9223372036854775807"),
    ("hello", "--seed", "1.5", "integer in 0.."),
    ("hello", "--seed", str(2**64), "integer in 0.."),
    ("explode", "--epochs", "0", "positive integer"),
    ("seq2seq", "--epochs", "nan", "positive integer"),
    ("seq2seq", "--cell", "transformer", "invalid choice"),
    ("charlm", "--hidden", "0", "positive integer in 1..4096"),
    ("charlm", "--hidden", "100000000", "positive integer in 1..4096"),
    ("charlm", "--layers", "0", "positive integer in 1..16"),
    ("charlm", "--layers", "1000", "positive integer in 1..16"),
    ("charlm", "--max-chars", "1", "integer in 2.."),
    ("charlm", "--max-chars", "-7", "integer in 2.."),
    ("charlm", "--prefix", "", "non-empty text"),
    ("gradcheck", "--seed", "x", "integer in 0.."),
]


@pytest.mark.parametrize("command, option, value, expected", BAD_ARGUMENTS,
                         ids=[f"{c} {o} {v}" for c, o, v, _ in BAD_ARGUMENTS])
def test_an_out_of_range_argument_is_a_usage_error(capsys, tmp_path, command, option, value,
                                                   expected):
    status, out, err = run_main(capsys, command, f"{option}={value}", "--out", str(tmp_path))
    assert_usage_error(status, out, err, f"minirnn {command}: error", option, expected)
    assert os.listdir(tmp_path) == []


def test_out_pointing_at_a_file_fails_before_any_work(capsys, tmp_path):
    path = tmp_path / "results.txt"
    path.write_text("keep me")
    status, out, err = run_main(capsys, "hello", "--out", str(path))
    assert_usage_error(status, out, err, "--out", "is a file; expected a folder to write into")
    assert path.read_text() == "keep me"


def test_out_below_a_file_fails_before_any_work(capsys, tmp_path):
    (tmp_path / "f").write_text("")
    status, out, err = run_main(capsys, "by-hand", "srn", "--out", str(tmp_path / "f" / "o"))
    assert_usage_error(status, out, err, "cannot create it (Not a directory)",
                       "expected a folder to write into")


def test_an_unwritable_out_folder_fails_before_any_work(capsys, tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("minirnn.cli.tempfile.TemporaryFile", read_only)   # root ignores chmod
    status, out, err = run_main(capsys, "hello", "--out", str(tmp_path))
    assert_usage_error(status, out, err, "cannot write into it (Permission denied)",
                       "expected a writable folder")


def test_digitsum_explode_checks_its_own_out_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "explode").write_text("")
    status, out, err = run_main(capsys, "digitsum", "--explode")
    assert_usage_error(status, out, err, "out/explode", "is a file")


def test_save_data_pointing_at_a_file_fails_before_any_work(capsys, tmp_path):
    (tmp_path / "data").write_text("")
    status, out, err = run_main(capsys, "digitsum", "--save-data", str(tmp_path / "data"),
                                "--out", str(tmp_path / "o"))
    assert_usage_error(status, out, err, "--save-data", "is a file")


def test_a_missing_out_folder_is_created(capsys, tmp_path):
    status, out, _ = run_main(capsys, "by-hand", "srn", "--out", str(tmp_path / "a" / "b"))
    assert status == 0 and (tmp_path / "a" / "b" / "summary.json").exists()


# ---- the checkout scripts parse their arguments ---------------------------------------------

SCRIPTS = ["by_hand_lstm", "by_hand_srn", "charlm", "compare", "digitsum", "explode",
           "gradcheck", "hello", "seq2seq"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_checkout_script_has_help(script, tmp_path):
    done = subprocess.run([sys.executable, os.path.join(ROOT, "demos", f"{script}.py"),
                           "--help"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: minirnn ") and "--seed" in done.stdout
    assert os.listdir(tmp_path) == []                   # no training, nothing written


@pytest.mark.parametrize("script, argv, expected", [
    ("hello", ["--epochs", "0"], "positive integer"),
    ("digitsum", ["--clip", "nan"], "finite number"),
    ("compare", ["--repeats", "0"], "positive integer"),
    ("compare", ["--seed", "-1"], "integer in 0.."),
    ("charlm", ["--no-such-option"], "unrecognized arguments"),
])
def test_a_checkout_script_refuses_bad_arguments(script, argv, expected, tmp_path):
    done = subprocess.run([sys.executable, os.path.join(ROOT, "demos", f"{script}.py"), *argv],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2 and expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_checkout_script_takes_its_options(tmp_path):
    done = subprocess.run([sys.executable, os.path.join(ROOT, "demos", "by_hand_srn.py"),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "dW_out" in done.stdout                      # the script's BACKWARD = True
    assert (tmp_path / "o" / "summary.json").exists()


# ---- bad input files: exit 1 and one line ---------------------------------------------------

def assert_input_error(status, out, err, *words):
    assert status == 1, (status, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


def test_a_folder_as_corpus(capsys, tmp_path):
    status, out, err = run_main(capsys, "charlm", "--corpus", str(tmp_path), "--out",
                                str(tmp_path / "o"))
    assert_input_error(status, out, err, "is a folder, expected a UTF-8 text file")


def test_a_fifo_as_corpus(capsys, tmp_path):
    os.mkfifo(tmp_path / "fifo")
    status, out, err = run_main(capsys, "charlm", "--corpus", str(tmp_path / "fifo"), "--out",
                                str(tmp_path / "o"))
    assert_input_error(status, out, err, "not a regular file", "expected a UTF-8 text file")


def test_digitsum_data_of_mixed_lengths(capsys, tmp_path):
    from minirnn.data import DigitSum, save_digitsum
    train, dev, _ = DigitSum.splits(4, 1, rng=0)
    save_digitsum(tmp_path / "d" / "4", train, dev, DigitSum(5, 1, "test", rng=0))
    status, out, err = run_main(capsys, "digitsum", "--models", "gru", "--lengths", "4",
                                "--data", str(tmp_path / "d"), "--out", str(tmp_path / "o"))
    assert_input_error(status, out, err, "sequences of one length", "test 5")


@pytest.mark.parametrize("overrides, expected", [
    ({"clip": -1.0}, "clip to be None .* or a finite number > 0, got -1.0"),
    ({"clip": float("nan")}, "clip to be None .* or a finite number > 0, got nan"),
    ({"clip": "1"}, "clip to be None .* or a finite number > 0, got '1'"),
    ({"forget_bias": float("inf")}, "forget_bias to be None or a finite number, got inf"),
])
def test_the_digitsum_demo_refuses_the_same_values_from_python(overrides, expected, tmp_path):
    from minirnn.demos import digitsum
    with pytest.raises(ValueError, match=expected):
        digitsum.run(models=("lstm",), lengths=(4,), epochs=1, out=str(tmp_path),
                     overrides=overrides, verbose=False)
    assert os.listdir(tmp_path) == []


# ---- issue #20 item 3.3: a bad MINIRNN_IMPL ----------------------------------------------------

@pytest.mark.parametrize("bad", ["bogus", ""])
@pytest.mark.parametrize("argv", [["-m", "minirnn", "by-hand", "srn"],
                                  ["-m", "minirnn", "exercise", "srn", "--dir", "nowhere"]])
def test_a_bad_minirnn_impl_is_one_line_and_exit_2(tmp_path, bad, argv):
    r = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": ROOT, "MINIRNN_IMPL": bad})
    assert_usage_error(r.returncode, r.stdout, r.stderr, "MINIRNN_IMPL", repr(bad),
                       "'engine' or 'textbook'")
    assert os.listdir(tmp_path) == []              # nothing written


# ---- issue #20 item 3.9: minirnn exercise and check ------------------------------------------

def test_exercise_refuses_a_symlink_at_its_target(tmp_path, capsys):
    outside = tmp_path / "outside.py"                       # dangling: not there yet
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "lstm_exercise.py").symlink_to(outside)
    for force in ([], ["--force"]):
        status, out, err = run_main(capsys, "exercise", "lstm", "--dir", str(folder), *force)
        assert_usage_error(status, out, err, "lstm_exercise.py is a symbolic link",
                           "not written through")
        assert not outside.exists() and os.path.islink(folder / "lstm_exercise.py")


def test_exercise_with_a_dir_too_long_to_use_is_one_line(tmp_path, capsys):
    status, out, err = run_main(capsys, "exercise", "gru", "--dir", str(tmp_path / ("a" * 300)))
    assert_usage_error(status, out, err, "cannot use --dir", "File name too long")


def test_an_exercise_write_that_fails_midway_leaves_the_old_file_whole(tmp_path, monkeypatch):
    from minirnn.exercises import main as exercises
    path = tmp_path / "srn_exercise.py"
    path.write_text("my work\n")
    # a lone surrogate cannot be encoded: the write fails after the file was opened
    monkeypatch.setattr(exercises, "exercise_source", lambda cell: "x" * 10_000 + "\udc80")
    with pytest.raises(UnicodeEncodeError):
        cli.main(["exercise", "srn", "--dir", str(tmp_path), "--force"])
    assert path.read_text() == "my work\n" and os.listdir(tmp_path) == ["srn_exercise.py"]


@pytest.mark.parametrize("seed", ["-1", "x", "1.5"])
def test_check_refuses_a_bad_seed_in_one_line(tmp_path, capsys, seed):
    status, out, err = run_main(capsys, "check", str(tmp_path / "srn_exercise.py"), "--seed", seed)
    assert_usage_error(status, out, err, "--seed", "expected an integer >= 0", repr(seed))
