"""The ``minirnn`` command: help for everything, one-line errors for bad input.

Most tests call ``minirnn.cli.main`` in-process (fast); a few run the installed console script
and ``python -m minirnn`` to check that the entry points themselves work.
"""
import json
import os
import subprocess
import sys

import pytest

from cli_run import run_main
from minirnn import cli
from minirnn._blas import blas_threads

SUBCOMMANDS = ("by-hand", "hello", "digitsum", "explode", "seq2seq", "charlm", "compare",
               "gradcheck")


@pytest.fixture(autouse=True)
def one_blas_thread():
    with blas_threads(1):
        yield


def assert_one_line_error(status, err, *words):
    assert status not in (0, None)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], lines[0]


# ---- entry points ------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["minirnn"], [sys.executable, "-m", "minirnn"]])
def test_entry_points_show_help(command):
    done = subprocess.run(command + ["--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for name in SUBCOMMANDS:
        assert name in done.stdout


def test_console_script_reports_bad_input_in_one_line(tmp_path):
    done = subprocess.run(["minirnn", "charlm", "--corpus", str(tmp_path / "missing.txt")],
                          capture_output=True, text=True, timeout=60)
    assert_one_line_error(done.returncode, done.stderr, "missing.txt")


def test_no_subcommand_prints_help(capsys):
    status, out, _ = run_main(capsys)
    assert status == 0 and "digitsum" in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help_with_seed_and_out(capsys, name):
    status, out, _ = run_main(capsys, name, "--help")
    assert status == 0
    assert "--seed" in out and "--out" in out and f"./out/{name}" in out.replace("\n", "")


# ---- bad arguments: a non-zero exit and one line, never a traceback ------------------------

def test_unknown_model(capsys):
    status, _, err = run_main(capsys, "digitsum", "--models", "lstm,transformer")
    assert_one_line_error(status, err, "unknown model", "transformer")
    status, _, err = run_main(capsys, "charlm", "--model", "transformer")
    assert_one_line_error(status, err, "transformer")


def test_length_below_three(capsys):
    status, _, err = run_main(capsys, "digitsum", "--lengths", "5,2")
    assert_one_line_error(status, err, "length 2", "at least 3")


def test_missing_corpus_file(capsys, tmp_path):
    status, _, err = run_main(capsys, "charlm", "--corpus", str(tmp_path / "nope.txt"))
    assert_one_line_error(status, err, "nope.txt", "no such file")


def test_empty_corpus_file(capsys, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("", encoding="utf-8")
    status, _, err = run_main(capsys, "charlm", "--corpus", str(path))
    assert_one_line_error(status, err, "empty")


def test_bidirectional_charlm_is_refused_with_the_reason(capsys):
    status, _, err = run_main(capsys, "charlm", "--bidirectional")
    assert_one_line_error(status, err, "sees the future")


def test_missing_data_folder_and_bad_numbers(capsys, tmp_path):
    status, _, err = run_main(capsys, "digitsum", "--data", str(tmp_path / "none"))
    assert_one_line_error(status, err, "no such folder")
    status, _, err = run_main(capsys, "hello", "--epochs", "0")
    assert_one_line_error(status, err, "positive integer")
    status, _, err = run_main(capsys, "by-hand", "gru")
    assert_one_line_error(status, err, "invalid choice")


# ---- subcommands that run in a blink -------------------------------------------------------

def test_by_hand_srn_backward_and_summary(capsys, tmp_path):
    status, out, _ = run_main(capsys, "by-hand", "srn", "--backward", "--out", str(tmp_path))
    assert status == 0
    assert "[4, 4]" in out and "[12, 12]" in out and "[32, 32]" in out
    assert "1.9280551601516338" in out and "dW_out" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["outputs"]["identity"] == [4.0, 12.0, 32.0]


def test_by_hand_lstm_writes_its_plot(capsys, tmp_path):
    status, out, _ = run_main(capsys, "by-hand", "lstm", "--out", str(tmp_path))
    assert status == 0 and "0 3 3 7 7 7 0 6 6" in out and "0 0 0 0 0 7 0 0 6" in out
    assert (tmp_path / "lecture_lstm_gates.png").stat().st_size > 1000


def test_digitsum_with_saved_then_read_data(capsys, tmp_path):
    args = ["digitsum", "--models", "gru", "--lengths", "4", "--epochs", "1"]
    status, out, _ = run_main(capsys, *args, "--save-data", str(tmp_path / "d"),
                              "--out", str(tmp_path / "a"))
    assert status == 0 and "| GRU |" in out
    assert (tmp_path / "d" / "4" / "train.txt").read_text().count("\n") == 300
    status, _, _ = run_main(capsys, *args, "--data", str(tmp_path / "d"),
                            "--out", str(tmp_path / "b"))
    assert status == 0
    a = json.loads((tmp_path / "a" / "summary.json").read_text())["rows"]
    b = json.loads((tmp_path / "b" / "summary.json").read_text())["rows"]
    assert [r["test_accuracy"] for r in a] == [r["test_accuracy"] for r in b]


def test_digitsum_explode_flag_runs_the_explosion_experiment(capsys, tmp_path):
    status, out, _ = run_main(capsys, "digitsum", "--explode", "--epochs", "1",
                              "--out", str(tmp_path))
    assert status == 0 and "without clipping" in out and "clip_grad_norm_" in out
    assert (tmp_path / "grad_norms_W_hh.png").exists()


def test_seq2seq_command(capsys, tmp_path):
    status, out, _ = run_main(capsys, "seq2seq", "--cell", "gru", "--out", str(tmp_path))
    assert status == 0 and "3/3 correct" in out


def test_bench_subcommand_has_its_own_help(capsys):
    from minirnn.cli import main
    with pytest.raises(SystemExit) as e:
        main(["bench", "--help"])
    assert e.value.code == 0
    assert "--inference" in capsys.readouterr().out


def test_summary_and_plots_are_written_atomically(tmp_path, monkeypatch):
    """A failure while writing leaves the previous file whole and no temporary file behind."""
    from minirnn.cli import write_summary
    path = write_summary(str(tmp_path), {"a": 1})
    before = open(path).read()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("minirnn._io.os.replace", boom)
    with pytest.raises(OSError):
        write_summary(str(tmp_path), {"a": 2})
    assert open(path).read() == before
    assert os.listdir(tmp_path) == ["summary.json"]


# ---- a flag that would do nothing is an error, never silently ignored -----------------------

@pytest.mark.parametrize("argv, flag", [
    (["by-hand", "srn", "--seed", "1"], "--seed"),
    (["by-hand", "lstm", "--seed", "0"], "--seed"),
    (["digitsum", "--explode", "--models", "srn"], "--models"),
    (["digitsum", "--explode", "--recipe", "book"], "--recipe"),
    (["digitsum", "--explode", "--seeds", "1"], "--seeds"),
    (["digitsum", "--explode", "--clip", "1"], "--clip"),
    (["digitsum", "--data", "somewhere", "--k", "5"], "--k"),
    (["digitsum", "--models", "srn,gru", "--forget-bias", "1"], "--forget-bias"),
    (["digitsum", "--full", "--models", "srn", "--lengths", "5", "--epochs", "1"], "--full"),
    (["vanish", "--full", "--epochs", "3"], "--full"),
    (["seq2seq", "--full"], "--full"),
    (["charlm", "--full", "--epochs", "1", "--max-chars", "5000"], "--full"),
    (["charlm", "--compare", "--full", "--epochs", "1", "--max-chars", "5000"], "--full"),
])
def test_a_flag_that_would_do_nothing_is_refused(capsys, tmp_path, argv, flag):
    status, out, err = run_main(capsys, *argv, "--out", str(tmp_path / "o"))
    assert_one_line_error(status, err, flag, "would do nothing", "drop it")
    assert out == "" and os.listdir(tmp_path / "o") == []          # refused before any work


def test_the_same_flags_are_accepted_where_they_do_something():
    parser = cli.build_parser()
    for argv in (["digitsum", "--explode", "--epochs", "2"], ["digitsum", "--k", "5"],
                 ["digitsum", "--models", "lstm", "--forget-bias", "1"],
                 ["digitsum", "--full", "--models", "srn", "--lengths", "5"],
                 ["vanish", "--full"], ["seq2seq", "--task", "dates", "--full"],
                 ["charlm", "--full", "--epochs", "1"], ["by-hand", "lstm", "--backward"]):
        assert cli.flags_doing_nothing(parser.parse_args(argv)) == [], argv
