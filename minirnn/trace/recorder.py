"""Record BPTT by running the textbook tier: every number ``minirnn trace`` shows.

``record`` runs the textbook's sequence forward and backward (``minirnn.textbook``) once and
watches them with ``sys.setprofile``: at every call of a step function it copies the
arguments, and when the step returns it copies its local variables and its return values.
Nothing is computed here that the textbook computes; the recorder only adds the loss (which
the textbook does not define) and the running sums Σ_t, formed in the order the textbook's
loop adds them (a test checks that the last one is the textbook's total).

Each quantity is found in the textbook's source with ``ast``: the statements that assign it
(or the ``return`` that hands it back), with their file, line and equation tag, so the page
shows the real source. The result is a plain dict of lists and numbers (JSON-ready), its
schema documented in docs/trace.md.
"""
import ast
import inspect
import os
import re
import sys
import textwrap
from contextlib import contextmanager

import numpy as np

from .. import textbook
from ..functional.loss import cross_entropy_backward, cross_entropy_forward
from .presets import CELLS, GATES, check_sizes

SCHEMA = "minirnn-trace/1"
LOSSES = {"sum": "L = Σ_t Σ_k h_{t,k}, the sum of every output; so dL/dy_t = 1 at every step",
          "last": "L = Σ_k h_{T,k}, the sum of the last output only; so dL/dy_t = 0 before T",
          "xent": "L = −log softmax(h_T)[target], a softmax cross-entropy on the last step "
                  "with its outputs as logits; dL/dy_T = softmax(h_T) − onehot(target)"}

# What the page steps through, per cell: (phase, equation tag, function, names shown, names
# used). phase 'forward' reads forward[t], 'backward' backward[t], 'sum' sums[t]; a name used
# is 'table.name' (params.W_ih, forward.x, backward.dh). The function is where the source
# lines are found: step_forward, step_backward, or backward (the sequence loop).
_W = ["params.W_ih", "params.W_hh", "params.b_ih", "params.b_hh"]
_GRADS = ["dW_ih", "dW_hh", "db_ih", "db_hh"]
EVENTS = {
    "srn": [
        ("forward", "(1)", "step_forward", ["a"], ["forward.x", "forward.h_prev", *_W]),
        ("forward", "(2)", "step_forward", ["h"], ["forward.a"]),
        ("backward", "(3')", "backward", ["dh"], ["backward.dy", "backward.dh_next"]),
        ("backward", "(2')", "step_backward", ["da"], ["backward.dh", "forward.h"]),
        ("backward", "(1')", "step_backward", ["dx", "dh_prev"],
         ["backward.da", "params.W_ih", "params.W_hh"]),
        ("backward", "(1')", "step_backward", _GRADS,
         ["backward.da", "forward.x", "forward.h_prev"]),
        ("sum", "(4')", "backward", _GRADS, []),
    ],
    "lstm": [
        ("forward", "(1)", "step_forward", ["a"], ["forward.x", "forward.h_prev", *_W]),
        ("forward", "(2)", "step_forward", ["i", "f", "o"], ["forward.a"]),
        ("forward", "(3)", "step_forward", ["g"], ["forward.a"]),
        ("forward", "(4)", "step_forward", ["c"],
         ["forward.f", "forward.c_prev", "forward.i", "forward.g"]),
        ("forward", "(5)", "step_forward", ["tanh_c", "h"], ["forward.o", "forward.c"]),
        ("backward", "(6')", "backward", ["dh"], ["backward.dy", "backward.dh_next"]),
        ("backward", "(5')", "step_backward", ["do", "dc"],
         ["backward.dh", "backward.dc_next", "forward.tanh_c", "forward.o"]),
        ("backward", "(4')", "step_backward", ["di", "df", "dg", "dc_prev"],
         ["backward.dc", "forward.g", "forward.c_prev", "forward.i", "forward.f"]),
        ("backward", "(2')", "step_backward", ["da"],
         ["backward.di", "backward.df", "backward.dg", "backward.do"]),
        ("backward", "(1')", "step_backward", ["dx", "dh_prev"],
         ["backward.da", "params.W_ih", "params.W_hh"]),
        ("backward", "(1')", "step_backward", _GRADS,
         ["backward.da", "forward.x", "forward.h_prev"]),
        ("sum", "(7')", "backward", _GRADS, []),
    ],
    "gru": [
        ("forward", "(1)", "step_forward", ["gi"], ["forward.x", "params.W_ih", "params.b_ih"]),
        ("forward", "(2)", "step_forward", ["gh"],
         ["forward.h_prev", "params.W_hh", "params.b_hh"]),
        ("forward", "(3)", "step_forward", ["r", "z"], ["forward.gi", "forward.gh"]),
        ("forward", "(4)", "step_forward", ["n"], ["forward.gi", "forward.r", "forward.gh_n"]),
        ("forward", "(5)", "step_forward", ["h"], ["forward.z", "forward.n", "forward.h_prev"]),
        ("backward", "(6')", "backward", ["dh"], ["backward.dy", "backward.dh_next"]),
        ("backward", "(5')", "step_backward", ["dn", "dz"],
         ["backward.dh", "forward.z", "forward.h_prev", "forward.n"]),
        ("backward", "(4')", "step_backward", ["da_n", "dr"],
         ["backward.dn", "forward.n", "forward.gh_n"]),
        ("backward", "(3')", "step_backward", ["da_r", "da_z"],
         ["backward.dr", "backward.dz", "forward.r", "forward.z"]),
        ("backward", "(1')", "step_backward", ["dgi", "dgh"],
         ["backward.da_r", "backward.da_z", "backward.da_n", "forward.r"]),
        ("backward", "(1')", "step_backward", ["dx", "dh_prev"],
         ["backward.dgi", "backward.dgh", "backward.dh", "forward.z", "params.W_ih",
          "params.W_hh"]),
        ("backward", "(1')", "step_backward", _GRADS,
         ["backward.dgi", "backward.dgh", "forward.x", "forward.h_prev"]),
        ("sum", "(7')", "backward", _GRADS, []),
    ],
}
# What each function hands back, by position (the rest of a step's numbers are its locals).
RETURNS = {"srn": {"step_forward": ["h", "cache"], "step_backward": ["dx", "dh_prev", "grads"]},
           "lstm": {"step_forward": ["h", "c", "cache"],
                    "step_backward": ["dx", "dh_prev", "dc_prev", "grads"]},
           "gru": {"step_forward": ["h", "cache"], "step_backward": ["dx", "dh_prev", "grads"]}}
