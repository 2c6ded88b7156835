"""The checker: a ladder of checks, each building on the one before, stopping at the first fail.

    1. signatures     the four functions exist and take the exercise's arguments
    2. step forward   shapes and dtypes, then the values against the textbook tier
    3. step backward  against central finite differences of *your* step forward (float64)
    4. step backward  against the textbook tier
    5. sequence forward
    6. sequence backward (BPTT)

Every check runs on two random problems whose sizes N, D, H, T are all different (a loop over
the wrong axis cannot pass), with nonzero weights and biases (b_ih ≠ b_hh), nonzero initial
states and a different random upstream gradient on every output, so a term left out cannot hide
behind a zero. Only finite float64 arrays of the right shape are compared, and a value passes
only if its relative error is <= the tolerance (NaN never is). Caches are opaque: the checker
only hands them back. A file runs in a child process with a time limit per check (student.py);
when a check fails, diagnosis.py says which quantity is wrong and, when it has verified one,
what the bug is.
"""
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import diagnosis, reference
from .cells import WEIGHTS
from .child import Foreign, type_name
from .diagnosis import rel_error
from .student import (Child, InProcess, Interrupted, NotWritten, Stop, check_signature,
                      find_cell)

REF_TOL = 1e-7     # relative error against the textbook: the same math in float64
FD_TOL = 1e-6      # against central differences with eps = 1e-6: typically 1e-10 .. 1e-8
EPS = 1e-6
IMPRECISE = 1e-12  # a float64 forward is this close to the textbook's, or closer
TIMEOUT = 5.0      # seconds per check (and for importing the file), by default
SIZES = ((3, 4, 5, 6), (4, 2, 3, 5))      # (N, D, H, T) of the two problems: all different


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

    @property
    def sizes(self):
        (T, N, D), H = self.xs.shape, self.prev[0].shape[1]
        return N, D, H, T


def make_problem(cell, seed=0, N=3, D=4, H=5, T=6):
    rng = np.random.default_rng(seed)
    GH = cell.G * H

    def states():
        return tuple(rng.uniform(-0.9, 0.9, (N, H)) for _ in cell.states)

    weights = (0.5 * rng.standard_normal((GH, D)), 0.5 * rng.standard_normal((GH, H)),
               0.5 * rng.standard_normal(GH), 0.5 * rng.standard_normal(GH))
    return Problem(rng.standard_normal((N, D)), states(), weights, states(),
                   rng.standard_normal((T, N, D)), states(), rng.standard_normal((T, N, H)),
                   states())


def make_problems(cell, seed=0):
    return [make_problem(cell, [seed, k], *sizes) for k, sizes in enumerate(SIZES)]


# ---- what a function returns: structure, shapes, dtypes, finite -----------------------------

def check_returns(name, out, spec, p, explain=None):
    """Stop unless ``out`` is a tuple of the arrays ``spec`` lists, as [(label, shape)], with
    ('grads', {key: shape}) for a dict and ('cache', None) for anything. ``explain(label,
    value)`` may give verified hint lines for an array of the wrong shape."""
    labels = ", ".join(label for label, _ in spec)
    if not isinstance(out, tuple) or len(out) != len(spec):
        got = f"a tuple of {len(out)}" if isinstance(out, tuple) else f"a {type_name(out)}"
        raise Stop(f"✗ {name} returned {got}; it should return ({labels})")
    for value, (label, shape) in zip(out, spec):
        if label == "grads":
            if not isinstance(value, dict) or set(shape) - set(value):
                have = sorted(value) if isinstance(value, dict) else f"a {type_name(value)}"
                raise Stop(f"✗ {name}'s grads should be a dict with keys "
                           f"{', '.join(shape)}; it has {have}")
            for key, s in shape.items():
                check_array(name, f"grads['{key}']", value[key], s, p, explain)
        elif shape is not None:
            check_array(name, label, value, shape, p, explain)


