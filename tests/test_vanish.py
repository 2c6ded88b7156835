"""Tests for minirnn.demos.vanish: the per-step gradients are right (finite differences, the
layer's own backward), the SRN's gradient vanishes far faster than the LSTM's at
initialisation, the run is reproducible per seed, and docs/vanishing.md shows the default
run's numbers."""
import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from minirnn import nn
from minirnn.cli import write_summary
from minirnn.demos import vanish
from minirnn.models import SequenceClassifier

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "vanishing.md"
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def tiny(cell, seed=0):
    """A small float64 classifier (random nonzero biases, as every layer starts) and data."""
    model = SequenceClassifier(10, 3, 4, 5, cell=cell, rng=seed)
    rng = np.random.default_rng(seed)
    return model, rng.integers(0, 10, size=(3, 6)), rng.integers(0, 5, size=3)


# ---- the gradients are right ---------------------------------------------------------------

@pytest.mark.parametrize("cell", vanish.CELLS)
def test_dh_t_equals_finite_differences(cell):
    model, ids, labels = tiny(cell)
    dh = vanish.hidden_grads(model, ids, labels)["dh"]            # (T, N, H)
    T, N, H = dh.shape
    eps = 1e-6
    fd = np.empty_like(dh)
    for t in range(1, T + 1):
        for n in range(N):
            for j in range(H):
                shift = np.zeros((N, H))
                shift[n, j] = eps
                up = vanish.hidden_grads(model, ids, labels, h_shift=(t, shift))["loss"]
                down = vanish.hidden_grads(model, ids, labels, h_shift=(t, -shift))["loss"]
                fd[t - 1, n, j] = (up - down) / (2 * eps)
    error = np.abs(fd - dh).max() / np.abs(dh).max()
    assert error < 1e-6


@pytest.mark.parametrize("cell", vanish.CELLS)
def test_unrolled_cells_match_the_layers_backward(cell):
    model, ids, labels = tiny(cell)
    got = vanish.hidden_grads(model, ids, labels)
    crit = nn.CrossEntropyLoss(reduction="sum")
    x = model.embedding(ids)
    model.embedding.clear_caches()
    _, state = model.rnn(x)                                       # the layer, not the cells
    h_n = state[0] if cell == "lstm" else state
    crit(model.fc(h_n[-1]), labels)
    dh = model.fc.backward(crit.backward())
    if cell == "lstm":
        dx, (dh0, _) = model.rnn.backward(None, (dh[None], None))
    else:
        dx, dh0 = model.rnn.backward(None, dh[None])
    np.testing.assert_allclose(got["dx"], dx, rtol=1e-12, atol=1e-15)       # (N, T, E)
    np.testing.assert_allclose(got["dh0"], dh0[0], rtol=1e-12, atol=1e-15)  # layer 0
    assert not np.array_equal(got["dh"][0], 0)


def test_spectral_radius():
    assert vanish.spectral_radius(np.array([[0.0, 2.0], [-2.0, 0.0]])) == pytest.approx(2.0)
    assert vanish.spectral_radius(np.diag([0.5, -0.9])) == pytest.approx(0.9)


# ---- the property the demo shows -----------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_at_init_the_srn_gradient_vanishes_far_faster_than_the_lstms(seed):
    """At L = 35, ‖∂L/∂h_1‖/‖∂L/∂h_L‖ is over 100 times smaller for the SRN than for the
    LSTM at initialisation (seeds 0-4 were checked: 4e-4 to 1e-7 times)."""
    ids, labels = vanish.examples(vanish.LENGTH, seed)
    ratio = {}
    for cell in ("srn", "lstm"):
        norms = vanish.grad_norms(vanish.initial_model(cell, seed), ids, labels)
        ratio[cell] = norms[0] / norms[-1]
    assert ratio["srn"] < ratio["lstm"] / 100
    assert ratio["lstm"] < 1                     # it still shrinks, just far less


def test_reproducible_per_seed():
    def once(seed):
        return vanish.run(epochs=1, seed=seed, cells=("srn",), verbose=False, plots=False)
    a, b, c = once(3), once(3), once(4)
    assert a["norms"] == b["norms"] and a["spectral_radius"] == b["spectral_radius"]
    assert a["norms"] != c["norms"]


