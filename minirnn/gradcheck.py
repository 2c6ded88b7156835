"""Check a module's hand-written backward against central finite differences.

For a module f and random upstream gradients G (one array per output), define the scalar
    s(θ) = Σ ⟨G, f(θ)⟩.
Its gradient by the module's backward is what ``backward(G)`` returns (inputs) and adds into
``.grad`` (parameters). Its gradient by finite differences, element by element, is
    ∂s/∂θ_k ≈ (s(θ + ε e_k) − s(θ − ε e_k)) / 2ε,
whose error is O(ε²) from truncation plus about 1e-16·|s|/ε from rounding -- hence float64
and ε ≈ 1e-6. Each array's error is reported as
    max_k |analytic_k − numeric_k| / max(max_k |analytic_k|, max_k |numeric_k|),
so a correct smooth backward gives about 1e-9 or less, and a wrong derivative gives 1e-3 to
O(1) (a single missing term in a sum can be small; see docs/gradient-checking.md).
"""
import numpy as np

from . import _config
from .nn import _checks
from .nn.module import Module


def _leaves(tree):
    """Flatten nested tuples/lists into a list of leaves (None and non-arrays included)."""
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _like(tree, arrays):
    """Rebuild ``tree``'s nesting with ``arrays`` (consumed in order) as leaves."""
    if isinstance(tree, (tuple, list)):
        return tuple(_like(item, arrays) for item in tree)
    return next(arrays)


def _copy_floats(tree):
    """A copy of ``tree`` whose float arrays are fresh float64 copies."""
    if isinstance(tree, (tuple, list)):
        return tuple(_copy_floats(item) for item in tree)
    if isinstance(tree, np.ndarray) and tree.dtype.kind == "f":
        # C order: _numeric perturbs through reshape(-1), which must be a view, not a copy
        return np.array(tree, dtype=np.float64, order="C")
    return tree


def _is_float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _rel_error(analytic, numeric):
    scale = max(np.abs(analytic).max(initial=0.0), np.abs(numeric).max(initial=0.0))
    if scale == 0:
        return 0.0
    return float(np.abs(analytic - numeric).max() / scale)


def gradcheck(module, *inputs, eps=1e-6, seed=0):
    """Worst relative error of ``module``'s backward against finite differences.

    module : a minirnn Module with float64 parameters (float32 is refused with a TypeError:
             its rounding, about 1e-7 relative, divided by eps = 1e-6 gives errors of order
             0.1 for a correct backward)
    inputs : what ``module(*inputs)`` takes; float arrays (nested in tuples too, like an
             LSTM's (h0, c0)) are checked, anything else (ids, lengths, None) is passed as is
    Returns {parameter name: error, ..., 'input0': error, ...} (float inputs numbered by
    their position among the flattened inputs). Raises nothing on a bad gradient: compare
    the values with a tolerance (≤ 1e-7 for smooth cells).

    Random draws inside the module (dropout masks) are replayed identically for every
    evaluation, so a module in training mode is checked against one fixed mask. The
    parameters' ``.grad`` are used for the check and then restored: gradients the caller
    had accumulated are kept.
    """
    if not isinstance(module, Module):
        raise TypeError(f"gradcheck expects a minirnn Module, got {type(module).__name__}")
    for name, p in module.named_parameters():
        if p.dtype != np.float64:
            raise TypeError(f"gradcheck: expected float64 parameters (finite differences in "
                            f"{p.dtype} are too coarse to check anything), got {name!r} in "
                            f"{p.dtype}: build the module with dtype=np.float64")
    eps = _checks.real(eps, "eps", "gradcheck", low=0, low_open=True)
    rng = np.random.default_rng(seed)
    generators = [m._rng for m in module.modules() if isinstance(getattr(m, "_rng", None),
                                                                 np.random.Generator)]
    saved = [g.bit_generator.state for g in generators]

    def restore():
        for g, state in zip(generators, saved):
            g.bit_generator.state = state

    inputs = _copy_floats(inputs)       # perturbed in place below: never touch the caller's
    # Upstream gradients, one per float output, shaped like the forward's output.
    restore()
    with _config.no_grad():
        out = module(*inputs)
    out_leaves = _leaves(out)
    if isinstance(out, float):
        G = [1.0]          # a scalar loss: its gradient is just 1
    else:
        G = [rng.standard_normal(np.shape(o)) if _is_float_array(np.asarray(o)) else None
             for o in out_leaves]

    def score():
        restore()
        with _config.no_grad():
            leaves = _leaves(module(*inputs))
        return sum(float(np.sum(g * np.asarray(o))) for g, o in zip(G, leaves) if g is not None)

    # Analytic gradients: one forward that keeps its cache, then the module's backward, into
    # zeroed .grad arrays; the caller's gradients are put back afterwards.
    params = list(module.parameters())
    callers_grads = [p.grad.copy() for p in params]
    try:
        module.zero_grad()
        restore()
        module(*inputs)
        grad_tree = _like(out, iter(G))
        input_grads = module._backward_from_output_grads(grad_tree)
        analytic = {name: p.grad.copy() for name, p in module.named_parameters()}
    finally:
        for p, grad in zip(params, callers_grads):
            p.grad[...] = grad

    results = {}
    for name, p in module.named_parameters():
        results[name] = _rel_error(analytic[name], _numeric(score, p.data, eps))
    in_leaves = _leaves(inputs)
    grad_leaves = _leaves(input_grads) if input_grads is not None else []
    for k, (x, dx) in enumerate(zip(in_leaves, grad_leaves)):
        if _is_float_array(x) and _is_float_array(dx) and dx.shape == x.shape:
            results[f"input{k}"] = _rel_error(dx, _numeric(score, x, eps))
    return results


def _numeric(score, array, eps):
    """Central differences of score() with respect to every element of ``array`` (in place)."""
    grad = np.zeros(array.shape)
    flat, gflat = array.reshape(-1), grad.reshape(-1)   # views: perturbing flat perturbs array
    for k in range(flat.size):
        orig = flat[k]
        flat[k] = orig + eps
        plus = score()
        flat[k] = orig - eps
        minus = score()
        flat[k] = orig
        gflat[k] = (plus - minus) / (2 * eps)
    return grad