def check_array(name, label, value, shape, p, explain=None):
    """Stop unless ``value`` is a finite real float64 array of ``shape``."""
    if isinstance(value, Foreign) and value.shape != shape:
        raise Stop(f"✗ {name}: {label} has shape {value.shape}, expected {shape}",
                   "  write the shape of every array next to it, as in the docstring")
    if isinstance(value, Foreign) and value.type_name != "ndarray":
        raise Stop(f"✗ {name}: {label} is a {value.type_name} (a subclass of np.ndarray), "
                   "not a plain NumPy array", "  np.asarray(...) makes a plain array of it")
    if isinstance(value, Foreign):
        raise Stop(f"✗ {name}: {label} is an array of {value.dtype} (shape {value.shape}), "
                   f"not of float64 numbers", "  an array of strings or Python objects: "
                   "np.array of a list whose items have different shapes or types makes one")
    if not isinstance(value, np.ndarray):
        raise Stop(f"✗ {name}: {label} is a {type_name(value)}, not a NumPy array of "
                   f"shape {shape}", "  np.stack(a_list) makes one array of a list of them")
    if value.shape != shape:
        lines = (explain(label, value) if explain else None) or diagnosis.shape_hint(
            label, value.shape, shape, p)
        raise Stop(f"✗ {name}: {label} has shape {value.shape}, expected {shape}", *lines)
    if value.dtype.kind == "c":
        raise Stop(f"✗ {name}: {label} is complex ({value.dtype}); the right answer is real "
                   "float64", "  a complex number entered your computation; the checker "
                   "does not drop imaginary parts")
    if value.dtype in (np.float32, np.float16):
        raise Stop(f"✗ {name}: {label} is {value.dtype}, not float64: {value.dtype} keeps "
                   f"about {np.finfo(value.dtype).precision} digits, and these checks need "
                   "errors below 1e-7", "  keep every array float64 (look for float32, "
                   "astype or dtype= in your code); the equations may well be right")
    if value.dtype != np.float64:
        raise Stop(f"✗ {name}: {label} has dtype {value.dtype}, expected float64",
                   "  the inputs are float64, and so is every right answer")
    bad = int(np.count_nonzero(~np.isfinite(value)))
    if bad:
        raise Stop(f"✗ {name}: {label} contains NaN or inf ({bad} of {value.size} entries)",
                   "  an overflow (exp of a large number?) or 0/0 in your computation")


def _max_error(errors):
    """The largest error; NaN if any is NaN (so that `<= tol` fails)."""
    values = list(errors.values())
    return math.nan if any(math.isnan(e) for e in values) else max(values)


def _passes(errors, tol):
    return all(e <= tol for e in errors.values())


# ---- the rungs -----------------------------------------------------------------------------

