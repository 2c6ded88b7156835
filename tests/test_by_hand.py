"""minirnn.demos.by_hand: the networks worked out by hand print and record the right numbers.

The SRN's values are compared exactly (they are documented); the lecture LSTM's BPTT, step by
step, against torch autograd on the same weights (float64, rtol 1e-9): every dh, dc, do, di,
df, dg, da, dc_next, dh_next and running Σ_t dW that the printout shows and summary.json
keeps. Every printed line fits 100 columns and shows the recorded numbers rounded.
"""
import json
import os
import re

import numpy as np
import pytest

from cli_run import run_main
from minirnn.demos import by_hand
from minirnn.demos._common import fmt, num

PNG = b"\x89PNG\r\n\x1a\n"
WIDTH = 100
RTOL = 1e-9


def assert_png(path):
    data = open(path, "rb").read()
    assert data[:8] == PNG and len(data) > 1000, f"{path} is not a (non-empty) PNG"


def assert_fits(text):
    wide = [line for line in text.split("\n") if len(line) > WIDTH]
    assert not wide, f"{len(wide)} lines wider than {WIDTH} columns, e.g.\n{wide[0]}"


# ---- the SRN -------------------------------------------------------------------------------

def test_srn_by_hand_outputs_are_exact(capsys):
    r = by_hand.run_srn()
    assert r["outputs"]["identity"] == [4.0, 12.0, 32.0]
    assert r["outputs"]["tanh"] == [1.9280551601516338, 1.9984510891336251, 1.9999753470497836]
    for activation in ("identity", "tanh"):
        for y in r["modules"][activation]:                 # RNNCell loop, then RNN layer
            assert y[:, 0].tolist() == r["outputs"][activation]
            assert y[:, 1].tolist() == r["outputs"][activation]   # both units equal
    text = capsys.readouterr().out
    assert "[4, 4]" in text and "[32, 32]" in text and "1.9999753470497836" in text
    assert "relu" in text                                  # says relu stands in for identity
    assert "reproduced exactly" in text and "NOT" not in text
    assert_fits(text)


def test_srn_backward_by_hand():
    """L = Σ y; identity: every value is an integer worked out in the module docstring."""
    r = by_hand.run_srn(backward=True, verbose=False)
    g = r["grads"]["identity"]
    np.testing.assert_array_equal(g["W_ih"], np.full((2, 2), 24.0))
    np.testing.assert_array_equal(g["W_hh"], np.full((2, 2), 24.0))
    np.testing.assert_array_equal(g["b"], [22.0, 22.0])
    np.testing.assert_array_equal(g["W_out"], np.full((2, 2), 24.0))
    np.testing.assert_array_equal(g["b_out"], [3.0, 3.0])
    for activation in ("identity", "tanh"):
        for name, value in r["grads"][activation].items():
            np.testing.assert_allclose(value, r["module_grads"][activation][name],
                                       rtol=1e-12, err_msg=f"{activation} {name}")


def test_srn_backward_prints_every_intermediate_with_its_tag(capsys):
    r = by_hand.run_srn(backward=True)
    text = capsys.readouterr().out
    assert_fits(text)
    for what in ("(3')     dh ", "(2')     da ", "(1')     dh_next", "(1')(4') dW_ih",
                 "(1')(4') dW_hh", "(1')(4') db ", "dW_out", "db_out"):
        assert what in text, what
    assert "dh_next = da W_hh                = [28, 28]" in text
    # each step's printed numbers are the recorded ones, rounded
    for record in r["steps"]["tanh"]:
        t = record["t"]
        block = text.split("φ = tanh: L")[1].split(f"  t = {t}\n")[1].split("  t = ")[0]
        for key in ("dh", "da", "dh_next", "dW_ih", "dW_hh", "db", "dW_out", "db_out"):
            assert fmt(record[key], sig=by_hand.SIG) in block, (t, key)


