"""minirnn.optim against torch.optim: one harness runs every optimiser, with every option, for
STEPS steps on the same parameters and gradients, and compares parameters and state each step.
Then: resuming from a state dict (also through npz and JSON), float32, bad hyperparameters,
bad state dicts, clip_grad_norm_ against torch.nn.utils.clip_grad_norm_, and zero_grad.
"""
import inspect
import json
import math

import numpy as np
import pytest
import torch

from minirnn import optim
from minirnn.nn import Parameter

SHAPES = [(3, 4), (5,), (2, 3, 2), ()]
STEPS = 25
RTOL, ATOL = 1e-12, 1e-15

# Every option in the contract, alone and combined; non-default values chosen so that a
# swapped or dropped term shows (e.g. beta1 = 0 and beta1 > 0.5, where torch's lerp switches form).
CASES = [
    ("SGD", {}),
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.1)),
    ("Adam", {}),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9))),
    ("Adam", dict(lr=0.01, betas=(0.0, 0.99), eps=1e-3)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.95), eps=1e-6, weight_decay=0.05)),
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-3)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1,
                     eps=1e-6)),
    ("RMSprop", {}),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, weight_decay=0.1)),
]
CASE_IDS = [f"{name}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CASES]
cases = pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
OPTIMISERS = ["SGD", "Adam", "Adagrad", "RMSprop"]


def problem(seed=0, dtype=np.float64, steps=STEPS):
    """Initial parameter arrays, and one list of gradients per step (some exactly zero)."""
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    grads = [[(rng.normal(size=s) * rng.choice([0.0, 0.1, 1.0, 10.0])).astype(dtype)
              for s in SHAPES] for _ in range(steps)]
    return arrays, grads


def run_steps(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad[...] = g
        opt.step()


def assert_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


# ---- the harness: every optimiser, every option, against torch ---------------------------
@cases
def test_matches_torch_step_by_step(name, kwargs):
    arrays, grads = problem()
    ours = [Parameter(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    data_ids = [id(p.data) for p in ours]
    for step_grads in grads:
        for p, t, g in zip(ours, theirs, step_grads):
            p.grad[...] = g
            t.grad = torch.tensor(g)
        opt.step()
        topt.step()
        for p, t, g in zip(ours, theirs, step_grads):
            assert_close(p.data, t.detach().numpy())
            np.testing.assert_array_equal(p.grad, g)          # step never touches .grad
    assert [id(p.data) for p in ours] == data_ids             # updated in place
    # the state too, under torch's names
    ours_state, torch_state = opt.state_dict()["state"], topt.state_dict()["state"]
    for i in range(len(SHAPES)):
        theirs_i = {k: v for k, v in torch_state.get(i, {}).items() if v is not None}
        assert set(ours_state.get(i, {})) == set(theirs_i)
        for k, v in ours_state.get(i, {}).items():
            assert_close(v, np.asarray(theirs_i[k]))


@pytest.mark.parametrize("name", OPTIMISERS)
def test_defaults_match_torch(name):
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    for arg, p in ours.items():
        if arg != "params":
            assert p.default == theirs[arg].default, arg
    hyper = getattr(optim, name)([Parameter(np.ones(2))]).param_groups[0]
    torch_hyper = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)]).param_groups[0]
    for k, v in hyper.items():
        if k != "params":
            assert v == torch_hyper[k], k


# ---- state dicts ---------------------------------------------------------------------------
def npz_round_trip(state_dict, path):
    """Save through np.savez with '/'-joined keys and read back as nested dicts."""
    flat = {"type": state_dict["type"]}
    for i, entry in state_dict["state"].items():
        flat.update({f"state/{i}/{k}": v for k, v in entry.items()})
    flat.update({f"param_groups/0/{k}": v for k, v in state_dict["param_groups"][0].items()})
    np.savez(path, **flat)
    restored = {"state": {}, "param_groups": [{}]}
    with np.load(path) as f:
        for key in f.files:
            parts = key.split("/")
            if parts[0] == "type":
                restored["type"] = f[key]
            elif parts[0] == "state":
                restored["state"].setdefault(parts[1], {})[parts[2]] = f[key]
            else:
                restored["param_groups"][0][parts[2]] = f[key]
    return restored


def json_round_trip(state_dict, _path):
    return json.loads(json.dumps(state_dict, default=lambda a: a.tolist()))


def no_round_trip(state_dict, _path):
    return state_dict


@cases
@pytest.mark.parametrize("trip", [no_round_trip, npz_round_trip, json_round_trip],
                         ids=["dict", "npz", "json"])
def test_resume_from_state_dict_equals_uninterrupted(name, kwargs, trip, tmp_path):
    arrays, grads = problem(seed=1)
    full = [Parameter(a) for a in arrays]
    run_steps(getattr(optim, name)(full, **kwargs), full, grads)

    first = [Parameter(a) for a in arrays]
    opt = getattr(optim, name)(first, **kwargs)
    run_steps(opt, first, grads[:10])
    saved = trip(opt.state_dict(), tmp_path / "opt.npz")
    checkpoint = [p.data.copy() for p in first]
    run_steps(opt, first, grads[10:11])                       # the saved state must be a copy
    # new Parameters, and an optimiser built with defaults: the load restores hyperparameters
    opt2 = getattr(optim, name)([Parameter(a) for a in checkpoint])
    opt2.load_state_dict(saved)
    run_steps(opt2, opt2.params, grads[10:])
    for p, q in zip(opt2.params, full):
        np.testing.assert_array_equal(p.data, q.data)


@cases
def test_state_dict_holds_plain_types_only(name, kwargs):
    arrays, grads = problem(steps=3)
    params = [Parameter(a) for a in arrays]
    opt = getattr(optim, name)(params, **kwargs)
    run_steps(opt, params, grads)

    def check(x):
        if isinstance(x, dict):
            for k, v in x.items():
                assert isinstance(k, (str, int))
                check(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                check(v)
        else:
            assert type(x) in (np.ndarray, int, float, bool, str), type(x)
    check(opt.state_dict())


def saved_after(name, shapes, steps=2, **kwargs):
    params = [Parameter(np.ones(s)) for s in shapes]
    opt = getattr(optim, name)(params, **kwargs)
    for p in params:
        p.grad[...] = 0.5
    for _ in range(steps):
        opt.step()
    return opt.state_dict()


def test_load_state_dict_mismatch_raises_and_changes_nothing():
    saved = saved_after("Adam", [(3,), (2, 2)])
    params = [Parameter(np.zeros(3)), Parameter(np.zeros((2, 2)))]
    opt = optim.Adam(params, lr=0.5)
    with pytest.raises(ValueError, match="expected a state dict for 1 parameters, got one for 2"):
        optim.Adam(params[:1]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"expected state 'exp_avg' of parameter 1 of shape "
                                         r"\(4,\), got \(2, 2\)"):
        optim.Adam([Parameter(np.zeros(3)), Parameter(np.zeros(4))]).load_state_dict(saved)
    with pytest.raises(ValueError, match="expected the state dict of a SGD, got one of a Adam"):
        optim.SGD(params).load_state_dict(saved)
    untyped = {k: v for k, v in saved.items() if k != "type"}
    with pytest.raises(ValueError, match="expected hyperparameters"):
        optim.RMSprop(params).load_state_dict(untyped)
    broken = saved_after("Adam", [(3,), (2, 2)])
    del broken["state"][1]["exp_avg"]
    with pytest.raises(ValueError, match=r"expected state \['exp_avg', 'exp_avg_sq', 'step'\]"):
        opt.load_state_dict(broken)
    broken = saved_after("Adam", [(3,), (2, 2)])
    broken["state"][5] = broken["state"][0]
    with pytest.raises(ValueError, match="got index 5"):
        opt.load_state_dict(broken)
    broken = saved_after("Adam", [(3,), (2, 2)])
    broken["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="expected lr to be a finite number >= 0"):
        opt.load_state_dict(broken)
    with pytest.raises(ValueError, match="expected a dict with keys 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    assert opt.state == [{}, {}] and opt.param_groups[0]["lr"] == 0.5


def test_float32_stays_float32_and_tracks_torch():
    arrays, grads = problem(dtype=np.float32)
    for name, kwargs in CASES:
        ours = [Parameter(a) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        opt = getattr(optim, name)(ours, **kwargs)
        topt = getattr(torch.optim, name)(theirs, **kwargs)
        for step_grads in grads:
            for p, t, g in zip(ours, theirs, step_grads):
                p.grad[...] = g
                t.grad = torch.tensor(g)
            opt.step()
            topt.step()
        for p, t in zip(ours, theirs):
            assert p.data.dtype == p.grad.dtype == np.float32
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-4, atol=1e-5)
        for entry in opt.state:
            for v in entry.values():
                assert not isinstance(v, np.ndarray) or v.dtype == np.float32


# ---- bad input -----------------------------------------------------------------------------
BAD = [
    ("SGD", dict(lr=-0.1)), ("Adam", dict(lr=math.nan)), ("SGD", dict(momentum=-0.1)),
    ("SGD", dict(weight_decay=-1)), ("SGD", dict(nesterov=True)),
    ("SGD", dict(momentum=0.9, dampening=0.1, nesterov=True)),
    ("Adam", dict(lr=-1)), ("Adam", dict(eps=-1)), ("Adam", dict(betas=(1.0, 0.9))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-1)),
    ("Adagrad", dict(lr=-1)), ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(weight_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
    ("RMSprop", dict(lr=-1)), ("RMSprop", dict(alpha=-1)), ("RMSprop", dict(eps=-1)),
    ("RMSprop", dict(weight_decay=-1)), ("RMSprop", dict(momentum=-1)),
]


@pytest.mark.parametrize("name, kwargs", BAD, ids=[f"{n}-{kw}" for n, kw in BAD])
def test_bad_hyperparameters_raise_value_error_as_torch(name, kwargs):
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.ones(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match="expected"):
        getattr(optim, name)([Parameter(np.ones(2))], **kwargs)


@pytest.mark.parametrize("name", OPTIMISERS)
def test_bad_params_raise(name):
    cls = getattr(optim, name)
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([])
    with pytest.raises(TypeError, match="expects Parameters, got ndarray at position 1"):
        cls([p, np.ones(2)])
    with pytest.raises(TypeError, match="iterable of Parameters"):
        cls(p)
    with pytest.raises(ValueError, match="more than once"):
        cls([p, p])
    assert cls(iter([p])).params == [p]                       # any iterable, e.g. a generator


def test_zero_grad_zeroes_every_grad():
    params = [Parameter(np.ones(s)) for s in SHAPES]
    for p in params:
        p.grad += 3.0
    optim.Adam(params).zero_grad()
    for p in params:
        assert p.grad.shape == p.data.shape and not p.grad.any()


# ---- gradient clipping ------------------------------------------------------------------------
def clip_both(grads, max_norm, norm_type):
    ours = [Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ours, theirs, grads):
        p.grad[...] = g
        t.grad = torch.tensor(g)
    norm = optim.clip_grad_norm_(ours, max_norm, norm_type)
    torch_norm = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    return norm, ours, torch_norm.item(), theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_clip_grad_norm_matches_torch(norm_type):
    _, grads = problem(steps=1)
    norm, ours, torch_norm, theirs = clip_both(grads[0], 0.5, norm_type)
    assert type(norm) is float and norm > 0.5
    assert_close(norm, torch_norm)
    for p, t in zip(ours, theirs):
        assert_close(p.grad, t.grad.numpy())
    assert_close(optim.clip_grad_norm_(ours, 1e9, norm_type), 0.5 / (1 + 1e-6 / norm))


@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_leaves_small_gradients_untouched(norm_type):
    grads = [np.array([0.3, -0.4]), np.array([[0.1]])]
    norm, ours, torch_norm, _ = clip_both(grads, 10.0, norm_type)
    assert_close(norm, torch_norm)
    for p, g in zip(ours, grads):
        np.testing.assert_array_equal(p.grad, g)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_clip_grad_norm_nonfinite_follows_torch(bad):
    grads = [np.array([1.0, bad]), np.array([2.0])]
    norm, ours, torch_norm, theirs = clip_both(grads, 1.0, 2.0)
    np.testing.assert_equal(norm, torch_norm)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())  # NaNs in the same places


def test_clip_grad_norm_keeps_float32_and_accepts_one_parameter():
    p = Parameter(np.array([3.0, 4.0], dtype=np.float32))
    p.grad[...] = p.data
    assert optim.clip_grad_norm_(p, 1.0) == 5.0
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-6)
    assert optim.clip_grad_norm_([], 1.0) == 0.0
