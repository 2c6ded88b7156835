"""Hostile input to minirnn.optim: every case asserts the exact exception type, that the
message names what was expected, and that nothing changed (weights, .grad, optimiser state).

From simple to complex: bad hyperparameters (every optimiser), hyperparameters edited after
construction, bad gradients (a step is all or nothing), bad state dicts, clip_grad_norm_'s
arguments, and clipping huge float32 gradients without overflow (torch as the oracle where
torch's own float32 norm is finite).
"""
import copy
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minirnn import optim
from minirnn.nn import Parameter

OPTIMISERS = ["SGD", "Adam", "Adagrad", "RMSprop"]
NUMERIC = {  # each optimiser's numeric hyperparameters and a value out of range for each
    "SGD": dict(lr=-0.1, momentum=-0.5, dampening=1.5, weight_decay=-1e-4),
    "Adam": dict(lr=-1e-3, eps=0.0, weight_decay=-0.1),
    "Adagrad": dict(lr=-0.1, lr_decay=-1.0, weight_decay=-1.0, initial_accumulator_value=-0.1,
                    eps=-1e-10),
    "RMSprop": dict(lr=-0.01, alpha=1.5, eps=0.0, weight_decay=-0.1, momentum=-0.9),
}
NUMERIC_CASES = [(o, h) for o, hs in NUMERIC.items() for h in hs]
NOT_NUMBERS = ["0.1", True, None, [0.1], 1j, object()]
NOT_FINITE = [math.nan, math.inf, -math.inf]


def make(name, n=3, seed=0, dtype=np.float64, **kwargs):
    """An optimiser over n parameters of shapes (2,), (2, 3), ... stepped twice (so its state
    is not empty), with fresh gradients set."""
    rng = np.random.default_rng(seed)
    params = [Parameter(rng.standard_normal((2,) * (k + 1)).astype(dtype)) for k in range(n)]
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(2):
        for p in params:
            p.grad[...] = rng.standard_normal(p.shape)
        opt.step()
    return opt


def snapshot(opt):
    return ([(p.data.copy(), None if not isinstance(p.grad, np.ndarray) else p.grad.copy())
             for p in opt.params], copy.deepcopy(opt.state_dict()))


def assert_unchanged(opt, before):
    params, state = snapshot(opt)
    for (w0, g0), (w1, g1) in zip(before[0], params):
        np.testing.assert_array_equal(w0, w1)
        if g0 is not None:
            np.testing.assert_array_equal(g0, g1)
    assert_same_state(before[1], state)


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], dict):
            assert_same_state(a[k], b[k])
        elif isinstance(a[k], list):
            assert len(a[k]) == len(b[k])
            for x, y in zip(a[k], b[k]):
                assert_same_state(x, y) if isinstance(x, dict) else np.testing.assert_equal(x, y)
        else:
            np.testing.assert_array_equal(a[k], b[k])


# ---- bad hyperparameters at construction ---------------------------------------------------

@pytest.mark.parametrize("name, hyper", NUMERIC_CASES)
@pytest.mark.parametrize("value", NOT_NUMBERS, ids=repr)
def test_hyperparameter_that_is_not_a_number_is_a_type_error(name, hyper, value):
    with pytest.raises(TypeError, match=rf"^{name}: expected {hyper} to be a finite number"):
        getattr(optim, name)([Parameter(np.ones(2))], **{hyper: value})


@pytest.mark.parametrize("name, hyper", NUMERIC_CASES)
@pytest.mark.parametrize("value", NOT_FINITE, ids=repr)
def test_hyperparameter_nan_or_inf_is_a_value_error(name, hyper, value):
    with pytest.raises(ValueError, match=rf"^{name}: expected {hyper} to be a finite number"):
        getattr(optim, name)([Parameter(np.ones(2))], **{hyper: value})


@pytest.mark.parametrize("name, hyper", NUMERIC_CASES)
def test_hyperparameter_out_of_range_names_the_range(name, hyper):
    value = NUMERIC[name][hyper]
    with pytest.raises(ValueError, match=rf"expected {hyper} to be a finite number "
                                         rf"(>=? 0|in \[0, 1\])"):
        getattr(optim, name)([Parameter(np.ones(2))], **{hyper: value})


@pytest.mark.parametrize("betas, error", [
    (0.9, TypeError), ("ab", TypeError), (None, TypeError), ((0.9,), ValueError),
    ((0.9, 0.99, 0.999), ValueError), ((1.0, 0.9), ValueError), ((0.9, -0.1), ValueError),
    ((0.9, math.nan), ValueError), (("0.9", 0.99), TypeError), ((0.9, True), TypeError),
], ids=repr)
def test_adam_betas_must_be_a_pair_in_0_1(betas, error):
    with pytest.raises(error, match=r"expected betas(\[\d\])? to be"):
        optim.Adam([Parameter(np.ones(2))], betas=betas)