def test_srn_writes_its_figure_and_a_summary_of_its_own(capsys, tmp_path):
    status, out, _ = run_main(capsys, "by-hand", "srn", "--backward", "--out", str(tmp_path))
    assert status == 0
    assert_png(tmp_path / "srn_by_hand.png")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["outputs"]["tanh"][0] == 1.9280551601516338           # full precision
    assert summary["grads"]["tanh"]["W_ih"][0][0] == pytest.approx(0.14493461514577524,
                                                                   rel=1e-15)


def test_srn_and_lstm_write_into_folders_of_their_own(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_main(capsys, "by-hand", "srn")[0] == 0
    assert run_main(capsys, "by-hand", "lstm")[0] == 0
    srn = json.loads((tmp_path / "out" / "by-hand" / "srn" / "summary.json").read_text())
    lstm = json.loads((tmp_path / "out" / "by-hand" / "lstm" / "summary.json").read_text())
    assert "outputs" in srn and "step" in lstm
    assert not (tmp_path / "out" / "by-hand" / "summary.json").exists()


# ---- the lecture LSTM, forward ---------------------------------------------------------------

def test_lecture_lstm_is_exact(tmp_path, capsys):
    r = by_hand.run_lstm(out=tmp_path)
    exact = r["step"]
    assert exact["memory_before"].tolist() == [0, 0, 3, 3, 7, 7, 7, 0, 6]
    assert exact["memory"].tolist() == [0, 3, 3, 7, 7, 7, 0, 6, 6]
    assert exact["output"].tolist() == [0, 0, 0, 0, 0, 7, 0, 0, 6]
    smooth = r["standard"]["output"]
    assert abs(smooth[5] - 0.9636) < 1e-4 and abs(smooth[8] - 0.7616) < 1e-4
    text = capsys.readouterr().out
    assert "i, f, g, o" in text and "backward" not in text
    assert_fits(text)
    assert_png(tmp_path / "lecture_lstm_gates.png")


# ---- the lecture LSTM, backward: torch autograd as the oracle --------------------------------

def torch_lecture_lstm_bptt():
    """Every quantity of the printout from torch autograd, float64, per step t = 1..T.

    The step is written with torch operations so that autograd hands back the gradient of each
    intermediate; each step gets its own leaf copy of the weights, so their .grad are the
    step's terms of Σ_t dW; h_{t-1} and c_{t-1} enter each step through a node of their own,
    so its .grad is what that step alone sends back (dh_next, dc_next). A torch.nn.LSTM with
    the same weights checks the forward and the totals.
    """
    torch = pytest.importorskip("torch")
    f64 = torch.float64
    x = torch.tensor(by_hand.LSTM_INPUTS, dtype=f64)                 # (T, D=4)
    W = torch.tensor(by_hand.LSTM_WEIGHTS, dtype=f64)                # (4H, D), H = 1
    T = len(x)
    W_ih = [W.clone().requires_grad_() for _ in range(T)]
    W_hh = [torch.zeros(4, 1, dtype=f64, requires_grad=True) for _ in range(T)]
    h = torch.zeros(1, 1, dtype=f64, requires_grad=True)             # h_0 (N=1, H=1)
    c = torch.zeros(1, 1, dtype=f64, requires_grad=True)
    steps, hs = [], []
    for t in range(T):
        h_in, c_in = h.clone(), c.clone()
        a = x[t:t + 1] @ W_ih[t].T + h_in @ W_hh[t].T                # (1) (1, 4)
        a.retain_grad()
        i, f, o = torch.sigmoid(a[:, 0:1]), torch.sigmoid(a[:, 1:2]), torch.sigmoid(a[:, 3:4])
        g = torch.tanh(a[:, 2:3])
        c = f * c_in + i * g
        h = o * torch.tanh(c)
        for v in (h_in, c_in, i, f, g, o, c, h):
            v.retain_grad()
        steps.append(dict(h_in=h_in, c_in=c_in, a=a, i=i, f=f, g=g, o=o, c=c, h=h))
        hs.append(h)
    torch.stack(hs).sum().backward()                                 # L = Σ_t h_t

    layer = torch.nn.LSTM(4, 1, bias=False).double()
    with torch.no_grad():
        layer.weight_ih_l0.copy_(W)
        layer.weight_hh_l0.zero_()
    y, _ = layer(x[:, None, :])
    y.sum().backward()
    np.testing.assert_allclose(torch.stack(hs).detach().numpy().ravel(),
                               y.detach().numpy().ravel(), rtol=1e-12)

    def val(v):
        return v.detach().numpy().copy()

    out = []
    for t, s in enumerate(steps):
        out.append(dict(dh=val(s["h"].grad)[0, 0], dc=val(s["c"].grad)[0, 0],
                        do=val(s["o"].grad)[0, 0], di=val(s["i"].grad)[0, 0],
                        df=val(s["f"].grad)[0, 0], dg=val(s["g"].grad)[0, 0],
                        da=val(s["a"].grad)[0], dh_next=val(s["h_in"].grad)[0, 0],
                        dc_next=val(s["c_in"].grad)[0, 0], step_dW_ih=val(W_ih[t].grad),
                        step_dW_hh=val(W_hh[t].grad)))
    totals = dict(W_ih=val(layer.weight_ih_l0.grad), W_hh=val(layer.weight_hh_l0.grad))
    return out, totals


def close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0, err_msg=what)