class Ladder:
    """The checks for one cell's four student functions, in order, on every problem."""

    def __init__(self, cell, runner, seed=0, timeout=TIMEOUT):
        self.cell, self.runner, self.timeout = cell, runner, timeout
        self.problems = make_problems(cell, seed)
        self.ref = reference.functions(cell)
        self.deadline = math.inf

    def rungs(self):
        return [self.signatures, self.step_forward, self.step_backward_fd,
                self.step_backward_ref, self.forward, self.backward]

    def climb(self, rung):
        """Run one rung on every problem, with ``timeout`` seconds for all of it: the line
        to print, or Stop / NotWritten."""
        self.runner.reset()
        self.deadline = time.monotonic() + self.timeout
        if rung == self.signatures:
            return rung()
        errors = []
        for p in self.problems:
            self.runner.explain = (lambda name, info, p=p:
                                   diagnosis.error_lines(self.cell, p, name, info))
            text, error = rung(p)
            errors.append(error)
        return f"{text} (relative error {max(errors):.0e})"

    def _call(self, k, *args):
        name = self.cell.functions[k]
        return self.runner.call(name, args, self.deadline, self.timeout)

    def signatures(self):
        for name in self.cell.functions:
            check_signature(self.cell, name, self.runner.functions)
        return f"signatures: {', '.join(self.cell.functions)} take the exercise's arguments"

    def _step_forward(self, p):
        name, (N, D, H, T) = self.cell.functions[0], p.sizes
        out = self._call(0, p.x, *p.prev, *p.weights)
        check_returns(name, out, [(s, (N, H)) for s in self.cell.states] + [("cache", None)],
                      p)
        return out[:-1], out[-1]

    def step_forward(self, p):
        name = self.cell.functions[0]
        got, _ = self._step_forward(p)
        want = self.ref[0](p.x, *p.prev, *p.weights)[:-1]
        errors = {s: rel_error(g, w) for s, g, w in zip(self.cell.states, got, want)}
        if not _passes(errors, REF_TOL):
            raise Stop(*diagnosis.step_forward(self.cell, p, name, got, want, errors, REF_TOL))
        verb = "matches" if len(self.cell.states) == 1 else "match"
        return f"{name}: {' and '.join(self.cell.states)} {verb} the textbook's", \
            _max_error(errors)

    def _step_backward(self, p):
        """The student's step backward after a fresh step forward: {quantity: array}."""
        name, (N, D, H, T) = self.cell.functions[1], p.sizes
        _, cache = self._step_forward(p)
        out = self._call(1, *p.d_out, cache)
        spec = ([("dx", (N, D))] + [(f"d{s}_prev", (N, H)) for s in self.cell.states]
                + [("grads", {k: w.shape for k, w in zip(WEIGHTS, p.weights)})])
        check_returns(name, out, spec, p,
                      lambda label, value: diagnosis.step_backward_shape(self.cell, p, label,
                                                                         value))
        return self._named(out, "_prev")

    def _named(self, out, suffix):
        names = ["dx"] + [f"d{s}{suffix}" for s in self.cell.states]
        return dict(zip(names, out[:-1]), **{f"d{k}": out[-1][k] for k in WEIGHTS})

    def step_backward_fd(self, p):
        name = self.cell.functions[1]
        got = self._step_backward(p)
        want = self._finite_differences(p)
        errors = {q: rel_error(got[q], want[q]) for q in got}
        if not _passes(errors, FD_TOL):
            self._imprecise_forward(p, name, got, errors)
            raise Stop(*diagnosis.step_backward(
                self.cell, p, name, got, want, errors, FD_TOL,
                against=f"central finite differences of your {self.cell.functions[0]}"))
        return (f"{name} agrees with finite differences of your {self.cell.functions[0]}",
                _max_error(errors))

    def _imprecise_forward(self, p, name, got, errors):
        """Stop saying so when the finite differences are noise: the student's forward is
        far less precise than float64 (float32 inside it, say) while their backward agrees
        with the textbook's to about that precision, so the equations are not the problem."""
        states, _ = self._step_forward(p)
        right = self.ref[0](p.x, *p.prev, *p.weights)
        forward_error = max(rel_error(g, w) for g, w in zip(states, right[:-1]))
        want = self._named(self.ref[1](*p.d_out, right[-1]), "_prev")
        backward_error = _max_error({q: rel_error(got[q], want[q]) for q in got})
        if not (IMPRECISE <= forward_error <= REF_TOL and backward_error < diagnosis.SMALL):
            return
        forward = self.cell.functions[0]
        raise Stop(f"✗ {name} disagrees with finite differences of your {forward} (relative "
                   f"error {_max_error(errors):.2g}), but agrees with the textbook's backward "
                   f"(relative error {backward_error:.1g})",
                   f"  your {forward} is too imprecise to differentiate numerically: its error "
                   f"against the textbook is {forward_error:.1g}, where float64 gives about "
                   "1e-16; is something in it float32 (astype, dtype=, np.float32)? keep every "
                   "array float64")

    def _finite_differences(self, p):
        """∂L/∂(every input) of L = Σ d_out ⊙ (the step's outputs), by central differences
        of the student's own step forward (already checked against the textbook)."""
        inputs = [p.x, *p.prev, *p.weights]
        names = (["dx"] + [f"d{s}_prev" for s in self.cell.states]
                 + [f"d{k}" for k in WEIGHTS])
        name, N, H = self.cell.functions[0], p.sizes[0], p.sizes[2]

        def loss(args):
            out = self._call(0, *args)
            check_returns(name, out, [(s, (N, H)) for s in self.cell.states]
                          + [("cache", None)], p)
            return sum(float(np.sum(u * o)) for u, o in zip(p.d_out, out[:-1]))

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
        self.runner.reset()                        # the caches of all those calls
        return grads

    def step_backward_ref(self, p):
        name = self.cell.functions[1]
        got = self._step_backward(p)
        ref_cache = self.ref[0](p.x, *p.prev, *p.weights)[-1]
        want = self._named(self.ref[1](*p.d_out, ref_cache), "_prev")
        errors = {q: rel_error(got[q], want[q]) for q in got}
        if not _passes(errors, REF_TOL):
            raise Stop(*diagnosis.step_backward(self.cell, p, name, got, want, errors,
                                                REF_TOL, against="the textbook's"))
        return f"{name} matches the textbook's", _max_error(errors)

    def _forward(self, p):
        name, (N, D, H, T) = self.cell.functions[2], p.sizes
        out = self._call(2, p.xs, *p.states0, *p.weights)
        spec = ([("y", (T, N, H))] + [(f"{s}_n", (N, H)) for s in self.cell.states]
                + [("cache", None)])
        check_returns(name, out, spec, p)
        return out[:-1], out[-1]

    def forward(self, p):
        name = self.cell.functions[2]
        got, _ = self._forward(p)
        want = self.ref[2](p.xs, *p.states0, *p.weights)[:-1]
        labels = ["y"] + [f"{s}_n" for s in self.cell.states]
        errors = {q: rel_error(g, w) for q, g, w in zip(labels, got, want)}
        if not _passes(errors, REF_TOL):
            raise Stop(*diagnosis.forward(self.cell, p, name, dict(zip(labels, got)),
                                          dict(zip(labels, want)), errors, REF_TOL))
        return (f"{name}: {', '.join(labels)} match the textbook's at every step",
                _max_error(errors))

    def backward(self, p):
        name, (N, D, H, T) = self.cell.functions[3], p.sizes
        _, cache = self._forward(p)
        out = self._call(3, p.dy, *p.d_final, cache)
        spec = ([("dx", (T, N, D))] + [(f"d{s}0", (N, H)) for s in self.cell.states]
                + [("grads", {k: w.shape for k, w in zip(WEIGHTS, p.weights)})])
        check_returns(name, out, spec, p)
        got = self._named(out, "0")
        ref_out = self.ref[3](p.dy, *p.d_final,
                              self.ref[2](p.xs, *p.states0, *p.weights)[-1])
        want = self._named(ref_out, "0")
        errors = {q: rel_error(got[q], want[q]) for q in got}
        if not _passes(errors, REF_TOL):
            raise Stop(*diagnosis.backward(self.cell, p, name, got, want, errors, REF_TOL))
        return (f"{name}: dx, {', '.join(f'd{s}0' for s in self.cell.states)} and every "
                "weight gradient match the textbook's at every step", _max_error(errors))