@pytest.mark.parametrize("name, flag", [("SGD", "nesterov"), ("RMSprop", "centered")])
@pytest.mark.parametrize("value", ["False", 1, None, np.array([True, False])], ids=repr)
def test_flags_must_be_booleans(name, flag, value):
    kwargs = dict(momentum=0.9) if name == "SGD" else {}
    with pytest.raises(TypeError, match=rf"expected {flag} to be True or False"):
        getattr(optim, name)([Parameter(np.ones(2))], **kwargs, **{flag: value})


def test_numpy_scalars_and_numpy_bools_are_accepted():
    p = Parameter(np.ones(2))
    opt = optim.SGD([p], lr=np.float32(0.5), momentum=np.float64(0.9), nesterov=np.bool_(True))
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["nesterov"] is True
    assert type(opt.param_groups[0]["momentum"]) is float


# ---- hyperparameters edited after construction: step refuses before changing anything ------

@pytest.mark.parametrize("name", OPTIMISERS)
@pytest.mark.parametrize("lr", [math.nan, math.inf, -1.0, "0.1", None], ids=repr)
def test_step_checks_an_edited_learning_rate(name, lr):
    opt = make(name)
    opt.param_groups[0]["lr"] = lr
    before = snapshot(opt)
    with pytest.raises(TypeError if isinstance(lr, str) or lr is None else ValueError,
                       match=rf"^{name}.step: expected lr to be a finite number >= 0"):
        opt.step()
    assert_unchanged(opt, before)


def test_step_checks_a_deleted_hyperparameter():
    opt = make("Adam")
    del opt.param_groups[0]["eps"]
    before = snapshot(opt)
    with pytest.raises(ValueError, match=r"expected hyperparameters \['betas', 'eps'"):
        opt.step()
    assert_unchanged(opt, before)


# ---- bad gradients: a step is all or nothing -----------------------------------------------

def bad_grads(shape):
    """(label, grad, exception, part of the message) for a parameter of ``shape``."""
    return [
        ("None", None, TypeError, "got NoneType"),
        ("list", np.ones(shape).tolist(), TypeError, "got list"),
        ("shape", np.ones(shape + (1,)), ValueError, "got shape"),
        ("float32", np.ones(shape, np.float32), TypeError, "got dtype float32"),
        ("int", np.ones(shape, np.int64), TypeError, "got dtype int64"),
        ("nan", np.full(shape, math.nan), ValueError, "expected finite gradients"),
        ("inf", np.full(shape, -math.inf), ValueError, "expected finite gradients"),
    ]


@pytest.mark.parametrize("name", OPTIMISERS)
@pytest.mark.parametrize("case", range(len(bad_grads(()))),
                         ids=[c[0] for c in bad_grads(())])
def test_bad_last_gradient_changes_no_parameter(name, case):
    """The last parameter's gradient is bad: the first two must not have moved."""
    opt = make(name, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {}))
    last = opt.params[-1]
    _, grad, error, text = bad_grads(last.shape)[case]
    last.grad = grad
    before = snapshot(opt)
    with pytest.raises(error, match=rf"^{name}.step: expected .*parameter 2's \.grad"):
        opt.step()
    with pytest.raises(error, match=text):
        opt.step()
    assert_unchanged(opt, before)
    last.grad = np.zeros_like(last.data)           # repaired, the step goes through
    opt.step()


# ---- bad state dicts -----------------------------------------------------------------------

def broken(change):
    """An Adam state dict (3 parameters, 2 steps taken) after ``change(sd)``."""
    sd = make("Adam", seed=1).state_dict()
    change(sd)
    return sd


def set_in(path, value):
    def change(sd):
        target = sd
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