def test_lstm_backward_agrees_with_torch_autograd_step_by_step():
    oracle, totals = torch_lecture_lstm_bptt()
    r = by_hand.run_lstm_backward(verbose=False)
    records = {rec["t"]: rec for rec in r["steps"]}
    assert sorted(records) == list(range(1, 10)) and [rec["t"] for rec in r["steps"]][0] == 9
    running = dict(W_ih=np.zeros((4, 4)), W_hh=np.zeros((4, 1)))
    for t in range(9, 0, -1):                                       # processing order
        rec, want = records[t], oracle[t - 1]
        for key in ("dh", "dc", "do", "di", "df", "dg", "da", "dh_next", "dc_next"):
            close(rec[key], want[key], f"step {t}: {key}")
        f = r["forward"][t - 1]["f"]          # the textbook's dc_prev is (4')'s dc ⊙ f
        np.testing.assert_allclose(rec["dc_next"], rec["dc"] * f, rtol=1e-15, atol=0)
        running["W_ih"] += want["step_dW_ih"]
        running["W_hh"] += want["step_dW_hh"]
        close(rec["dW_ih"], running["W_ih"], f"step {t}: Σ dW_ih")
        close(rec["dW_hh"], running["W_hh"], f"step {t}: Σ dW_hh")
        close(rec["db"], running["W_ih"][:, 3], f"step {t}: Σ db (x4 = 1)")
    close(r["grads"]["W_ih"], totals["W_ih"], "Σ_t dW_ih against torch.nn.LSTM")
    close(r["grads"]["W_hh"], totals["W_hh"], "Σ_t dW_hh against torch.nn.LSTM")
    assert r["module_agrees"]


def test_lstm_backward_uses_the_textbook_step_functions(monkeypatch):
    """The printout's numbers are the textbook's, not a copy of its equations."""
    from minirnn.textbook import lstm as textbook_lstm
    calls = []

    def spy(name):
        real = getattr(textbook_lstm, name)

        def wrapper(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)
        return wrapper

    for name in ("lstm_step_forward", "lstm_step_backward"):
        monkeypatch.setattr(by_hand, name, spy(name))
    by_hand.lstm_backward_by_hand()
    assert calls.count("lstm_step_forward") == 9 and calls.count("lstm_step_backward") == 9


