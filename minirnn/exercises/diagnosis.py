"""What a wrong answer means: from which quantities are wrong and how, a hint.

Each function gets the student's values and the right ones as {quantity: array} and returns
the lines to print: a verdict ('✗ dW_hh is wrong (relative error 0.8); dx, dh_prev are
right'), then hints. A hint names a bug only when it has been verified: the equations are run
again with that one bug (a weight transposed, σ' taken as σ, the dc carry reset, the bias taken
from one row, ...) and the hint is shown only when that reproduces every one of the student's
numbers, or when it states a relation the checker has just measured (the transpose, the mean,
a shift by one step). When nothing is verified, it names the wrong quantities and the
equations that define them, nothing more.
"""
import ast
import itertools

import numpy as np

from . import reference

MATCH = 1e-7       # two arrays this close (relative) are "the same"
SMALL = 1e-4       # an error below this (and above the tolerance) is rounding-sized


def rel_error(a, b):
    """‖a − b‖ / max(‖a‖, ‖b‖), computed without overflow (both scaled by their largest entry
    first): 0 when both are zero, inf when either has a NaN or inf."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return np.inf
    m = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    if m == 0:
        return 0.0
    a, b = a / m, b / m
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b)))


def _same(a, b):
    return np.shape(a) == np.shape(b) and rel_error(a, b) < MATCH


def verdict(name, errors, tol, against="the textbook's"):
    wrong = [q for q, e in errors.items() if not e <= tol]
    right = [q for q in errors if q not in wrong]
    many = len(wrong) > 1
    line = (f"✗ {name}: {', '.join(wrong)} {'are' if many else 'is'} wrong (relative "
            f"error{'s' if many else ''} {', '.join(f'{errors[q]:.2g}' for q in wrong)}, "
            f"against {against})")
    if right:
        line += f"; {', '.join(right)} {'is' if len(right) == 1 else 'are'} right"
    return line, wrong, right


def _rounding(errors, wrong):
    """A line for errors that are wrong but tiny: the size of float32 rounding."""
    worst = max(errors[q] for q in wrong)
    if worst < SMALL:
        return [f"  the error is small ({worst:.1g}): the size float32 rounding leaves (about "
                "7 digits), while a wrong equation usually gives errors near 1; if anything "
                "in your code is float32, keep it float64"]
    return []


# ---- shapes --------------------------------------------------------------------------------

def _equations(cell, p):
    """{function name: {quantity: (its equation with this problem's shapes, whether the
    equation transposes a weight)}} for the products of each step function."""
    (T, N, D), H, G = p.xs.shape, p.prev[0].shape[1], cell.G
    sf, sb, _, _ = cell.functions
    rows, gru = (N, G * H), cell.name == "gru"
    g, gh = ("dgi", "dgh") if gru else ("da", "da")
    xw = f"{(N, D)}{(D, G * H)} -> {rows}"
    hw = f"{(N, H)}{(H, G * H)} -> {rows}"
    if gru:
        forward = {"gi": (f"(1) gi = x W_ihᵀ + b_ih: x W_ihᵀ is {xw}", True),
                   "gh": (f"(2) gh = h_prev W_hhᵀ + b_hh: h_prev W_hhᵀ is {hw}", True)}
    else:
        forward = {"a": (f"(1) a = x W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh: x W_ihᵀ is {xw}, "
                         f"h_prev W_hhᵀ is {hw}", True)}
    backward = {
        "dx": (f"(1') dx = {g} W_ih is {rows}{(G * H, D)} -> {(N, D)}", False),
        "dh_prev": (f"(1') dh_prev = {'dh ⊙ z + ' if gru else ''}{gh} W_hh is "
                    f"{rows}{(G * H, H)} -> {(N, H)}", False),
        "dW_ih": (f"(1') dW_ih = {g}ᵀ x is {(G * H, N)}{(N, D)} -> {(G * H, D)}", False),
        "dW_hh": (f"(1') dW_hh = {gh}ᵀ h_prev is {(G * H, N)}{(N, H)} -> {(G * H, H)}", False)}
    return {sf: forward, sb: backward}


def _target(line):
    """(the name a line of code assigns, whether its right side transposes a W...), or
    (None, False)."""
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return None, False
    node = tree.body[0] if tree.body else None
    if isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        transposes = any(isinstance(n, ast.Attribute) and n.attr == "T" and "W" in ast.unparse(
            n.value) for n in ast.walk(node.value))
        return (names[0] if names else None), transposes
    return None, False


def error_lines(cell, p, name, info):
    """Hint lines for a NumPy shape error raised in ``name``: this problem's sizes, the
    equation of the quantity the failing line assigns (when it is one of the exercise's),
    with its shapes, and every product of the function; () for other errors."""
    if info["kind"] != "error" or not any(w in info["message"] for w in ("shape", "mismatch",
                                                                           "broadcast")):
        return ()
    (T, N, D), H, G = p.xs.shape, p.prev[0].shape[1], cell.G
    sizes = f"  here N = {N}, D = {D}, H = {H}" + (f" ({cell.GH} = {G * H})" if G > 1 else "")
    if name in cell.functions[2:]:
        source = ("x", "D", "y", "h") if name == cell.functions[2] else ("dy", "H", "dx", "dx_t")
        width = D if name == cell.functions[2] else H
        out = D if name == cell.functions[3] else H
        return (f"{sizes}, T = {T}",
                f"  {source[0]} is {(T, N, width)}: {source[0]}[t] is {(N, width)}; "
                f"{source[2]} stacks T = {T} arrays {source[3]} {(N, out)} into {(T, N, out)}")
    equations = _equations(cell, p)[name]
    target, transposes = _target(info.get("line", ""))
    lines = [sizes]
    if target in equations:
        equation, transposed = equations[target]
        lines.append(f"  your line computes {target}: {equation}")
        if transposes and not transposed:
            lines.append(f"  it transposes a weight, and {equation.split(' is ')[0]} has no "
                         "transpose")
    lines += [f"  {equation}" for q, (equation, _) in equations.items() if q != target]
    return tuple(lines)


def shape_hint(label, got, shape, p):
    """Lines for an array of the wrong shape, from its shape alone (facts, not guesses)."""
    (T, N, D), H = p.xs.shape, p.prev[0].shape[1]
    if label.startswith("grads['b") and got == (N,) + tuple(shape):
        return [f"  {label} has one row per example: a bias is added to every row of the "
                "batch, so (1') its gradient is the sum over the batch (axis 0) of the rows"]
    if label.startswith("grads['W") and got == tuple(reversed(shape)):
        return [f"  {label} is transposed: (1') dW = daᵀ x has W's shape {shape}"]
    if label in ("y", "dx") and len(got) == 3 and got[0] != T and got[1:] == tuple(shape[1:]):
        named = {N: "N, the batch size", D: "D, the input size", H: "H, the hidden size"}
        what = named.get(got[0])
        if what:
            source = "x" if label == "y" else "dy"
            return [f"  {label} has {got[0]} steps = {what}, where {source} has T = {T}: "
                    f"{source} is (T, N, {'D' if label == 'y' else 'H'}), time is axis 0, "
                    f"so T = {source}.shape[0]"]
    return ["  write the shape of every array next to it, as in the docstring"]


def step_backward_shape(cell, p, label, value):
    """Verified lines for a step backward output of the wrong shape: ``value`` equals what a
    known mistake computes from the right intermediate gradients; None if none does."""
    right = _step_backward(cell, p)
    da, dgh = right["_da"], right["_dgh"]
    x, h_prev = p.x, p.prev[0]
    W_ih, W_hh = p.weights[:2]
    g = "dgi" if cell.name == "gru" else "da"
    gh = "dgh" if cell.name == "gru" else "da"
    candidates = {
        "dx": [(da @ W_hh, f"dx is {g} W_hh: (1') dx = {g} W_ih, with W_ih (the input's weight)")],
        "dh_prev": [(dgh @ W_ih, f"dh_prev is {gh} W_ih: (1') dh_prev = {gh} W_hh")],
        "grads['W_ih']": [(x.T @ da, f"dW_ih is xᵀ {g}, the transpose: (1') dW_ih = {g}ᵀ x")],
        "grads['W_hh']": [(h_prev.T @ dgh, f"dW_hh is h_prevᵀ {gh}, the transpose: "
                                           f"(1') dW_hh = {gh}ᵀ h_prev")],
        "grads['b_ih']": [(da.sum(axis=1), f"db_ih sums each row of {g} (axis 1): (1') sums "
                                           f"over the batch, {g}.sum(axis=0)")],
        "grads['b_hh']": [(dgh.sum(axis=1), f"db_hh sums each row of {gh} (axis 1): (1') sums "
                                            f"over the batch, {gh}.sum(axis=0)")],
    }
    for want, hint in candidates.get(label, ()):
        if _same(value, want):
            return [f"  {hint}"]
    return None


# ---- one step, computed here with an optional bug, for verified hints ----------------------

def _sig(u):
    return 1 / (1 + np.exp(-u))


def _forward_parts(cell, p):
    x, h_prev = p.x, p.prev[0]
    W_ih, W_hh, b_ih, b_hh = p.weights
    H = h_prev.shape[1]
    if cell.name == "gru":
        gi, gh = x @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
        r = _sig(gi[:, :H] + gh[:, :H])
        z = _sig(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return dict(gi=gi, gh=gh, r=r, z=z, n=n, h=(1 - z) * n + z * h_prev)
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    if cell.name == "srn":
        return dict(a=a, h=np.tanh(a))
    i, f, o = _sig(a[:, :H]), _sig(a[:, H:2 * H]), _sig(a[:, 3 * H:])
    g = np.tanh(a[:, 2 * H:3 * H])
    c = f * p.prev[1] + i * g
    return dict(a=a, i=i, f=f, g=g, o=o, c=c, h=o * np.tanh(c))


def _step_backward(cell, p, bug=None):
    """The step backward of ``cell`` on problem ``p``, with ``bug`` (a key of _STEP_BUGS) or
    none: {quantity: array}, plus '_da' (dgi for the GRU) and '_dgh' (da for the others)."""
    s, x, h_prev = _forward_parts(cell, p), p.x, p.prev[0]
    W_ih, W_hh = p.weights[:2]
    H, dh = h_prev.shape[1], p.d_out[0]

    def dsig(y):
        return {"dsig_is_sig": y, "dsig_twice": _sig(y) * (1 - _sig(y))}.get(bug, y * (1 - y))

    out = {}
    if cell.name == "srn":
        da = {"no_tanh_prime": dh, "tanh_prime_of_a": dh * (1 - s["a"] ** 2)}.get(
            bug, dh * (1 - s["h"] ** 2))
        dgh = da
        out["dh_prev"] = da @ (W_hh.T if bug == "dh_prev_transposed" else W_hh)
    elif cell.name == "lstm":
        dc_next, c_prev = p.d_out[1], p.prev[1]
        i, f, g, o, c = s["i"], s["f"], s["g"], s["o"], s["c"]
        tc = np.tanh(c)
        do = dh * (c if bug == "do_uses_c" else tc)                                   # (5')
        dc = {"dc_dropped": dh * o * (1 - tc ** 2), "dh_path_dropped": dc_next,
              "tanh_prime_of_c": dc_next + dh * o * (1 - c ** 2),
              "o_dropped": dc_next + dh * (1 - tc ** 2)}.get(bug, dc_next + dh * o * (1 - tc ** 2))
        df = dc * (c if bug == "df_uses_c" else c_prev)                               # (4')
        out["dc_prev"] = (dc_next if bug == "dc_prev_uses_dc" else dc) * f
        da = np.concatenate([dc * g * dsig(i), df * dsig(f), dc * i * (1 - g ** 2),
                             do * dsig(o)], axis=1)
        dgh = da
        out["dh_prev"] = da @ W_hh
    else:
        r, z, n, gh = s["r"], s["z"], s["n"], s["gh"]
        gh_n = gh[:, 2 * H:] - (p.weights[3][2 * H:] if bug == "dr_without_b_hn" else 0)
        dn = dh * (z if bug == "dn_uses_z" else 1 - z)
        dz = dh * ((n - h_prev) if bug == "dz_sign" else (h_prev - n))
        da_n = dn * (1 - n ** 2)
        da_r = da_n * gh_n * dsig(r)
        da_z = dz * dsig(z)
        da = np.concatenate([da_r, da_z, da_n], axis=1)
        dgh = np.concatenate([da_r, da_z, da_n if bug == "dgh_n_without_r" else r * da_n],
                             axis=1)
        out["dh_prev"] = (0 if bug == "no_direct_path" else dh * z) + dgh @ W_hh
    out["dx"] = da @ W_ih
    out.update(dW_ih=da.T @ x, dW_hh=dgh.T @ h_prev, db_ih=da.sum(axis=0),
               db_hh=dgh.sum(axis=0), _da=da, _dgh=dgh)
    return out


_STEP_BUGS = {
    "srn": {
        "dh_prev_transposed": "dh_prev = da W_hh, not da W_hhᵀ: the forward multiplies by "
                              "W_hhᵀ, so the backward multiplies by W_hh (1')",
        "no_tanh_prime": "da = dh: the tanh' factor is missing, (2') da = dh ⊙ (1 − h²)",
        "tanh_prime_of_a": "da = dh ⊙ (1 − a²): tanh' comes from the output, (2') "
                           "da = dh ⊙ (1 − h²) with h = tanh(a)",
    },
    "lstm": {
        "dsig_is_sig": "σ' is taken as σ: (3')(2') σ'(a) = σ(a)(1 − σ(a)), from the gate's "
                       "output: i(1 − i)",
        "dsig_twice": "σ' is applied to the gate's output as if it were a: σ'(a) = i(1 − i) "
                      "from the output i = σ(a), not σ(i)(1 − σ(i)) (3')(2')",
        "dc_dropped": "dc is missing dc_next, the gradient from step t+1: (5') dc = dc_next + "
                      "dh ⊙ o ⊙ (1 − tanh²(c_t))",
        "dh_path_dropped": "dc is missing the path through h_t: (5') dc = dc_next + dh ⊙ o ⊙ "
                           "(1 − tanh²(c_t))",
        "tanh_prime_of_c": "dc uses 1 − c_t²: tanh' of c_t is 1 − tanh²(c_t), (5')",
        "o_dropped": "dc's path through h_t is missing o: (5') dc = dc_next + dh ⊙ o ⊙ "
                     "(1 − tanh²(c_t))",
        "do_uses_c": "do = dh ⊙ c_t: (5') do = dh ⊙ tanh(c_t)",
        "df_uses_c": "df = dc ⊙ c_t: (4') df = dc ⊙ c_{t-1}, the cell state before this step",
        "dc_prev_uses_dc": "dc_prev = dc_next ⊙ f uses the incoming dc_next: (4') dc_prev = "
                           "dc ⊙ f, with dc from (5')",
    },
    "gru": {
        "no_direct_path": "dh_prev misses the direct path of (5): dh_prev = dh ⊙ z + dgh W_hh",
        "dgh_n_without_r": "dgh's n block is da_n: r multiplies gh_n in (4), so (2')(1') it "
                           "is r ⊙ da_n",
        "dr_without_b_hn": "dr = da_n ⊙ (h_prev W_hnᵀ), without the bias: gh_n includes b_hn, "
                           "(4') dr = da_n ⊙ gh_n",
        "dn_uses_z": "dn = dh ⊙ z: (5') dn = dh ⊙ (1 − z)",
        "dz_sign": "dz has the wrong sign: (5') dz = dh ⊙ (h_prev − n)",
        "dsig_is_sig": "σ' is taken as σ: (3') σ'(u) = σ(u)(1 − σ(u)), from the gate's "
                       "output: r(1 − r)",
        "dsig_twice": "σ' is applied to the gate's output as if it were its input: σ' = "
                      "r(1 − r) from the output r, not σ(r)(1 − σ(r))",
    },
}

_QUANTITY_EQS = {
    "dx": "(1') dx = {g} W_ih", "dh_prev": "(1') dh_prev = {gh} W_hh{z}",
    "dc_prev": "(4') dc_prev = dc ⊙ f", "dW_ih": "(1') dW_ih = {g}ᵀ x",
    "dW_hh": "(1') dW_hh = {gh}ᵀ h_prev", "db_ih": "(1') db_ih = Σ_n {g}",
    "db_hh": "(1') db_hh = Σ_n {gh}"}


def _quantity_eq(cell, q):
    gru = cell.name == "gru"
    return _QUANTITY_EQS[q].format(g="dgi" if gru else "da", gh="dgh" if gru else "da",
                                   z=" + dh ⊙ z" if gru else "")


# ---- step forward --------------------------------------------------------------------------

_GATE_ORDER = {"lstm": "i | f | g | o (rows 0:H are i, H:2H f, 2H:3H g, 3H:4H o)",
               "gru": "r | z | n (rows 0:H are r, H:2H z, 2H:3H n)"}


def _permuted(weights, order, H):
    """The weights with their gate blocks in ``order`` (a tuple of block indices)."""
    rows = np.concatenate([np.arange(k * H, (k + 1) * H) for k in order])
    return tuple(w[rows] for w in weights)


def step_forward(cell, p, name, got, want, errors, tol):
    line, wrong, right = verdict(name, errors, tol)
    lines = [line]
    H = p.prev[0].shape[1]
    W_ih, W_hh, b_ih, b_hh = p.weights
    zero = np.zeros_like(b_ih)
    ref_step_forward = reference.functions(cell)[0]
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
    s = _forward_parts(cell, p)
    if cell.name == "gru":
        if _same(got[0], s["z"] * s["n"] + (1 - s["z"]) * p.prev[0]):
            return lines + ["  z and 1 − z are swapped: (5) h = (1 − z) ⊙ n + z ⊙ h_prev"]
        gi_n = p.x @ W_ih[2 * H:].T + b_ih[2 * H:]
        n_paper = np.tanh(gi_n + (s["r"] * p.prev[0]) @ W_hh[2 * H:].T + b_hh[2 * H:])
        if _same(got[0], (1 - s["z"]) * n_paper + s["z"] * p.prev[0]):
            return lines + ["  that is the paper's n, tanh(gi_n + (r ⊙ h_prev) W_hnᵀ + b_hn); "
                            "torch's (4) applies r after the product: "
                            "r ⊙ (h_prev W_hnᵀ + b_hn)"]
    if cell.name == "lstm" and right == ["c"]:
        return lines + ["  c is right, so (1) to (4) are, except perhaps o: h's error is in "
                        "o = σ(a_o) (2) or in (5) h = o ⊙ tanh(c_t)"] + _rounding(errors, wrong)
    return lines + [f"  {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} computed by "
                    f"equations {cell.forward_eqs}: go through them one at a time, printing "
                    "the shape and a few numbers of each intermediate"] + _rounding(errors,
                                                                                    wrong)


# ---- step backward -------------------------------------------------------------------------

def _recovered(cell, got, p):
    """The da (dgi, dgh for the GRU) that the student's dW_ih and dW_hh were computed from by
    (1'), when they determine one (N <= D and N <= H) and it also gives their db, dx and
    dh_prev; else None."""
    x, h_prev = p.x, p.prev[0]
    N, D, H = x.shape[0], x.shape[1], h_prev.shape[1]
    if N > D or N > H:
        return None
    da = np.linalg.lstsq(x.T, got["dW_ih"].T, rcond=None)[0]           # daᵀ x = dW_ih
    dgh = np.linalg.lstsq(h_prev.T, got["dW_hh"].T, rcond=None)[0]     # dghᵀ h_prev = dW_hh
    W_ih, W_hh = p.weights[:2]
    direct = p.d_out[0] * _forward_parts(cell, p)["z"] if cell.name == "gru" else 0
    checks = [(da.T @ x, got["dW_ih"]), (dgh.T @ h_prev, got["dW_hh"]),
              (da.sum(axis=0), got["db_ih"]), (dgh.sum(axis=0), got["db_hh"]),
              (da @ W_ih, got["dx"]), (direct + dgh @ W_hh, got["dh_prev"])]
    if cell.name != "gru":
        checks.append((da, dgh))
    return (da, dgh) if all(_same(a, b) for a, b in checks) else None


def _bias_hints(cell, got, wrong, right_parts):
    """Verified hints for bias gradients taken from one example (row) instead of summed."""
    hints = {}
    for q, d in (("db_ih", right_parts["_da"]), ("db_hh", right_parts["_dgh"])):
        if q not in wrong:
            continue
        g = "dgi" if cell.name == "gru" and q == "db_ih" else (
            "dgh" if cell.name == "gru" else "da")
        for n in range(d.shape[0]):
            if _same(got[q], d[n]):
                hints[q] = (f"  {q} is row {n} of {g}, one example's share: a bias is added to "
                            f"every row of the batch, so {_quantity_eq(cell, q)}, "
                            f"{g}.sum(axis=0)")
    return hints


def step_backward(cell, p, name, got, want, errors, tol, against):
    line, wrong, right = verdict(name, errors, tol, against)
    lines = [line]
    N, H = p.x.shape[0], p.prev[0].shape[1]
    # 1. one known bug that reproduces every number the student returned
    for bug, hint in _STEP_BUGS[cell.name].items():
        bugged = _step_backward(cell, p, bug)
        if all(_same(got[q], bugged[q]) for q in got):
            return lines + [f"  {hint}"]
    # 2. a measured relation between a wrong array and the right one
    right_parts = _step_backward(cell, p)
    explained = _bias_hints(cell, got, wrong, right_parts)
    for q in wrong:
        if q not in explained:
            hint = _generic(q, got, want, N)
            if hint:
                explained[q] = hint
    if explained and set(explained) == set(wrong):
        return lines + [explained[q] for q in wrong]
    # 3. everything follows (1') from one da, which is wrong (in some gate blocks)
    recovered = _recovered(cell, got, p)
    if recovered is not None and cell.G == 1 and not _same(recovered[0], right_parts["_da"]):
        return lines + ["  all you return follows (1') from one da, and that da is wrong: "
                        "(2') da = dh ⊙ (1 − h²), with h this step's output"]
    if recovered is not None and cell.G > 1:
        g = "dgi" if cell.name == "gru" else "da"
        d_right = right_parts["_da"]
        blocks = [gate for k, gate in enumerate(cell.gates)
                  if not _same(recovered[0][:, k * H:(k + 1) * H], d_right[:, k * H:(k + 1) * H])]
        if blocks:
            many = len(blocks) > 1
            return lines + [
                f"  all you return follows (1') from one {g}, and its gate block"
                f"{'s' if many else ''} {', '.join(blocks)} {'are' if many else 'is'} wrong, "
                "the others right:"] + [f"    {_GATE_HINTS[cell.name][b]}" for b in blocks]
    # 4. nothing verified: the wrong quantities and their equations
    return lines + [explained[q] if q in explained else
                    f"  {q} is wrong: {_quantity_eq(cell, q)}" for q in wrong] + \
        _rounding(errors, wrong)


_GATE_HINTS = {
    "lstm": {"i": "(4') di = dc ⊙ g, then (3')(2') da_i = di ⊙ i(1 − i)",
             "f": "(4') df = dc ⊙ c_{t-1}, then (3')(2') da_f = df ⊙ f(1 − f)",
             "g": "(4') dg = dc ⊙ i, then (3')(2') da_g = dg ⊙ (1 − g²)",
             "o": "(5') do = dh ⊙ tanh(c_t), then (3')(2') da_o = do ⊙ o(1 − o)"},
    "gru": {"r": "(4') dr = da_n ⊙ gh_n (gh_n = h_prev W_hnᵀ + b_hn), then "
                 "(3') da_r = dr ⊙ r(1 − r)",
            "z": "(5') dz = dh ⊙ (h_prev − n), then (3') da_z = dz ⊙ z(1 − z)",
            "n": "(5') dn = dh ⊙ (1 − z), then (4') da_n = dn ⊙ (1 − n²)"},
}


def _generic(q, got, want, N):
    """A measured relation between one wrong array and the right one, or None."""
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


# ---- sequence forward ----------------------------------------------------------------------

def forward(cell, p, name, got, want, errors, tol):
    line, wrong, right = verdict(name, errors, tol)
    lines = [line]
    eq = "(3)" if cell.name == "srn" else "(6)"
    tries = [(False, "every step starts from the initial state: pass the state step t returns "
                     "to step t+1")]
    if cell.name == "lstm":
        tries += [("c", "c is not carried: step t+1 must get the c that step t returned"),
                  ("h", "h is not carried: step t+1 must get the h that step t returned")]
    for carry, hint in tries:
        y, states, _ = reference.run_forward(cell, p.xs, p.states0, p.weights, carry=carry)
        if _same(got["y"], y):
            return lines + [f"  {hint} {eq}"]
    y, gy = want["y"], got["y"]
    if _same(gy[1:], y[:-1]):
        return lines + ["  y is shifted by one step: y[t] must be the h that step t returns "
                        "(store h after the step, not before)"]
    steps = [t for t in range(len(y)) if not _same(gy[t], y[t])]
    if "y" in wrong and steps and steps[0] > 0:
        return lines + [f"  y is right up to t = {steps[0] - 1} and wrong from t = {steps[0]}: "
                        f"{eq} step t gets the states step t−1 returned, and y[t] is step t's h"]
    if wrong == ["y"]:
        return lines + [f"  y is wrong and the final states are right: {eq} y[t] is the h that "
                        "step t returns"]
    hints = {"h_n": f"h_n is the h after the last step, y[T−1] {eq}",
             "c_n": f"c_n is the c after the last step {eq}"}
    return lines + [f"  {hints[q]}" for q in wrong if q in hints] + _rounding(errors, wrong)


# ---- sequence backward ---------------------------------------------------------------------

def _bptt(cell, caches, dy, d_final, carry=None, steps=None):
    """BPTT over the textbook's step backward, with a bug in what the loop carries:
    ``carry`` = (state, how), how one of 'dropped' (dh = dy[t] only / dc = 0 at every step),
    'reset' (the first step visited gets dh_n / dc_n, every later one 0), 'constant' (every
    step gets dh_n / dc_n), 'start_zero' (the carry starts at 0, not dh_n / dc_n);
    ``steps``: the steps visited. Returns dx (T, N, D), the summed grads and per-step grads."""
    step_backward = reference.functions(cell)[1]
    T = len(caches)
    state, how = carry or (None, None)
    d_next = [np.zeros_like(d) if (s == state and how in ("start_zero", "dropped")) else d
              for s, d in zip(cell.states, d_final)]
    dx, grads, per_step = [None] * T, None, [None] * T
    for t in reversed(range(T)) if steps is None else steps:
        given = list(d_next)
        if state is not None:
            k = cell.states.index(state)
            if how == "constant":
                given[k] = d_final[k]
        dh = dy[t] + given[0]
        dx[t], *d_next, per_step[t] = step_backward(dh, *given[1:], caches[t])
        if state is not None and how in ("dropped", "reset"):
            k = cell.states.index(state)
            d_next[k] = np.zeros_like(d_next[k])
        grads = dict(per_step[t]) if grads is None else {k: grads[k] + per_step[t][k]
                                                          for k in grads}
    first = next(d for d in dx if d is not None)
    dx = np.stack([np.zeros_like(first) if d is None else d for d in dx])    # unvisited: 0
    return dx, grads, per_step


def backward(cell, p, name, got, want, errors, tol):
    line, wrong, right = verdict(name, errors, tol)
    lines = [line]
    T = p.xs.shape[0]
    eq = "(3')" if cell.name == "srn" else "(6')"
    sum_eq = "(4')" if cell.name == "srn" else "(7')"
    _, _, caches = reference.run_forward(cell, p.xs, p.states0, p.weights)
    state_q = ["dx"] + [f"d{s}0" for s in cell.states]
    carried = (f"at step t, dh = dy[t] + dh_next, where dh_next is the dh_prev that step t+1 "
               f"returned (it starts as dh_n) {eq}")
    hypotheses = [(("h", "dropped"), f"dh_next is not carried: {carried}"),
                  (("h", "reset"), f"dh_next is not carried: {carried}"),
                  (("h", "constant"), f"dh_next stays dh_n: {carried}"),
                  (("h", "start_zero"), "dh_n is ignored: start the carry with dh_next = dh_n, "
                                        f"not zeros {eq}")]
    if cell.name == "lstm":
        c_carried = (f"step t must get the dc_prev that step t+1 returned (it starts as dc_n) "
                     f"{eq}")
        hypotheses += [(("c", "dropped"), f"dc_next is set to zeros at every step: {c_carried}"),
                       (("c", "reset"), f"dc_next is set to zeros after each step: {c_carried}"),
                       (("c", "constant"), f"dc_next is not carried: {c_carried}"),
                       (("c", "start_zero"), "dc_n is ignored: start the carry with "
                                             f"dc_next = dc_n, not zeros {eq}")]
    for carry, hint in hypotheses:
        dx, grads, _ = _bptt(cell, caches, p.dy, p.d_final, carry=carry)
        if _same(got["dx"], dx) and all(_same(got[f"d{k}"], g) for k, g in grads.items()):
            return lines + [f"  {hint}"]
    for steps, hint in ((range(T - 1, 0, -1), "your loop never visits t = 0, the first step: "
                         "loop over reversed(range(T))"),
                        (range(T - 2, -1, -1), f"your loop never visits t = T−1 = {T - 1}, the "
                         "last step: loop over reversed(range(T))")):
        dx, grads, _ = _bptt(cell, caches, p.dy, p.d_final, steps=steps)
        if _same(got["dx"], dx) and all(_same(got[f"d{k}"], g) for k, g in grads.items()):
            return lines + [f"  {hint}"]
    _, _, per_step = _bptt(cell, caches, p.dy, p.d_final)
    if not set(wrong) & set(state_q):
        out = [f"  {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong but "
               f"{', '.join(state_q)} are right: check the sum over time {sum_eq}"]
        for q in wrong:
            out.append(_sum_hint(q, got[q], per_step, q[1:], T, sum_eq))
        return lines + out
    gx, wx = got["dx"], want["dx"]
    if T > 1 and (_same(gx[:-1], wx[1:]) or _same(gx[1:], wx[:-1])):
        return lines + ["  dx is shifted by one step in time: dx[t] belongs to the step that "
                        "read x[t], whose cache is the t-th"]
    bad_t = [t for t in range(T) if not _same(gx[t], wx[t])]
    if bad_t and bad_t[-1] < T - 1:
        return lines + [f"  dx is right at the last step and wrong at t = "
                        f"{', '.join(map(str, bad_t))}: check what your loop gives step t "
                        f"{eq}: dh = dy[t] + dh_next"
                        + (", the dc_next from step t+1" if cell.name == "lstm" else "")
                        + ", and cache[t]"]
    if "dx" in right:
        finals = [f"d{s}0" for s in cell.states if f"d{s}0" in wrong]
        return lines + [f"  dx is right; {', '.join(finals)} {'is' if len(finals) == 1 else 'are'}"
                        f" what the loop carries out of step 0 {eq}: the "
                        + " and ".join(f"d{s}_prev" for s in cell.states if f"d{s}0" in wrong)
                        + " that step 0 returns"]
    return lines + [f"  {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong: BPTT "
                    f"is {eq} (what each step gets from dy[t] and from step t+1) and {sum_eq} "
                    "(the sum over time); compare your loop with them line by line"] + \
        _rounding(errors, wrong)


def _sum_hint(q, g, per_step, key, T, sum_eq):
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
    return f"  {q} = Σ_t (step t's {q}) {sum_eq}: add each step's share once"
