"""minirnn.trace: the recorder holds the textbook's own numbers, torch agrees with them, and
``minirnn trace`` writes one self-contained page. (The page in a browser:
tests/test_trace_browser.py.)"""
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from minirnn import cli
from minirnn.demos import by_hand
from minirnn.trace import LOSSES, preset, random_network, record
from minirnn.trace.page import ASSETS, page_html
from minirnn.trace.recorder import EVENTS, functions

ROOT = Path(__file__).resolve().parent.parent
CELLS = ("srn", "lstm", "gru")


def trace_of(cell, net, loss="sum", target=0):
    return record(cell, net["params"], net["x"], net["h0"], net.get("c0"), loss=loss,
                  target=target)


def networks():
    """(cell, net, loss) cases: the presets, and random networks with every loss."""
    cases = [(cell, preset(cell), "sum") for cell in CELLS]
    cases += [("lstm", preset("lstm"), "last")]
    for k, cell in enumerate(CELLS):
        for loss in LOSSES:
            cases.append((cell, random_network(cell, hidden=3, inputs=2, steps=5, seed=k),
                          loss))
    return cases


CASES = networks()
CASE_IDS = [f"{c}-{i}-{loss}" for i, (c, _, loss) in enumerate(CASES)]


# ---- the presets are the networks of the rest of minirnn ----------------------------------

def test_srn_preset_is_the_by_hand_srn():
    trace = trace_of("srn", preset("srn"))
    h = np.array([step["h"] for step in trace["forward"]])
    # by-hand's output y_t = h_t W_outᵀ with W_out all ones, so y_t,1 = h_t,1 + h_t,2
    np.testing.assert_allclose(h.sum(axis=1), by_hand.SRN_OUTPUTS["tanh"], rtol=1e-15)


def test_srn_gradients_are_half_the_by_hand_ones():
    # by-hand's L = Σ y_t with y_t = h_t W_outᵀ, W_out all ones: dL/dh_t = [2, 2], not [1, 1]
    trace = trace_of("srn", preset("srn"))
    _, by = by_hand.srn_backward_by_hand("tanh", by_hand.srn_by_hand("tanh"))
    for ours, theirs in (("dW_ih", "W_ih"), ("dW_hh", "W_hh"), ("db_ih", "b")):
        np.testing.assert_allclose(2 * np.array(trace["grads"][ours]), by[theirs], rtol=1e-14)