STATE_DICTS = [
    ("None", None, TypeError, "expected a dict with keys 'state' and 'param_groups'"),
    ("list", [], TypeError, "expected a dict with keys"),
    ("str", "adam.npz", TypeError, "got str"),
    ("no-state", {"param_groups": []}, ValueError, "expected a dict with keys"),
    ("groups-None", broken(set_in(["param_groups"], None)), TypeError, "list of dicts"),
    ("group-None", broken(set_in(["param_groups"], [None])), TypeError, "list of dicts"),
    ("two-groups", broken(lambda sd: sd["param_groups"].append(sd["param_groups"][0])),
     ValueError, "expected 1 parameter group"),
    ("params-int", broken(set_in(["param_groups", 0, "params"], 3)), TypeError,
     "list of parameter indices"),
    ("lr-str", broken(set_in(["param_groups", 0, "lr"], "0.1")), TypeError,
     "expected lr to be a finite number"),
    ("lr-nan", broken(set_in(["param_groups", 0, "lr"], math.nan)), ValueError,
     "expected lr to be a finite number"),
    ("betas-float", broken(set_in(["param_groups", 0, "betas"], 0.9)), TypeError,
     "expected betas to be a pair"),
    ("state-None", broken(set_in(["state"], None)), TypeError, "expected 'state' to be a dict"),
    ("entry-None", broken(set_in(["state", 1], None)), TypeError,
     "state of parameter 1 to be a dict"),
    ("key-float", broken(lambda sd: sd["state"].__setitem__(1.5, sd["state"].pop(1))),
     ValueError, r"indices 0...2, got index 1.5"),
    ("key-str", broken(lambda sd: sd["state"].__setitem__("one", sd["state"].pop(1))),
     ValueError, "got index 'one'"),
    ("key-bool", broken(lambda sd: sd["state"].__setitem__(True, sd["state"].pop(1))),
     ValueError, "got index True"),
    ("step-nan", broken(set_in(["state", 0, "step"], math.nan)), ValueError,
     r"a step count \(an integer >= 0\)"),
    ("step-inf", broken(set_in(["state", 0, "step"], math.inf)), ValueError, "step count"),
    ("step-negative", broken(set_in(["state", 0, "step"], -1)), ValueError, "step count"),
    ("step-fraction", broken(set_in(["state", 0, "step"], 2.5)), ValueError, "step count"),
    ("step-bool", broken(set_in(["state", 0, "step"], True)), TypeError, "expected numbers"),
    ("exp_avg-nan", broken(lambda sd: sd["state"][2]["exp_avg"].__setitem__(0, math.nan)),
     ValueError, "expected finite values in state 'exp_avg' of parameter 2"),
    ("exp_avg-overflows-float32", None, ValueError, "in float32"),
    ("exp_avg_sq-negative",
     broken(lambda sd: sd["state"][1]["exp_avg_sq"].__setitem__(0, -1.0)), ValueError,
     r"'exp_avg_sq' of parameter 1 >= 0"),
    ("exp_avg-str", broken(set_in(["state", 0, "exp_avg"], "zeros")), TypeError,
     "expected numbers for state 'exp_avg'"),
    ("exp_avg-ragged", broken(set_in(["state", 0, "exp_avg"], [[1.0], [1.0, 2.0]])),
     ValueError, "equal lengths"),
]


@pytest.mark.parametrize("label, sd, error, text", STATE_DICTS, ids=[c[0] for c in STATE_DICTS])
def test_bad_state_dict_changes_nothing(label, sd, error, text):
    dtype = np.float32 if label == "exp_avg-overflows-float32" else np.float64
    opt = make("Adam", seed=2, dtype=dtype, lr=0.5)
    if sd is None and label != "None":
        sd = broken(set_in(["state", 0, "exp_avg"], np.full(2, 1e300)))
    before = snapshot(opt)
    with pytest.raises(error, match=text):
        opt.load_state_dict(sd)
    assert_unchanged(opt, before)
    assert opt.param_groups[0]["lr"] == 0.5


@pytest.mark.parametrize("name", OPTIMISERS)
@pytest.mark.parametrize("sd", [None, 0, "state.json"], ids=repr)
def test_every_optimiser_refuses_a_state_dict_that_is_not_a_dict(name, sd):
    opt = make(name)
    before = snapshot(opt)
    with pytest.raises(TypeError, match=rf"^{name}.load_state_dict: expected a dict"):
        opt.load_state_dict(sd)
    assert_unchanged(opt, before)


# ---- clip_grad_norm_'s arguments -----------------------------------------------------------

def clip_params():
    rng = np.random.default_rng(3)
    params = [Parameter(np.zeros(s)) for s in [(3,), (2, 2)]]
    for p in params:
        p.grad[...] = 10 * rng.standard_normal(p.shape)
    return params


def clip_refuses(call, error, text):
    """``call(params)`` raises ``error`` matching ``text``; every good gradient is as it was."""
    params = clip_params()
    before = [(p.grad, p.grad.copy()) for p in params]
    with pytest.raises(error, match=text):
        call(params)
    for p, (grad, values) in zip(params, before):
        if p.grad is grad:                        # not one the case itself replaced
            np.testing.assert_array_equal(grad, values)


@pytest.mark.parametrize("max_norm, error", [
    (-1.0, ValueError), (0.0, ValueError), (math.nan, ValueError), (math.inf, ValueError),
    (-math.inf, ValueError), ("1.0", TypeError), (None, TypeError), (True, TypeError),
], ids=repr)
def test_clip_max_norm_must_be_finite_and_positive(max_norm, error):
    clip_refuses(lambda ps: optim.clip_grad_norm_(ps, max_norm), error,
                 r"^clip_grad_norm_: expected max_norm to be a finite number > 0")


