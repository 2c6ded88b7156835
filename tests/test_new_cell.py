"""The minimal gated unit (MGU) of docs/architecture.md: the example of adding a new cell.

The cell's code is not copied here: it is read from the document's python block that defines
``class MGUCell(Module)`` and executed, so the document and the tested code cannot drift apart.
The tests: finite differences (alone and unrolled over time), a deliberately broken copy that
the check must catch -- the numbers quoted in docs/gradient-checking.md -- and a tiny task the
cell must learn.
"""
import re
from pathlib import Path

import numpy as np
import pytest

import minirnn
from minirnn.nn import CrossEntropyLoss, Linear, Module
from minirnn.optim import Adam
from test_docs import blocks, same_number

DOCS = Path(__file__).resolve().parent.parent / "docs"
TOL = 1e-7
DELETED_LINE = "        df += dr * c.h"          # the first line of (2'): f's second path


def mgu_source():
    code = [c for lang, c, _ in blocks((DOCS / "architecture.md").read_text(encoding="utf-8"))
            if lang == "python" and "class MGUCell(Module)" in c]
    assert len(code) == 1, "docs/architecture.md defines MGUCell in exactly one python block"
    return code[0]


def load_mgu(source=None):
    namespace = {"__name__": "mgu_from_docs"}
    exec(compile(source or mgu_source(), "docs/architecture.md (MGUCell)", "exec"), namespace)
    return namespace["MGUCell"]


def broken_mgu():
    """The same cell with one line of its backward deleted (a test fixture, not package code)."""
    source = mgu_source()
    lines = source.split("\n")
    hits = [k for k, ln in enumerate(lines) if ln.split("#")[0].rstrip() == DELETED_LINE]
    assert len(hits) == 1, f"expected the line {DELETED_LINE.strip()!r} once in MGUCell"
    del lines[hits[0]]
    return load_mgu("\n".join(lines))


def inputs():
    """The inputs docs/architecture.md and docs/gradient-checking.md use: N = 2, D = 3, H = 4."""
    rng = np.random.default_rng(1)
    return rng.standard_normal((2, 3)), rng.standard_normal((2, 4))


class Unrolled(Module):
    """A cell run over a sequence: x (T, N, D), h0 (N, H) -> every state (T, N, H)."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x, h0):
        h, states = h0, []
        for x_t in x:
            h = self.cell(x_t, h)
            states.append(h)
        self._push(len(x))
        return np.stack(states)

    def backward(self, dstates):
        T = self._pop()
        dx, dh_next = [None] * T, np.zeros_like(dstates[0])
        for t in reversed(range(T)):
            dx[t], dh_next = self.cell.backward(dstates[t] + dh_next)
        return np.stack(dx), dh_next


# ---- finite differences --------------------------------------------------------------------

def test_mgu_passes_gradcheck():
    errors = minirnn.gradcheck(load_mgu()(3, 4, rng=0), *inputs())
    assert set(errors) == {"W_f", "U_f", "b_f", "W_h", "U_h", "b_h", "input0", "input1"}
    assert max(errors.values()) < TOL, errors


def test_mgu_passes_gradcheck_unrolled():
    """Over 5 steps: gradients accumulate (+=) and each backward undoes the latest forward."""
    rng = np.random.default_rng(3)
    x, h0 = rng.standard_normal((5, 2, 3)), rng.standard_normal((2, 4))
    errors = minirnn.gradcheck(Unrolled(load_mgu()(3, 4, rng=0)), x, h0)
    assert max(errors.values()) < TOL, errors


def test_broken_copy_is_caught_where_the_line_was_deleted():
    errors = minirnn.gradcheck(broken_mgu()(3, 4, rng=0), *inputs())
    for name in ("W_h", "U_h", "b_h"):               # computed before the deleted line
        assert errors[name] < TOL, errors
    for name in ("W_f", "U_f", "b_f", "input0", "input1"):   # downstream of df
        assert errors[name] > 1e-3, errors


def quoted_table():
    """{array name: (error as written, error with the line deleted)} as the doc's strings."""
    text = (DOCS / "gradient-checking.md").read_text(encoding="utf-8")
    table = text.split("<!-- mgu-errors -->", 1)[1].strip().split("\n\n", 1)[0]
    rows = {}
    for line in table.split("\n")[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[re.match(r"`(\w+)`", cells[0]).group(1)] = (cells[1], cells[2])
    return rows


def test_numbers_quoted_in_gradient_checking_md():
    rows = quoted_table()
    good = minirnn.gradcheck(load_mgu()(3, 4, rng=0), *inputs())
    bad = minirnn.gradcheck(broken_mgu()(3, 4, rng=0), *inputs())
    assert set(rows) == set(good)
    for name, (shown_good, shown_bad) in rows.items():
        assert same_number(shown_good, repr(good[name])), (name, shown_good, good[name])
        assert same_number(shown_bad, repr(bad[name])), (name, shown_bad, bad[name])


# ---- behaviour -----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1])
def test_mgu_learns_to_output_the_first_symbol(seed):
    """6 random symbols in, the first one out: the cell must carry it across 5 steps."""
    MGUCell = load_mgu()
    T, N, C, H = 6, 32, 3, 16
    cell, head, loss_fn = MGUCell(C, H, rng=seed), Linear(H, C, rng=seed + 1), CrossEntropyLoss()
    optimizer = Adam(cell.parameters() + head.parameters(), lr=0.03)
    data = np.random.default_rng(seed + 2)
    losses = []
    for step in range(150):
        ids = data.integers(0, C, (T, N))
        x = np.eye(C)[ids]
        h = np.zeros((N, H))
        for t in range(T):
            h = cell(x[t], h)
        losses.append(loss_fn(head(h), ids[0]))
        optimizer.zero_grad()
        dh = head.backward(loss_fn.backward())
        for t in reversed(range(T)):
            _, dh = cell.backward(dh)
        optimizer.step()
    assert abs(losses[0] - np.log(C)) < 0.2            # starts as a uniform guess
    assert np.mean(losses[-10:]) < 0.02                # and learns the task

    # and it generalises: a fresh batch, no caches kept
    ids = data.integers(0, C, (T, 500))
    with minirnn.no_grad():
        h = np.zeros((500, H))
        for t in range(T):
            h = cell(np.eye(C)[ids[t]], h)
        accuracy = np.mean(head(h).argmax(axis=1) == ids[0])
    assert accuracy > 0.99
