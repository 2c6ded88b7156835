"""What a wrong answer means: from which quantities are wrong and how, a hint.

Each function gets the student's values and the right ones as {quantity: array} and returns
the lines to print: a verdict ('✗ dW_hh is wrong (relative error 0.8); dx, dh_prev are
right'), then hints. A hint comes from a test, not a guess where possible: the textbook is run
again with the bug a hint names (weights transposed, the carry dropped, one step's share of a
sum only, ...) and the hint is given when that reproduces the student's numbers.
"""
import itertools

import numpy as np

from . import reference

MATCH = 1e-7       # two arrays this close (relative) are "the same"


def rel_error(a, b):
    """‖a − b‖ / max(‖a‖, ‖b‖): 0 when both are zero, inf when either has a NaN or inf."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return np.inf
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def _same(a, b):
    return np.shape(a) == np.shape(b) and rel_error(a, b) < MATCH


def verdict(name, errors, tol, against="the textbook's"):
    wrong = [q for q, e in errors.items() if e > tol]
    right = [q for q in errors if q not in wrong]
    many = len(wrong) > 1
    line = (f"✗ {name}: {', '.join(wrong)} {'are' if many else 'is'} wrong (relative "
            f"error{'s' if many else ''} {', '.join(f'{errors[q]:.2g}' for q in wrong)}, "
            f"against {against})")
    if right:
        line += f"; {', '.join(right)} {'is' if len(right) == 1 else 'are'} right"
    return line, wrong, right


def shape_hint(label, got, shape, N):
    if got == (N,) + tuple(shape):
        return (f"  {label} has one row per example: a bias is added to every row of the batch, "
                "so its gradient is the sum over the batch, da.sum(axis=0)")
    if isinstance(got, tuple) and got == tuple(reversed(shape)):
        return f"  {label} is transposed: for a = x Wᵀ, dW = daᵀ x has W's shape"
    return "  write the shape of every array next to it, as in the docstring"


def _generic(q, got, want, N):
    """A hint from the relation between one wrong array and the right one, or None."""
    g, w = got[q], want[q]
    if not np.any(g):
        return f"  {q} is all zeros: is it computed and returned?"
    if g.ndim == 2 and g.shape[0] == g.shape[1] and _same(g, w.T):
        return f"  {q} is the transpose of the right answer: dW = daᵀ x has W's shape and layout"
    for factor, meaning in ((-1, "has the wrong sign"), (1 / N, "is the mean over the batch, "
                            "not the sum"), (2, "is twice the right value: counted twice?"),
                            (0.5, "is half the right value")):
        if _same(g, factor * w):
            return f"  {q} {meaning}"
    return None


# ---- step forward --------------------------------------------------------------------------

_GATE_ORDER = {"lstm": "i | f | g | o (rows 0:H are i, H:2H f, 2H:3H g, 3H:4H o)",
               "gru": "r | z | n (rows 0:H are r, H:2H z, 2H:3H n)"}


def _permuted(weights, order, H):
    """The weights with their gate blocks in ``order`` (a tuple of block indices)."""
    rows = np.concatenate([np.arange(k * H, (k + 1) * H) for k in order])
    return tuple(w[rows] for w in weights)


def step_forward(cell, p, name, got, want, errors, ref_cache, ref_step_forward, tol):
    line, wrong, right = verdict(name, errors, tol)
    lines = [line]
    H = p.prev[0].shape[1]
    W_ih, W_hh, b_ih, b_hh = p.weights
    zero = np.zeros_like(b_ih)
    tries = [((W_ih, W_hh, zero, zero), "the biases are missing: (1) adds both b_ih and b_hh"),
             ((W_ih, W_hh, b_ih, zero), "b_hh is missing: torch keeps two biases, add both"),
             ((W_ih, W_hh, zero, b_hh), "b_ih is missing: torch keeps two biases, add both")]
    if W_hh.shape[0] == W_hh.shape[1]:
        tries.append(((W_ih, W_hh.T, b_ih, b_hh), "you multiplied by W_hh where (1) has W_hhᵀ: "
                      "h_prev @ W_hh.T is (N, H)(H, H)"))
    for order in itertools.permutations(range(cell.G)):
        if cell.G > 1 and order != tuple(range(cell.G)):
            blocks = " | ".join(cell.gates[k] for k in np.argsort(order))
            tries.append((_permuted(p.weights, order, H),
                          f"your code reads the gate blocks in the order {blocks}; torch's "
                          f"order is {_GATE_ORDER[cell.name]}"))
    for weights, hint in tries:
        states = ref_step_forward(p.x, *p.prev, *weights)[:-1]
        if all(_same(g, w) for g, w in zip(got, states)):
            return lines + [f"  {hint}"]
    s = ref_cache
    if cell.name == "lstm" and right == ["c"]:
        return lines + ["  c is right, so the gates are: check (5) h = o ⊙ tanh(c_t)"]
    if cell.name == "gru":
        if _same(got[0], s.z * s.n + (1 - s.z) * s.h_prev):
            return lines + ["  z and 1 − z are swapped: (5) h = (1 − z) ⊙ n + z ⊙ h_prev"]
        gi_n = p.x @ W_ih[2 * H:].T + b_ih[2 * H:]
        n_paper = np.tanh(gi_n + (s.r * s.h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])
        if _same(got[0], (1 - s.z) * n_paper + s.z * s.h_prev):
            return lines + ["  that is the paper's n, tanh(gi_n + (r ⊙ h_prev) W_hnᵀ + b_hn); "
                            "torch's (4) applies r after the product: "
                            "r ⊙ (h_prev W_hnᵀ + b_hn)"]
    return lines + [f"  go through equations {cell.forward_eqs} one at a time, printing the "
                    "shape and a few numbers of each intermediate"]


# ---- step backward -------------------------------------------------------------------------

_GATE_HINTS = {
    "lstm": {"i": "di = dc_t ⊙ g, then da_i = di ⊙ i(1 − i)",
             "f": "df = dc_t ⊙ c_prev (the cell state before this step, not c_t), then "
                  "da_f = df ⊙ f(1 − f)",
             "g": "dg = dc_t ⊙ i, then da_g = dg ⊙ (1 − g²)",
             "o": "do = dh ⊙ tanh(c_t), then da_o = do ⊙ o(1 − o)"},
    "gru": {"r": "dr = da_n ⊙ gh_n (gh_n = h_prev W_hnᵀ + b_hn, bias included), then "
                 "da_r = dr ⊙ r(1 − r)",
            "z": "dz = dh ⊙ (h_prev − n), then da_z = dz ⊙ z(1 − z)",
            "n": "dn = dh ⊙ (1 − z), then da_n = dn ⊙ (1 − n²)"},
}


def _wrong_blocks(cell, got, want, key, H):
    """The gates whose block of rows of ``got[key]`` differs from ``want[key]``."""
    return [gate for k, gate in enumerate(cell.gates)
            if not _same(got[key][k * H:(k + 1) * H], want[key][k * H:(k + 1) * H])]


def step_backward(cell, p, name, got, want, errors, tol, against):
    line, wrong, right = verdict(name, errors, tol, against)
    lines = [line]
    N, H = p.x.shape[0], p.prev[0].shape[1]
    for q in wrong:
        hint = _generic(q, got, want, N)
        if hint:
            return lines + [hint]
    s = reference.functions(cell)[0](p.x, *p.prev, *p.weights)[-1]
    dh = p.d_out[0]
    grads_wrong = [q for q in wrong if q.startswith(("dW", "db"))]
    if cell.name == "srn":
        da = dh * (1 - s.h ** 2)
        if "dh_prev" in wrong and _same(got["dh_prev"], da @ p.weights[1].T):
            return lines + ["  dh_prev = da W_hh, not da W_hhᵀ: the forward multiplies by "
                            "W_hhᵀ, so the backward multiplies by W_hh (1')"]
        if {"dx", "dh_prev", "db_ih"} <= set(wrong):
            return lines + ["  everything that goes through da is wrong: "
                            "(2') da = dh ⊙ (1 − h²), with h this step's output "
                            "(tanh' = 1 − tanh²)"]
    if cell.name == "lstm":
        blocks = sorted(set(_wrong_blocks(cell, got, want, "db_ih", H))
                        | set(_wrong_blocks(cell, got, want, "dW_ih", H)), key=cell.gates.index)
        if blocks == ["i", "f", "o"] and "dc_prev" in right:
            return lines + ["  the blocks of the three σ gates i, f, o are wrong and g's is "
                            "right: σ'(a) = σ(a)(1 − σ(a)), from the gate's output: "
                            "i(1 − i)"]
        if blocks == ["i", "f", "g"] or (blocks and "dc_prev" in wrong and blocks != ["o"]):
            return lines + ["  dc_t is wrong: (5') dc_t = dc + dh ⊙ o ⊙ (1 − tanh²(c_t)), "
                            "the dc from step t+1 plus the path through h_t"]
        if blocks:
            return lines + [f"  the gate block{'s' if len(blocks) > 1 else ''} of "
                            f"{', '.join(blocks)} (in da) {'are' if len(blocks) > 1 else 'is'} "
                            "wrong, the others are right:"] + [
                f"    {_GATE_HINTS['lstm'][g]}" for g in blocks]
        if wrong == ["dc_prev"]:
            return lines + ["  dc_prev = dc_t ⊙ f (4'): the cell path is f times the total dc_t"]
    if cell.name == "gru":
        if "dh_prev" in wrong and _same(got["dh_prev"], want["dh_prev"] - dh * s.z):
            return lines + ["  dh_prev misses the direct path of (5): "
                            "dh_prev = dh ⊙ z + dgh W_hh"]
        blocks = sorted(set(_wrong_blocks(cell, got, want, "db_ih", H))
                        | set(_wrong_blocks(cell, got, want, "dW_ih", H)), key=cell.gates.index)
        if blocks:
            return lines + [f"  the gate block{'s' if len(blocks) > 1 else ''} of "
                            f"{', '.join(blocks)} (in dgi) {'are' if len(blocks) > 1 else 'is'}"
                            " wrong, the others are right:"] + [
                f"    {_GATE_HINTS['gru'][g]}" for g in blocks]
        if _wrong_blocks(cell, got, want, "db_hh", H) == ["n"]:
            return lines + ["  dgh's n block is r ⊙ da_n: r multiplies gh_n in (4)"]
    if "dx" in right and "dh_prev" in wrong:
        extra = " plus dh ⊙ z, the direct path of (5)" if cell.name == "gru" else ""
        return lines + [f"  dx is right, so da is right; dh_prev is wrong: "
                        f"dh_prev = da W_hh{extra} (1'), (N, G·H)(G·H, H)"]
    if "dh_prev" in right and "dx" in wrong:
        return lines + ["  dh_prev is right, so da is right; dx is wrong: dx = da W_ih (1')"]
    if grads_wrong and not set(wrong) - set(grads_wrong):
        return lines + [f"  da is right (dx and dh_prev are), so check {', '.join(grads_wrong)}: "
                        "dW_ih = daᵀ x, dW_hh = daᵀ h_prev, db = Σ_n da, the sum over the "
                        "batch"]
    return lines + ["  work backwards through the equations from the end, comparing each "
                    "intermediate with a finite difference of your forward"]


# ---- sequence forward ----------------------------------------------------------------------

def forward(cell, p, name, got, want, errors, tol):
    line, wrong, right = verdict(name, errors, tol)
    lines = [line]
    T = p.xs.shape[0]
    tries = [(False, "every step starts from the initial state: pass the state step t returns "
                     "to step t+1")]
    if cell.name == "lstm":
        tries += [("c", "c is not carried: step t+1 must get the c that step t returned"),
                  ("h", "h is not carried: step t+1 must get the h that step t returned")]
    for carry, hint in tries:
        y, states, _ = reference.run_forward(cell, p.xs, p.states0, p.weights, carry=carry)
        if _same(got["y"], y):
            return lines + [f"  {hint}"]
    y, gy = want["y"], got["y"]
    if _same(gy[1:], y[:-1]):
        return lines + ["  y is shifted by one step: y[t] must be the h that step t returns "
                        "(store h after the step, not before)"]
    steps = [t for t in range(T) if not _same(gy[t], y[t])]
    if "y" in wrong and steps and steps[0] > 0:
        return lines + [f"  y is right up to t = {steps[0] - 1} and wrong from t = {steps[0]}: "
                        "does your loop visit every t in range(T)?"]
    if wrong == ["y"]:
        return lines + ["  h_n is right but y is not: y[t] must be the h that step t returns"]
    hints = {"h_n": "h_n is the h after the last step, y[T−1]",
             "c_n": "c_n is the c after the last step"}
    return lines + [f"  {hints[q]}" for q in wrong if q in hints]


# ---- sequence backward ---------------------------------------------------------------------

def backward(cell, p, name, got, want, errors, tol):
    line, wrong, right = verdict(name, errors, tol)
    lines = [line]
    T = p.xs.shape[0]
    eq = "(3')" if cell.name == "srn" else "(6')"
    sum_eq = "(4')" if cell.name == "srn" else "(7')"
    _, _, caches = reference.run_forward(cell, p.xs, p.states0, p.weights)
    state_q = ["dx"] + [f"d{s}0" for s in cell.states]
    hypotheses = [("h", f"dh_next is not carried: at step t, dh = dy[t] + dh_next, where dh_next "
                        f"is the dh_prev that step t+1 returned (it starts as dh_n) {eq}"),
                  ("h0", "dh_n is ignored: start the carry with dh_next = dh_n, not zeros")]
    if cell.name == "lstm":
        hypotheses += [("c", "dc_next is not carried: step t must get the dc_prev that step t+1 "
                             f"returned (it starts as dc_n) {eq}"),
                       ("c0", "dc_n is ignored: start the carry with dc_next = dc_n, not zeros")]
    for lost, hint in hypotheses:
        dx, _, grads, _ = reference.run_backward(cell, caches, p.dy, p.d_final, lost=lost)
        if _same(got["dx"], dx) and all(_same(got[f"d{k}"], g) for k, g in grads.items()):
            return lines + [f"  {hint}"]
    for steps, hint in ((range(1, T), "your loop never visits t = 0, the first step: "
                         "loop over reversed(range(T))"),
                        (range(T - 1), f"your loop never visits t = T−1 = {T - 1}, the last "
                         "step: loop over reversed(range(T))")):
        _, _, grads, _ = reference.run_backward(cell, caches, p.dy, p.d_final, steps=steps)
        if all(_same(got[f"d{k}"], g) for k, g in grads.items()):
            return lines + [f"  {hint}"]
    _, _, _, per_step = reference.run_backward(cell, caches, p.dy, p.d_final)
    if not set(wrong) & set(state_q):
        out = [f"  {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong but "
               f"{', '.join(state_q)} are right: check the sum over time {sum_eq}"]
        for q in wrong:
            out.append(_sum_hint(q, got[q], per_step, q[1:], T))
        return lines + out
    gx, wx = got["dx"], want["dx"]
    bad_t = [t for t in range(T) if not _same(gx[t], wx[t])]
    if bad_t and bad_t[-1] < T - 1:
        return lines + [f"  dx is right at the last step and wrong at t = "
                        f"{', '.join(map(str, bad_t))}: the gradient carried back from step t+1 "
                        f"to step t (dh_next{', dc_next' if cell.name == 'lstm' else ''}) is "
                        f"wrong {eq}"]
    if T > 1 and (_same(gx[:-1], wx[1:]) or _same(gx[1:], wx[:-1])):
        return lines + ["  dx is shifted by one step in time: dx[t] belongs to the step that "
                        "read x[t], whose cache is the t-th"]
    if "dx" in right:
        return lines + [f"  dx is right; the d…0 are what the loop carries out of step 0: "
                        f"return the dh_next{' and dc_next' if cell.name == 'lstm' else ''} "
                        "left after the loop"]
    return lines + [f"  every step's dh must be dy[t] + dh_next {eq}; compare your loop with "
                    "the equations line by line"]


def _sum_hint(q, g, per_step, key, T):
    shares = [s[key] for s in per_step]
    total = sum(shares)
    if _same(g, shares[0]):
        return (f"  {q} is step 0's share only, the last step your reversed loop visits: "
                f"= where += belongs (accumulate over every step)")
    if _same(g, shares[-1]):
        return f"  {q} is the last step's share only: add up the shares of all {T} steps"
    if _same(g, total / T):
        return f"  {q} is the mean over time: it is the sum of every step's share"
    for t in range(T):
        if _same(g, total - shares[t]):
            return f"  {q} misses the share of step t = {t}"
    return f"  {q} = Σ_t (step t's {q}): add each step's share once"