@pytest.mark.parametrize("norm_type, error", [
    ("two", TypeError), ("inf", TypeError), (None, TypeError), (True, TypeError),
    (0.5, ValueError), (0, ValueError), (-2.0, ValueError), (math.nan, ValueError),
    (-math.inf, ValueError),
], ids=repr)
def test_clip_norm_type_must_be_a_p_norm(norm_type, error):
    clip_refuses(lambda ps: optim.clip_grad_norm_(ps, 1.0, norm_type), error,
                 r"^clip_grad_norm_: expected norm_type to be a number >= 1, or float\('inf'\)")


@pytest.mark.parametrize("label, change, error, text", [
    ("not-a-parameter", lambda ps: ps.append(np.ones(2)), TypeError, "at position 2"),
    ("grad-None", lambda ps: setattr(ps[1], "grad", None), TypeError, "parameter 1's .grad"),
    ("grad-shape", lambda ps: setattr(ps[1], "grad", np.ones(4)), ValueError,
     r"of shape \(2, 2\)"),
])
def test_clip_bad_parameters_change_no_gradient(label, change, error, text):
    def call(params):
        change(params)
        optim.clip_grad_norm_(params, 1.0)
    clip_refuses(call, error, text)


def test_clip_refuses_a_number_for_params():
    with pytest.raises(TypeError, match="expected a Parameter or an iterable of Parameters"):
        optim.clip_grad_norm_(3.0, 1.0)


# ---- clipping huge float32 gradients without overflow --------------------------------------

def torch_clip(grads, max_norm, norm_type, dtype):
    ts = [torch.zeros(g.shape, dtype=dtype, requires_grad=True) for g in grads]
    for t, g in zip(ts, grads):
        t.grad = torch.tensor(g, dtype=dtype)
    norm = torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type).item()
    return norm, [t.grad.numpy() for t in ts]


def ours_clip(grads, max_norm, norm_type):
    ps = [Parameter(np.zeros_like(g)) for g in grads]
    for p, g in zip(ps, grads):
        p.grad[...] = g
    return optim.clip_grad_norm_(ps, max_norm, norm_type), [p.grad for p in ps]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_float32_gradients_of_1e20_are_clipped_not_zeroed(norm_type):
    """torch's float32 norm overflows to inf here and zeroes the gradients; ours stays
    finite and equals torch's float64 result."""
    grads = [np.full((3, 4), 1e20, np.float32), np.full(5, -3e20, np.float32)]
    norm, clipped = ours_clip(grads, 1.0, norm_type)
    ref_norm, ref = torch_clip([g.astype(np.float64) for g in grads], 1.0, norm_type,
                               torch.float64)
    assert math.isfinite(norm)
    assert norm == pytest.approx(ref_norm, rel=1e-12)
    for c, r in zip(clipped, ref):
        assert c.dtype == np.float32
        np.testing.assert_allclose(c, r, rtol=1e-6)
    total = sum(np.sum(np.abs(c.astype(np.float64)) ** min(norm_type, 50)) for c in clipped)
    assert norm_type == math.inf or total ** (1 / norm_type) == pytest.approx(1.0, rel=1e-5)


def test_float64_gradients_of_1e200_have_a_finite_norm():
    grads = [np.array([3e200, 4e200])]
    norm, clipped = ours_clip(grads, 1.0, 2.0)
    assert norm == pytest.approx(5e200, rel=1e-15)
    np.testing.assert_allclose(clipped[0], [0.6, 0.8], rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(exponent=st.integers(-30, 18), seed=st.integers(0, 2 ** 16),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]),
       max_norm=st.floats(1e-3, 1e3))
def test_float32_clipping_matches_torch_where_torch_is_finite(exponent, seed, norm_type,
                                                               max_norm):
    rng = np.random.default_rng(seed)
    grads = [(rng.standard_normal(s) * 10.0 ** exponent).astype(np.float32)
             for s in [(4, 3), (7,), ()]]
    norm, clipped = ours_clip(grads, max_norm, norm_type)
    ref_norm, ref = torch_clip(grads, max_norm, norm_type, torch.float32)
    exact_norm, exact = torch_clip([g.astype(np.float64) for g in grads], max_norm, norm_type,
                                   torch.float64)
    assert norm == pytest.approx(exact_norm, rel=1e-12)
    for c, e in zip(clipped, exact):
        np.testing.assert_allclose(c, e.astype(np.float32), rtol=2e-6, atol=0)
    if math.isfinite(ref_norm) and ref_norm > 1e-30:       # torch's float32 did not overflow
        assert norm == pytest.approx(ref_norm, rel=1e-5)
        for c, r in zip(clipped, ref):
            np.testing.assert_allclose(c, r, rtol=1e-5, atol=0)
