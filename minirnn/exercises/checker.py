"""The checker: a ladder of checks, each building on the one before, stopping at the first fail.

    1. signatures     the four functions exist and take the exercise's arguments
    2. step forward   shapes, then the values against the textbook tier
    3. step backward  against central finite differences of *your* step forward (float64)
    4. step backward  against the textbook tier
    5. sequence forward
    6. sequence backward (BPTT)

Every check uses random nonzero weights and biases (b_ih ≠ b_hh), nonzero initial states,
several steps and a different random upstream gradient on every output, so a term left out
cannot hide behind a zero. Caches are opaque: the checker only hands them back. When a check
fails, diagnosis.py says which quantity is wrong, by how much, and what that usually means.
"""
from dataclasses import dataclass

import numpy as np

from . import diagnosis, reference
from .cells import WEIGHTS
from .diagnosis import rel_error
from .student import NotWritten, Stop, call, check_signature, find_cell, load_file

REF_TOL = 1e-7     # relative error against the textbook: the same math in float64
FD_TOL = 1e-6      # against central differences with eps = 1e-6: typically 1e-10 .. 1e-8
EPS = 1e-6


@dataclass
class Problem:
    """The random numbers one check run uses (all float64)."""
    x: np.ndarray            # (N, D) one step's input
    prev: tuple              # h_prev (N, H) [, c_prev (N, H)]
    weights: tuple           # W_ih (G·H, D), W_hh (G·H, H), b_ih (G·H,), b_hh (G·H,)
    d_out: tuple             # upstream gradients of the step's h [, c]
    xs: np.ndarray           # (T, N, D) a sequence
    states0: tuple           # h0 [, c0]
    dy: np.ndarray           # (T, N, H)
    d_final: tuple           # dh_n [, dc_n]


def make_problem(cell, seed=0, N=3, D=4, H=5, T=4):
    rng = np.random.default_rng(seed)
    GH = cell.G * H

    def states():
        return tuple(rng.uniform(-0.9, 0.9, (N, H)) for _ in cell.states)

    weights = (0.5 * rng.standard_normal((GH, D)), 0.5 * rng.standard_normal((GH, H)),
               0.5 * rng.standard_normal(GH), 0.5 * rng.standard_normal(GH))
    return Problem(rng.standard_normal((N, D)), states(), weights, states(),
                   rng.standard_normal((T, N, D)), states(), rng.standard_normal((T, N, H)),
                   states())


# ---- the shapes of what a function returns -------------------------------------------------

def check_returns(name, out, spec, N):
    """Stop unless ``out`` is a tuple of the arrays ``spec`` lists, as [(label, shape)], with
    ('grads', {key: shape}) for a dict and ('cache', None) for anything."""
    labels = ", ".join(label for label, _ in spec)
    if not isinstance(out, tuple) or len(out) != len(spec):
        got = f"a tuple of {len(out)}" if isinstance(out, tuple) else type(out).__name__
        raise Stop(f"✗ {name} returned {got}; it should return ({labels})")
    for value, (label, shape) in zip(out, spec):
        if label == "grads":
            if not isinstance(value, dict) or set(shape) - set(value):
                have = sorted(value) if isinstance(value, dict) else type(value).__name__
                raise Stop(f"✗ {name}'s grads should be a dict with keys "
                           f"{', '.join(shape)}; it has {have}")
            for key, s in shape.items():
                _check_array(name, f"grads['{key}']", value[key], s, N)
        elif shape is not None:
            _check_array(name, label, value, shape, N)


def _check_array(name, label, value, shape, N):
    if not isinstance(value, np.ndarray):
        raise Stop(f"✗ {name}: {label} is a {type(value).__name__}, not a NumPy array of "
                   f"shape {shape}", "  np.stack(a_list) makes one array of a list of them")
    if value.shape != shape:
        raise Stop(f"✗ {name}: {label} has shape {value.shape}, expected {shape}",
                   diagnosis.shape_hint(label, value.shape, shape, N))


# ---- the rungs -----------------------------------------------------------------------------