MODULES = {"srn": textbook.rnn, "lstm": textbook.lstm, "gru": textbook.gru}
PREFIX = {"srn": "rnn", "lstm": "lstm", "gru": "gru"}


def functions(cell):
    """The textbook functions of ``cell``: step_forward, step_backward, forward, backward."""
    module, p = MODULES[cell], PREFIX[cell]
    return {role: getattr(module, f"{p}_{role}") for role in
            ("step_forward", "step_backward", "forward", "backward")}


# ---- watching the textbook run -------------------------------------------------------------

def _copy(value):
    """A copy of the arrays in ``value`` (a step's locals are reused later: copy them now)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: v.copy() for k, v in value.items() if isinstance(v, np.ndarray)}
    return None


@contextmanager
def watching(fns):
    """Within the block, every call of a function in ``fns`` ({role: function}) is appended
    to the yielded list as {'role', 'args', 'locals', 'returned'}: copies of the arrays among
    its arguments at the call, its locals and its return values (a tuple) at the return."""
    roles = {fn.__code__: role for role, fn in fns.items()}
    calls, open_calls = [], {}

    def profile(frame, event, arg):
        role = roles.get(frame.f_code)
        if role is None:
            return
        if event == "call":
            entry = {"role": role, "args": {k: _copy(v) for k, v in frame.f_locals.items()}}
            open_calls[id(frame)] = entry
            calls.append(entry)
        elif event == "return":
            entry = open_calls.pop(id(frame))
            entry["locals"] = {k: _copy(v) for k, v in frame.f_locals.items()}
            entry["returned"] = arg if isinstance(arg, tuple) else (arg,)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(previous)


def _named(call, cell):
    """A step call's numbers by name: its arguments, then its locals, then what it returned
    (the later wins: a returned h is the step's h). Batch axis (N = 1) dropped."""
    values = {}
    for k, v in {**call["args"], **call["locals"]}.items():
        if isinstance(v, np.ndarray):
            values[k] = v
    for name, v in zip(RETURNS[cell][call["role"]], call["returned"]):
        if isinstance(v, np.ndarray):
            values[name] = v.copy()
        elif isinstance(v, dict):                          # grads {"W_ih": ...}
            values.update({"d" + k: g.copy() for k, g in v.items()})
    return {k: (v[0] if v.ndim == 2 and v.shape[0] == 1 and not k.startswith("dW")
                and not k.startswith("W") else v) for k, v in values.items()}


# ---- the loss ------------------------------------------------------------------------------

def loss_sum(y, target):
    """L = Σ_t Σ_k h_{t,k} for the outputs y (T, H); returns L and dy = dL/dy (T, H)."""
    L = y.sum()
    dy = np.ones_like(y)                                    # dL/dy_t = 1 at every step
    return L, dy


def loss_last(y, target):
    """L = Σ_k h_{T,k}: the last step's outputs only; returns L and dy (T, H)."""
    L = y[-1].sum()
    dy = np.zeros_like(y)
    dy[-1] = 1                                              # dL/dy_T = 1, 0 before T
    return L, dy


def loss_xent(y, target):
    """L = −log softmax(h_T)[target], minirnn.functional.loss on the last step's outputs
    (the logits, H classes); returns L and dy (T, H)."""
    L, cache = cross_entropy_forward(y[-1:], np.array([target]), reduction="sum")
    dy = np.zeros_like(y)
    dy[-1] = cross_entropy_backward(1.0, cache)[0]          # softmax(h_T) − onehot(target)
    return L, dy


LOSS_FUNCTIONS = {"sum": loss_sum, "last": loss_last, "xent": loss_xent}


def loss_and_gradient(y, kind, target=0):
    """The loss L of the outputs y (T, H) and dy = dL/dy (T, H), for ``kind`` in LOSSES."""
    if kind not in LOSS_FUNCTIONS:
        raise ValueError(f"expected a loss in {', '.join(LOSSES)}, got {kind!r}")
    H = y.shape[1]
    if kind == "xent" and (H < 2 or not 0 <= target < H):
        raise ValueError(f"expected a network with at least 2 hidden units and a target in "
                         f"0..{H - 1} for the cross-entropy loss (its classes are the units "
                         f"of h_T), got H = {H} and target {target}")
    L, dy = LOSS_FUNCTIONS[kind](y, target)
    return float(L), dy


# ---- finding a quantity in the source -----------------------------------------------------

_TAG = re.compile(r"#.*?((?:\(\d+'?\))+)")
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _assigned(node):
    """The names a statement assigns: h = ..., di, df = ..., dh_prev += ..., grads[k] += ...
    (as 'Σ'), and the keys of a grads = {"W_ih": ...} dict (as 'dW_ih')."""
    targets = (node.targets if isinstance(node, ast.Assign) else
               [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
    names = []
    for target in targets:
        for t in (target.elts if isinstance(target, ast.Tuple) else [target]):
            if isinstance(t, ast.Name):
                names.append(t.id)
            elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                if isinstance(t.slice, ast.Constant) and isinstance(t.slice.value, str):
                    names.append("d" + t.slice.value)          # grads["b_ih"] = ...
                else:
                    names.append(t.value.id)                   # dy[-1] = ...
                    if t.value.id == "grads":                  # grads[name] = grads[name]
                        names.append("Σ")                      #     + step_grads[name]
    if isinstance(getattr(node, "value", None), ast.Dict):
        names += ["d" + k.value for k in node.value.keys
                  if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    return names


def source_lines(fn, names, returns=()):
    """Where ``fn`` computes each of ``names``: a list of {file, line, text, tag}, in source
    order, one per statement (every statement assigning a name; the return statement for a
    name it only hands back, ``returns`` giving the returned names by position)."""
    lines, first = inspect.getsourcelines(fn)
    path = os.path.relpath(inspect.getsourcefile(fn), _ROOT).replace(os.sep, "/")
    tree = ast.parse(textwrap.dedent("".join(lines)))
    found = {}
    for name in names:
        hits = [node for node in ast.walk(tree) if name in _assigned(node)]
        if not hits and name in returns:
            hits = [node for node in ast.walk(tree) if isinstance(node, ast.Return)]
        if not hits:
            raise LookupError(f"{fn.__module__}.{fn.__name__} computes no {name!r}: the "
                              f"trace's event table (minirnn/trace/recorder.py) needs updating")
        for node in hits:
            found[node.lineno] = node.end_lineno
    out = []
    for start in sorted(found):
        text = lines[start - 1:found[start]]
        tags = [m.group(1) for m in map(_TAG.search, text) if m]
        out.append({"file": path, "line": first + start - 1,
                    "text": textwrap.dedent("".join(text)).rstrip(), "tag": tags[0] if tags
                    else ""})
    return out


# ---- the recorder --------------------------------------------------------------------------

def _hidden(params):
    """H, the number of hidden units: W_hh's last dimension (0 when W_hh is not a matrix)."""
    W_hh = params.get("W_hh", ())
    return np.shape(W_hh)[-1] if np.ndim(W_hh) == 2 else 0


def _check(cell, params, x, h0, c0, loss):
    """Raise ValueError, naming what was expected, unless the arguments fit ``cell``."""
    if cell not in CELLS:
        raise ValueError(f"expected a cell in {', '.join(CELLS)}, got {cell!r}")
    if loss not in LOSSES:
        raise ValueError(f"expected a loss in {', '.join(LOSSES)}, got {loss!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected x of shape (T, D), got shape {x.shape}")
    (T, D), G, H = x.shape, GATES[cell], _hidden(params)
    check_sizes(H, D, T)
    shapes = dict(W_ih=(G * H, D), W_hh=(G * H, H), b_ih=(G * H,), b_hh=(G * H,))
    if set(params) != set(shapes):
        raise ValueError(f"expected params {sorted(shapes)}, got {sorted(params)}")
    states = dict(h0=h0, **({"c0": c0} if cell == "lstm" else {}))
    arrays = {**params, **states}
    for name, want in {**shapes, **{k: (H,) for k in states}}.items():
        if np.shape(arrays[name]) != want:
            raise ValueError(f"expected {name} of shape {want}, got {np.shape(arrays[name])}")
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    if not all(np.isfinite(v).all() for v in [x, *arrays.values()]):
        raise ValueError("expected finite numbers in x, the weights and the initial state")
    return x, arrays


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def record(cell, params, x, h0=None, c0=None, loss="sum", target=0, title=None):
    """Run the textbook's ``cell`` forward and BPTT on one sequence and record every number.

    cell 'srn', 'lstm' or 'gru'; params {W_ih (G·H, D), W_hh (G·H, H), b_ih (G·H,),
    b_hh (G·H,)}; x (T, D); h0 (H,) and, for the LSTM, c0 (H,) (None: zeros); loss one of
    LOSSES (target: the class of 'xent'). Returns the trace, a dict of plain lists and
    numbers whose schema docs/trace.md documents.
    """
    H = _hidden(params)
    h0 = np.zeros(H) if h0 is None else h0
    c0 = np.zeros(H) if (c0 is None and cell == "lstm") else c0
    x, a = _check(cell, params, x, h0, c0, loss)
    W = [a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"]]
    fns = functions(cell)
    T, D = x.shape
    states = [a["h0"][None]] + ([a["c0"][None]] if cell == "lstm" else [])

    # the forward: the textbook's sequence loop, watched
    with watching(fns) as calls:
        out = fns["forward"](x[:, None, :], *states, *W)
    caches, y = out[-1], out[0][:, 0, :]                  # y (T, H)
    forward = [_named(c, cell) for c in calls if c["role"] == "step_forward"]
    L, dy = loss_and_gradient(y, loss, target)

    # the backward: the textbook's BPTT loop, watched (it runs t = T..1)
    finals = [np.zeros((1, H))] * len(states)             # dL/dh_T, dL/dc_T from beyond: 0
    with watching(fns) as calls:
        back = fns["backward"](dy[:, None, :], *finals, caches)
    steps = [_named(c, cell) for c in calls if c["role"] == "step_backward"][::-1]
    for t, s in enumerate(steps):
        s["dy"] = dy[t]
        s["dh_next"] = steps[t + 1]["dh_prev"] if t + 1 < T else finals[0][0]
        if cell == "lstm":
            s["dc_next"] = steps[t + 1]["dc_prev"] if t + 1 < T else finals[1][0]
    sums, running = [None] * T, dict.fromkeys(_GRADS, 0)
    for t in reversed(range(T)):                          # Σ_t as the textbook's loop adds
        running = {k: running[k] + steps[t][k] for k in _GRADS}
        sums[t] = running

    # the events, with the source lines that compute each quantity
    events = [*_events(cell, "forward", fns, range(T)),
              {"id": "loss", "phase": "loss", "t": None, "tag": "", "show": ["loss.L"],
               "uses": ["loss.y_last" if loss != "sum" else "loss.y"],
               "lines": source_lines(LOSS_FUNCTIONS[loss], ["L", "dy"])},
              *_events(cell, "backward", fns, reversed(range(T)))]
    needed = {table: {n.split(".")[1] for e in events for n in e["show"] + e["uses"]
                      if n.split(".")[0] == table} for table in ("forward", "backward")}
    for table, rows in (("forward", forward), ("backward", steps)):
        for t, row in enumerate(rows):
            missing = {n.split(".")[1] for e in events if e["t"] == t + 1
                       for n in e["show"] + e["uses"] if n.split(".")[0] == table} - set(row)
            if missing:
                raise LookupError(f"the textbook's {cell} {table} step recorded no "
                                  f"{sorted(missing)}: the trace's event table needs updating")
    keep = lambda table, rows: [{k: v for k, v in row.items() if k in needed[table]}
                                for row in rows]
    trace = {
        "schema": SCHEMA, "cell": cell, "title": title or cell,
        "sizes": {"T": T, "D": D, "H": H, "G": GATES[cell]},
        "loss": {"kind": loss, "text": LOSSES[loss], "target": target if loss == "xent"
                 else None, "L": L, "y": y, "y_last": y[-1]},
        "params": {k: a[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")},
        "x": x, "h0": a["h0"], "c0": a.get("c0"), "dy": dy,
        "forward": keep("forward", forward), "backward": keep("backward", steps),
        "sums": sums,
        "output": {"y": y, "h_n": out[1][0], "c_n": out[2][0] if cell == "lstm" else None},
        "grads": {**{"d" + k: v for k, v in back[-1].items()}, "dx": back[0][:, 0, :],
                  "dh0": back[1][0], "dc0": back[2][0] if cell == "lstm" else None},
        "norms": {"dh": [float(np.linalg.norm(s["dh"])) for s in steps],
                  "dc": [float(np.linalg.norm(s["dc"])) for s in steps]
                  if cell == "lstm" else None},
        "events": events,
    }
    return _jsonable(trace)


def _events(cell, phase, fns, ts):
    """The events of one sweep, in the order the page shows them."""
    returns = RETURNS[cell]
    rows = [(p, tag, role, names, uses) for p, tag, role, names, uses in EVENTS[cell]
            if (p == "forward") == (phase == "forward")]
    lines = {i: source_lines(fns[role], ["Σ"] if p == "sum" else names, returns.get(role, ()))
             for i, (p, _, role, names, _) in enumerate(rows)}
    out = []
    for t in ts:
        for i, (p, tag, role, names, uses) in enumerate(rows):
            table = "sums" if p == "sum" else p
            out.append({"id": f"{'sum' if p == 'sum' else phase}-t{t + 1}-{names[0]}",
                        "phase": phase, "t": t + 1, "tag": tag,
                        "show": [f"{table}.{n}" for n in names], "uses": uses,
                        "lines": lines[i]})
    return out