def test_lstm_backward_printout(capsys):
    r = by_hand.run_lstm(backward=True)
    text = capsys.readouterr().out
    assert_fits(text)
    back = text.split("-- backward")[1]
    for t in range(1, 10):
        rec = next(rec for rec in r["backward"]["steps"] if rec["t"] == t)
        block = back.split(f"  t = {t}   ")[1].split("  t = ")[0]
        for tag, key in (("(6')", "dh"), ("(5')", "do"), ("(5')", "dc"), ("(4')", "di"),
                         ("(4')", "df"), ("(4')", "dg"), ("(4')", "dc_next"),
                         ("(1')", "dh_next")):
            lines = [ln for ln in block.split("\n") if ln.split()[:2] == [tag, key]]
            assert len(lines) == 1 and f"= {num(rec[key], sig=by_hand.SIG)}" in lines[0], \
                (t, key, lines)
        assert f"= {fmt(rec['da'], sig=by_hand.SIG)}" in block
        assert "(3')(2') da" in block and "(1')(7') Σ dW_ih" in block
        for k, gate in enumerate("ifgo"):
            row = f"{gate}  {fmt(rec['dW_ih'][k], sig=by_hand.SIG)}"
            assert row in block and fmt(rec["dW_hh"][k], sig=by_hand.SIG) in block, (t, gate)
    # the step gates: one sentence, and it is true
    assert "every gate gradient is zero" in text and "are all 0" in text
    step = r["backward"]["step_gates"]
    assert step["gate_rows_zero"] and step["W_ih"][2].any()


def test_lstm_backward_from_the_command_line(capsys, tmp_path):
    status, out, _ = run_main(capsys, "by-hand", "lstm", "--backward", "--out", str(tmp_path))
    assert status == 0 and "(5')" in out and "every gate gradient is zero" in out
    assert_png(tmp_path / "lecture_lstm_gates.png")
    assert_png(tmp_path / "lecture_lstm_backward.png")
    summary = json.loads((tmp_path / "summary.json").read_text())
    r = by_hand.run_lstm_backward(verbose=False)
    for saved, rec in zip(summary["backward"]["steps"], r["steps"]):     # full precision
        assert saved["t"] == rec["t"]
        for key in ("dh", "dc", "do", "di", "df", "dg", "dc_next", "dh_next"):
            assert saved[key] == rec[key], (rec["t"], key)
        assert saved["da"] == rec["da"].tolist() and saved["dW_ih"] == rec["dW_ih"].tolist()


# ---- a flag that does nothing is an error ----------------------------------------------------

def test_backward_is_never_silently_ignored(capsys, tmp_path):
    plain = run_main(capsys, "by-hand", "lstm", "--out", str(tmp_path / "a"))[1]
    backward = run_main(capsys, "by-hand", "lstm", "--backward", "--out", str(tmp_path / "b"))[1]
    assert backward != plain and backward.startswith(plain.split("\nsaved")[0])
    assert "-- backward" in backward and "-- backward" not in plain
    plain = run_main(capsys, "by-hand", "srn", "--out", str(tmp_path / "c"))[1]
    backward = run_main(capsys, "by-hand", "srn", "--backward", "--out", str(tmp_path / "d"))[1]
    assert "-- backward" in backward and "-- backward" not in plain


def test_seed_is_refused_by_by_hand(capsys):
    status, _, err = run_main(capsys, "by-hand", "srn", "--seed", "3")
    assert status not in (0, None) and len(err.strip().splitlines()) == 1
    assert "--seed" in err and "fixed" in err


def test_readme_by_hand_rows_show_printed_numbers(capsys):
    """The numbers README's Demos table gives for by-hand are ones the commands print."""
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"),
                  encoding="utf-8").read()
    rows = [ln for ln in readme.split("\n") if ln.startswith("| `minirnn by-hand ")]
    assert len(rows) == 2
    by_hand.run_srn()
    by_hand.run_lstm()
    printed = capsys.readouterr().out
    for row in rows:
        for number in re.findall(r"\d+\.\d{4,}", row):
            assert number in printed, number
        for run in re.findall(r"(?:\d ){8}\d", row):          # 0 0 0 0 0 7 0 0 6
            assert run in printed, run