class Ladder:
    """The checks for one cell's four student functions, in order."""

    def __init__(self, cell, functions, seed=0):
        self.cell, self.fns, self.p = cell, functions, make_problem(cell, seed)
        self.ref = reference.functions(cell)
        N, H = self.p.x.shape[0], self.p.prev[0].shape[1]
        D, T = self.p.x.shape[1], self.p.xs.shape[0]
        self.N, self.H, self.D, self.T = N, H, D, T
        self.grad_shapes = {k: w.shape for k, w in zip(WEIGHTS, self.p.weights)}

    def rungs(self):
        return [self.signatures, self.step_forward, self.step_backward_fd,
                self.step_backward_ref, self.forward, self.backward]

    def _call(self, k, *args):
        name = self.cell.functions[k]
        return call(name, self.fns[name], *args)

    def signatures(self):
        for name in self.cell.functions:
            check_signature(self.cell, name, self.fns[name])
        return f"signatures: {', '.join(self.cell.functions)} take the exercise's arguments"

    def _step_forward(self):
        name, (N, H) = self.cell.functions[0], (self.N, self.H)
        out = self._call(0, self.p.x, *self.p.prev, *self.p.weights)
        check_returns(name, out, [(s, (N, H)) for s in self.cell.states] + [("cache", None)], N)
        return out[:-1], out[-1]

    def step_forward(self):
        name = self.cell.functions[0]
        got, _ = self._step_forward()
        *want, ref_cache = self.ref[0](self.p.x, *self.p.prev, *self.p.weights)
        errors = {s: rel_error(g, w) for s, g, w in zip(self.cell.states, got, want)}
        if max(errors.values()) > REF_TOL:
            raise Stop(*diagnosis.step_forward(self.cell, self.p, name, got, want, errors,
                                               ref_cache, self.ref[0], REF_TOL))
        verb = "matches" if len(self.cell.states) == 1 else "match"
        return (f"{name}: {' and '.join(self.cell.states)} {verb} the textbook's "
                f"(relative error {max(errors.values()):.0e})")

    def _step_backward(self):
        """The student's step backward after a fresh step forward: {quantity: array}."""
        name, (N, H, D) = self.cell.functions[1], (self.N, self.H, self.D)
        _, cache = self._step_forward()
        out = self._call(1, *self.p.d_out, cache)
        spec = ([("dx", (N, D))] + [(f"d{s}_prev", (N, H)) for s in self.cell.states]
                + [("grads", self.grad_shapes)])
        check_returns(name, out, spec, N)
        return self._named(out, "_prev")

    def _named(self, out, suffix):
        names = ["dx"] + [f"d{s}{suffix}" for s in self.cell.states]
        return dict(zip(names, out[:-1]), **{f"d{k}": out[-1][k] for k in WEIGHTS})

    def step_backward_fd(self):
        name = self.cell.functions[1]
        got = self._step_backward()
        want = self._finite_differences()
        errors = {q: rel_error(got[q], want[q]) for q in got}
        if max(errors.values()) > FD_TOL:
            raise Stop(*diagnosis.step_backward(
                self.cell, self.p, name, got, want, errors, FD_TOL,
                against=f"central finite differences of your {self.cell.functions[0]}"))
        return (f"{name} agrees with finite differences of your {self.cell.functions[0]} "
                f"(relative error {max(errors.values()):.0e})")

    def _finite_differences(self):
        """∂L/∂(every input) of L = Σ d_out ⊙ (the step's outputs), by central differences
        of the student's own step forward (already checked against the textbook)."""
        inputs = [self.p.x, *self.p.prev, *self.p.weights]
        names = (["dx"] + [f"d{s}_prev" for s in self.cell.states]
                 + [f"d{k}" for k in WEIGHTS])

        def loss(args):
            outs = self._call(0, *args)[:-1]
            return sum(float(np.sum(u * o)) for u, o in zip(self.p.d_out, outs))

        grads = {}
        for k, (q, a) in enumerate(zip(names, inputs)):
            g = np.zeros_like(a)
            for j in np.ndindex(a.shape):
                plus, minus = a.copy(), a.copy()
                plus[j] += EPS
                minus[j] -= EPS
                g[j] = (loss(inputs[:k] + [plus] + inputs[k + 1:])
                        - loss(inputs[:k] + [minus] + inputs[k + 1:])) / (2 * EPS)
            grads[q] = g
        return grads

    def step_backward_ref(self):
        name = self.cell.functions[1]
        got = self._step_backward()
        ref_cache = self.ref[0](self.p.x, *self.p.prev, *self.p.weights)[-1]
        want = self._named(self.ref[1](*self.p.d_out, ref_cache), "_prev")
        errors = {q: rel_error(got[q], want[q]) for q in got}
        if max(errors.values()) > REF_TOL:
            raise Stop(*diagnosis.step_backward(self.cell, self.p, name, got, want, errors,
                                                REF_TOL, against="the textbook's"))
        return f"{name} matches the textbook's (relative error {max(errors.values()):.0e})"

    def _forward(self):
        name, (T, N, H) = self.cell.functions[2], (self.T, self.N, self.H)
        out = self._call(2, self.p.xs, *self.p.states0, *self.p.weights)
        spec = ([("y", (T, N, H))] + [(f"{s}_n", (N, H)) for s in self.cell.states]
                + [("cache", None)])
        check_returns(name, out, spec, N)
        return out[:-1], out[-1]

    def forward(self):
        name = self.cell.functions[2]
        got, _ = self._forward()
        want = self.ref[2](self.p.xs, *self.p.states0, *self.p.weights)[:-1]
        labels = ["y"] + [f"{s}_n" for s in self.cell.states]
        errors = {q: rel_error(g, w) for q, g, w in zip(labels, got, want)}
        if max(errors.values()) > REF_TOL:
            raise Stop(*diagnosis.forward(self.cell, self.p, name, dict(zip(labels, got)),
                                          dict(zip(labels, want)), errors, REF_TOL))
        return (f"{name}: {', '.join(labels)} match the textbook's over {self.T} steps "
                f"(relative error {max(errors.values()):.0e})")

    def backward(self):
        name, (T, N, H, D) = self.cell.functions[3], (self.T, self.N, self.H, self.D)
        _, cache = self._forward()
        out = self._call(3, self.p.dy, *self.p.d_final, cache)
        spec = ([("dx", (T, N, D))] + [(f"d{s}0", (N, H)) for s in self.cell.states]
                + [("grads", self.grad_shapes)])
        check_returns(name, out, spec, N)
        got = self._named(out, "0")
        ref_out = self.ref[3](self.p.dy, *self.p.d_final,
                              self.ref[2](self.p.xs, *self.p.states0, *self.p.weights)[-1])
        want = self._named(ref_out, "0")
        errors = {q: rel_error(got[q], want[q]) for q in got}
        if max(errors.values()) > REF_TOL:
            raise Stop(*diagnosis.backward(self.cell, self.p, name, got, want, errors,
                                           REF_TOL))
        return (f"{name}: dx, {', '.join(f'd{s}0' for s in self.cell.states)} and every "
                f"weight gradient match the textbook's over {self.T} steps "
                f"(relative error {max(errors.values()):.0e})")