# ---- running the ladder --------------------------------------------------------------------

def _print(line):
    try:
        print(line, flush=True)
    except UnicodeEncodeError:        # a console that cannot show ✓ ✗ ⊙
        print(line.encode("ascii", "replace").decode("ascii"), flush=True)


def _stop(e, k=None):
    first = e.lines[0] if k is None else e.lines[0].replace("✗ ", f"✗ {k}. ", 1)
    for line in (first, *e.lines[1:]):
        _print(line)


def _climb(cell, runner, seed, timeout):
    ladder = Ladder(cell, runner, seed, timeout)
    rungs = ladder.rungs()
    for k, rung in enumerate(rungs, 1):
        try:
            line = ladder.climb(rung)
        except NotWritten as e:
            first = e.name == cell.functions[0]
            _print(f"✗ {k}. {e.name} is not written yet (it raises NotImplementedError)")
            _print(f"  {'start with' if first else 'next: write'} {e.name}"
                   + (f": equations {cell.forward_eqs} in the docstring, then check again"
                      if first else ", then check again"))
            return False
        except Stop as e:
            _stop(e, k)
            _print(f"stopped at check {k} of {len(rungs)}: fix this, then check again")
            return False
        _print(f"✓ {k}. {line}")
    _print(f"all {len(rungs)} checks passed: your {cell.title} forward and BPTT backward "
           "are right")
    return True


def _problems_line(cell):
    sizes = " and ".join(", ".join(map(str, s)) for s in SIZES)
    return f"on {len(SIZES)} random problems (N, D, H, T = {sizes})"


def check_timeout(timeout):
    """``timeout`` as a float, or ValueError naming what is expected."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not math.isfinite(timeout) or not 0 < timeout <= 3600:
        raise ValueError(f"timeout must be a number of seconds in (0, 3600], got {timeout!r}")
    return float(timeout)


def check_functions(namespace, seed=0, label="these functions", timeout=TIMEOUT):
    """Check the exercise functions that ``namespace`` defines (a module, or a dict such as a
    notebook's ``globals()``), printing one line per check. True if every check passed.

    They run in this process: ``timeout`` seconds per check are enforced with SIGALRM where
    there is one (POSIX, main thread), interrupting Python code (not one long NumPy call);
    elsewhere there is no time limit. Ctrl-C (a notebook's interrupt) stops the check: False."""
    timeout = check_timeout(timeout)
    if not isinstance(namespace, dict):
        namespace = vars(namespace)
    runner = InProcess(namespace)
    try:
        cell = find_cell(runner.functions, label)
    except Stop as e:
        _stop(e)
        return False
    _print(f"checking the {cell.title} exercise in {label}, {_problems_line(cell)}")
    try:
        return _climb(cell, runner, seed, timeout)
    except KeyboardInterrupt:
        _print("✗ interrupted: the checks did not finish, so nothing is known to be right")
        return False


def check_file(path, seed=0, timeout=TIMEOUT):
    """Load the student's file in a child process and check it; True if every check passed.
    Raises Interrupted on Ctrl-C (after stopping the child)."""
    timeout = check_timeout(timeout)
    path = Path(path)
    if not path.is_file():
        if path.exists():
            _print(f"✗ {path} is not a regular file (a folder?): give the exercise's .py file")
        else:
            _print(f"✗ there is no file {path}")
            _print("  write one with: minirnn exercise lstm   (or srn, gru)")
        return False
    runner = Child(path)
    try:
        runner.load(timeout)
        cell = find_cell(runner.functions, str(path))
        _print(f"checking the {cell.title} exercise in {path}, {_problems_line(cell)}")
        return _climb(cell, runner, seed, timeout)
    except Stop as e:
        _stop(e)
        return False
    except KeyboardInterrupt:
        raise Interrupted() from None
    finally:
        runner.close()