def test_lstm_preset_is_the_lecture_lstm_with_standard_activations():
    trace = trace_of("lstm", preset("lstm"))
    smooth = by_hand.run_lstm(verbose=False)["standard"]
    np.testing.assert_allclose(np.array(trace["output"]["y"])[:, 0], smooth["output"],
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose([s["c"][0] for s in trace["forward"]], smooth["memory"],
                               rtol=1e-12, atol=0)


# ---- the numbers are the textbook's -------------------------------------------------------

@pytest.mark.parametrize("cell, net, loss", CASES, ids=CASE_IDS)
def test_recorded_numbers_are_the_textbooks(cell, net, loss):
    trace = trace_of(cell, net, loss)
    fns = functions(cell)
    p = net["params"]
    W = [p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"]]
    states = [net["h0"][None]] + ([net["c0"][None]] if cell == "lstm" else [])
    out = fns["forward"](net["x"][:, None, :], *states, *W)        # run again, unwatched
    dy = np.array(trace["dy"])[:, None, :]
    back = fns["backward"](dy, *[np.zeros((1, len(net["h0"])))] * len(states), out[-1])
    assert np.array_equal(trace["output"]["y"], out[0][:, 0, :])
    for k, g in back[-1].items():
        assert np.array_equal(trace["grads"]["d" + k], g), k
        assert np.array_equal(trace["sums"][0]["d" + k], g), k      # Σ_t ends at the total
    assert np.array_equal(trace["grads"]["dx"], back[0][:, 0, :])
    assert np.array_equal(trace["grads"]["dh0"], back[1][0])
    for t, step in enumerate(trace["backward"]):                   # (3')/(6') dh = dy + dh_next
        assert np.array_equal(step["dh"], np.add(step["dy"], step["dh_next"]))
        assert np.array_equal(trace["forward"][t]["h"], out[0][t, 0])


def test_every_event_shows_recorded_quantities():
    for cell, net, loss in CASES[:3]:
        trace = trace_of(cell, net, loss)
        T = trace["sizes"]["T"]
        per_step = len(EVENTS[cell])
        assert len(trace["events"]) == T * per_step + 1
        assert len({e["id"] for e in trace["events"]}) == len(trace["events"])
        for e in trace["events"]:
            for ref in e["show"] + e["uses"]:
                table, name = ref.split(".")
                row = (trace[table] if table in ("params", "loss") else
                       trace[table][e["t"] - 1])
                assert name in row, (e["id"], ref)


def test_source_lines_are_the_textbooks_lines_with_their_equation_tags():
    for cell in CELLS:
        trace = trace_of(cell, preset(cell))
        for e in trace["events"]:
            assert e["lines"], e["id"]
            for line in e["lines"]:
                text = (ROOT / line["file"]).read_text(encoding="utf-8").splitlines()
                first = text[line["line"] - 1]
                assert first.strip() == line["text"].splitlines()[0].strip(), e["id"]
            if e["phase"] == "loss":
                assert all(l["file"] == "minirnn/trace/recorder.py" for l in e["lines"])
                continue
            assert all(l["file"].startswith("minirnn/textbook/") for l in e["lines"])
            numbers = {n for l in e["lines"] for n in re.findall(r"\((\d+'?)\)", l["tag"])}
            wanted = set(re.findall(r"\((\d+'?)\)", e["tag"]))
            assert wanted <= numbers, (e["id"], e["tag"], [l["tag"] for l in e["lines"]])


# ---- torch autograd agrees ------------------------------------------------------------------

def torch_run(cell, net, loss, target=0):
    """dL/d(every weight, x_t, h0, c0) and dL/dh_t, dL/dc_t per step, by autograd on torch's
    own cells (float64), holding the same weights."""
    (T, D), H = net["x"].shape, len(net["h0"])
    module = {"srn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
    torch_cell = module[cell](D, H, dtype=torch.float64)
    with torch.no_grad():
        for k, v in net["params"].items():
            getattr(torch_cell, k.replace("W_", "weight_").replace("b_", "bias_")).copy_(
                torch.from_numpy(v))
    leaf = lambda a: torch.tensor(a, dtype=torch.float64)[None].requires_grad_()
    x = torch.tensor(net["x"], dtype=torch.float64, requires_grad=True)
    h0 = leaf(net["h0"])
    c0 = leaf(net["c0"]) if cell == "lstm" else None
    h, c, hs, cs = h0, c0, [], []
    for t in range(T):
        if cell == "lstm":
            h, c = torch_cell(x[t][None], (h, c))
            c.retain_grad()
            cs.append(c)
        else:
            h = torch_cell(x[t][None], h)
        h.retain_grad()
        hs.append(h)
    y = torch.cat(hs)                                               # (T, H)
    if loss == "sum":
        L = y.sum()
    elif loss == "last":
        L = y[-1].sum()
    else:
        L = torch.nn.functional.cross_entropy(y[-1:], torch.tensor([target]), reduction="sum")
    L.backward()
    out = {"d" + k: getattr(torch_cell, k.replace("W_", "weight_").replace("b_", "bias_"))
           .grad.numpy() for k in net["params"]}
    out.update(dx=x.grad.numpy(), dh0=h0.grad[0].numpy(), L=L.item(),
               dh=[s.grad[0].numpy() for s in hs])
    if cell == "lstm":
        out.update(dc0=c0.grad[0].numpy(), dc=[s.grad[0].numpy() for s in cs])
    return out


@pytest.mark.parametrize("cell, net, loss", CASES, ids=CASE_IDS)
def test_recorded_gradients_equal_torch_autograd(cell, net, loss):
    trace = trace_of(cell, net, loss)
    want = torch_run(cell, net, loss)
    close = dict(rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(trace["loss"]["L"], want["L"], **close)
    for k in ("dW_ih", "dW_hh", "db_ih", "db_hh", "dx", "dh0") + (("dc0",) if cell == "lstm"
                                                                   else ()):
        np.testing.assert_allclose(trace["grads"][k], want[k], err_msg=k, **close)
    for t, step in enumerate(trace["backward"]):                    # ∂L/∂h_t, ∂L/∂c_t
        np.testing.assert_allclose(step["dh"], want["dh"][t], err_msg=f"dh t={t}", **close)
        if cell == "lstm":
            np.testing.assert_allclose(step["dc"], want["dc"][t], err_msg=f"dc t={t}", **close)
    np.testing.assert_allclose(trace["norms"]["dh"], [np.linalg.norm(g) for g in want["dh"]],
                               **close)


# ---- the trace as data ----------------------------------------------------------------------

def test_trace_is_plain_json_and_its_schema_is_documented():
    trace = trace_of("lstm", preset("lstm"))
    assert json.loads(json.dumps(trace, allow_nan=False)) == trace
    doc = (ROOT / "docs" / "trace.md").read_text(encoding="utf-8")
    for key in trace:
        assert f"`{key}`" in doc, key
    for key in trace["events"][0]:
        assert f"`{key}`" in doc, key


def test_bad_input_is_refused_with_what_was_expected():
    net = preset("srn")
    p = net["params"]
    with pytest.raises(ValueError, match="expected a cell"):
        record("elman", p, net["x"])
    with pytest.raises(ValueError, match="expected a loss"):
        record("srn", p, net["x"], loss="mse")
    with pytest.raises(ValueError, match="expected x of shape"):
        record("srn", p, net["x"][0])
    with pytest.raises(ValueError, match=r"expected W_ih of shape \(2, 2\)"):
        record("srn", {**p, "W_ih": np.ones((2, 3))}, net["x"])
    with pytest.raises(ValueError, match="expected steps in 1..12"):
        record("srn", p, np.ones((13, 2)))
    with pytest.raises(ValueError, match="expected hidden in 1..4"):
        random_network("gru", hidden=5)
    with pytest.raises(ValueError, match="at least 2 hidden units"):
        record("lstm", **{k: v for k, v in preset("lstm").items()}, loss="xent")
    with pytest.raises(ValueError, match="finite"):
        record("srn", p, np.array([[1.0, np.nan]]))


# ---- the command and the file it writes -----------------------------------------------------

def test_minirnn_trace_lstm_writes_one_small_self_contained_page(tmp_path, capsys):
    assert cli.main(["trace", "lstm", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    path = tmp_path / "trace_lstm.html"
    assert printed[-1] == str(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json", "trace_lstm.html"]
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 1_000_000
    # nothing fetched: no external script, style, image or font, no URL but SVG's namespace
    assert not re.search(r"<(script|link|img|iframe)[^>]*\s(src|href)=\"(?!data:)", text)
    assert set(re.findall(r"https?://[^\s\"'`)]+", text)) <= {"http://www.w3.org/2000/svg"}
    assert "/*__" not in text                                     # every part filled in
    for name in ASSETS[1:]:
        first = next(l for l in (ROOT / "minirnn/trace/assets" / name).read_text(
            encoding="utf-8").splitlines() if l.strip())
        assert first in text, name


@pytest.mark.parametrize("argv, words", [
    (["trace", "gru", "--hidden", "5"], ["1..4 hidden units", "stay small"]),
    (["trace", "srn", "--steps", "13"], ["1..12 steps"]),
    (["trace", "lstm", "--loss", "xent"], ["at least 2 hidden units"]),
])
def test_minirnn_trace_refuses_what_it_cannot_show(argv, words, tmp_path, capsys):
    try:
        status = cli.main(argv + ["--out", str(tmp_path)])
    except SystemExit as e:
        status = e.code
    err = capsys.readouterr().err.strip().splitlines()
    assert status not in (0, None) and len(err) == 1
    assert all(w in err[0] for w in words), err[0]


def test_page_data_cannot_end_its_script_block():
    trace = trace_of("srn", preset("srn"))
    trace["title"] = "</script><script>alert(1)</script>"
    text = page_html(trace)
    assert text.count("</script>") == 4                   # data, cells, equations, trace.js
    assert "&lt;/script&gt;" in text.split("<body>")[0]          # the <title> is escaped


def test_package_data_lists_the_assets():
    cfg = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert re.search(r"\[options\.package_data\]\s*\nminirnn\.trace\s*=\s*assets/\*", cfg)
    assert all((ROOT / "minirnn/trace/assets" / a).is_file() for a in ASSETS)


def test_documented_events_exist():
    """Every event docs/trace.md's table and docs/bptt.md's links name is one of its page."""
    import shlex
    rows = []
    for doc in ("trace.md", "bptt.md"):
        for line in (ROOT / "docs" / doc).read_text(encoding="utf-8").splitlines():
            command = re.search(r"`minirnn (trace [^`]+)`", line)
            ids = re.findall(r"`((?:forward|backward|sum)-t\d+-\w+)`", line)
            if command and ids:
                rows.append((command.group(1), ids))
    assert len(rows) >= 10
    traces = {}
    for command, ids in rows:
        if command not in traces:
            args = cli.build_parser().parse_args(shlex.split(command))
            net = (preset(args.network) if args.hidden is args.steps is args.seed is None else
                   random_network(args.network, hidden=args.hidden or 2, steps=args.steps or 4,
                                  seed=args.seed or 0))
            traces[command] = {e["id"] for e in trace_of(args.network, net, args.loss)["events"]}
        assert set(ids) <= traces[command], (command, set(ids) - traces[command])


def test_documented_gradient_norms():
    """docs/trace.md's numbers: the SRN's vanishing gradient, the lecture LSTM's carousel."""
    net = random_network("srn", hidden=2, steps=12, seed=1)       # what --steps 12 --seed 1 draws
    dh = trace_of("srn", net, "last")["norms"]["dh"]
    assert (f"{dh[-1]:.2g}", f"{dh[0]:.2g}") == ("1.4", "4.5e-05")
    assert all(a < b for a, b in zip(dh, dh[1:]))                 # smaller at every step back
    norms = trace_of("lstm", preset("lstm"), "last")["norms"]
    assert [f"{v:.2g}" for v in norms["dc"]] == ["3.4e-40"] * 6 + ["0.42"] * 3
    assert norms["dh"][:8] == [0.0] * 8 and norms["dh"][8] > 0