def test_run_refuses_bad_settings():
    with pytest.raises(ValueError, match="positive integer"):
        vanish.run(epochs=0, verbose=False, plots=False)
    with pytest.raises(ValueError, match="expected cells"):
        vanish.run(cells=("rnn2",), verbose=False, plots=False)


# ---- the default run, its files, and the document ------------------------------------------

@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The default run (what `python -m minirnn.demos.vanish` does), printed and written."""
    out = tmp_path_factory.mktemp("vanish")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = vanish.run(out=str(out))
    write_summary(str(out), result)
    return result, buf.getvalue(), out


def test_default_run_writes_the_figure_and_summary(default_run):
    result, printed, out = default_run
    png = (out / "grad_norms_per_step.png").read_bytes()
    assert len(png) > 1000 and png.startswith(b"\x89PNG")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    L = vanish.LENGTH
    assert summary["length"] == L and summary["examples"] == vanish.N_EXAMPLES
    assert summary["epochs"] == vanish.QUICK_EPOCHS
    for cell in vanish.CELLS:
        for state in vanish.STATES:
            norms = summary["norms"][cell][state]
            row = summary["at_steps"][cell][state]
            assert len(norms) == L
            assert row == {"t=1": norms[0], f"t={L // 2}": norms[L // 2 - 1],
                           f"t={L}": norms[-1], "ratio_1_to_L": norms[0] / norms[-1],
                           "per_step": (norms[0] / norms[-1]) ** (1 / (L - 1))}
    assert set(summary["spectral_radius"]) == {"init", "trained"}
    assert 0 < summary["spectral_radius"]["init"] < 1


def same_number(shown, value, units=0.5):
    """``value`` agrees with the number ``shown`` to the digits shown: within half a unit
    of the last digit (``value`` rounds to ``shown``), or ``units`` of them."""
    mantissa, _, exponent = shown.lower().partition("e")
    unit = 10.0 ** -len(mantissa.partition(".")[2]) * 10.0 ** int(exponent or 0)
    return abs(float(shown) - value) <= unit * units * (1 + 1e-9)


def run_numbers(result, printed):
    """Every number the default run produces: printed, or in its summary (full precision)."""
    values = [float(v) for v in NUMBER.findall(printed)]
    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                values.extend(float(s) for s in NUMBER.findall(str(k)))
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            values.append(float(x))
    walk({k: v for k, v in result.items() if k != "files"})
    return values


def test_the_document_shows_the_default_runs_numbers(default_run):
    """The printed table in docs/vanishing.md is what the run prints (numbers to the digits
    shown), and every number in the document is one the run produces (rounded as shown)."""
    result, printed, _ = default_run
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- vanish-report -->\s*```text\n(.*?)```", text, re.S)
    assert block, "docs/vanishing.md: no ```text block after <!-- vanish-report -->"
    report = "\n".join(vanish.report(result["at_steps"], result["spectral_radius"],
                                     result["test_accuracy"]))
    shown, fresh = block.group(1).strip().split("\n"), report.split("\n")
    assert len(shown) == len(fresh), "the report has changed:\n" + report
    for s, g in zip(shown, fresh):
        assert NUMBER.sub("#", s).split() == NUMBER.sub("#", g).split(), \
            f"line differs:\n  shown: {s}\n  now:   {g}"
        for a, b in zip(NUMBER.findall(s), NUMBER.findall(g)):
            assert same_number(a, float(b), units=1), f"{a} shown, {b} printed now:\n" + report
    values = run_numbers(result, printed)
    prose = re.sub(r"\]\([^)]*\)", "]", text)                      # drop link targets
    missing = [n for n in NUMBER.findall(prose) if not any(same_number(n, v) for v in values)]
    assert not missing, f"numbers in docs/vanishing.md the default run does not produce: {missing}"


def test_chance_level_accuracies_are_explained():
    assert vanish.chance_accuracy() == 0.1          # the sum 9: 10 of the 100 digit pairs
    note = "\n".join(vanish.accuracy_note({"srn": 0.07, "lstm": 0.10, "gru": 0.11}, epochs=6))
    assert "about chance" in note and "0.10" in note and "--full" in note
    assert "docs/vanishing.md" in note
    trained = "\n".join(vanish.accuracy_note({"srn": 0.3, "lstm": 0.9, "gru": 0.95}, epochs=500))
    assert "chance" not in trained and "docs/vanishing.md" in trained