# ---- running the ladder --------------------------------------------------------------------

def _print(line):
    try:
        print(line, flush=True)
    except UnicodeEncodeError:        # a console that cannot show ✓ ✗ ⊙
        print(line.encode("ascii", "replace").decode("ascii"), flush=True)


def _climb(cell, functions, seed):
    ladder = Ladder(cell, functions, seed)
    rungs = ladder.rungs()
    for k, rung in enumerate(rungs, 1):
        try:
            line = rung()
        except NotWritten as e:
            first = e.name == cell.functions[0]
            _print(f"✗ {k}. {e.name} is not written yet (it raises NotImplementedError)")
            _print(f"  {'start with' if first else 'next: write'} {e.name}"
                   + (f": equations {cell.forward_eqs} in the docstring, then check again"
                      if first else ", then check again"))
            return False
        except Stop as e:
            _print(e.lines[0].replace("✗ ", f"✗ {k}. ", 1))
            for line in e.lines[1:]:
                _print(line)
            _print(f"stopped at check {k} of {len(rungs)}: fix this, then check again")
            return False
        _print(f"✓ {k}. {line}")
    _print(f"all {len(rungs)} checks passed: your {cell.title} forward and BPTT backward "
           "are right")
    return True


def check_functions(namespace, seed=0, label="these functions"):
    """Check the exercise functions that ``namespace`` defines (a module, or a dict such as a
    notebook's ``globals()``), printing one line per check. True if every check passed."""
    if not isinstance(namespace, dict):
        namespace = vars(namespace)
    try:
        cell, functions = find_cell(namespace, label)
    except Stop as e:
        for line in e.lines:
            _print(line)
        return False
    _print(f"checking the {cell.title} exercise in {label}")
    return _climb(cell, functions, seed)


def check_file(path, seed=0):
    """Load the student's file and check it; True if every check passed."""
    try:
        module = load_file(path)
    except Stop as e:
        for line in e.lines:
            _print(line)
        return False
    return check_functions(module, seed, label=str(path))
