"""Public softmax / log_softmax, CrossEntropyLoss's reduction and label_smoothing, and
clip_grad_value_: torch as the oracle (autograd for the gradients), float64 to rounding."""
import numpy as np
import pytest
import torch

from minirnn import nn, optim
from minirnn.functional import log_softmax, softmax

RTOL = 1e-12


@pytest.mark.parametrize("shape, axis", [((4, 7), -1), ((4, 7), 0), ((2, 3, 5), 1),
                                         ((6,), 0), ((2, 3, 5), -1)])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_softmax_and_log_softmax_match_torch_for_any_axis_and_huge_values(shape, axis, scale):
    x = np.random.default_rng(0).standard_normal(shape) * scale
    t = torch.tensor(x)
    np.testing.assert_allclose(log_softmax(x, axis), torch.log_softmax(t, axis).numpy(),
                               rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(softmax(x, axis), torch.softmax(t, axis).numpy(),
                               rtol=RTOL, atol=1e-300)
    assert np.isfinite(log_softmax(x, axis)).all()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.37, 1.0])
@pytest.mark.parametrize("ignore", [False, True])
def test_label_smoothing_matches_torch_in_value_and_gradient(reduction, eps, ignore):
    rng = np.random.default_rng(1)
    N, C = 7, 5
    z = rng.standard_normal((N, C)) * 3
    y = rng.integers(0, C, N)
    if ignore:
        y[[1, 4]] = -100
    grad = rng.standard_normal(N) if reduction == "none" else 0.7
    crit = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=eps)
    loss = crit(z, y)
    dz = crit.backward(grad)

    zt = torch.tensor(z, requires_grad=True)
    lt = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=eps)(zt, torch.tensor(y))
    lt.backward(torch.tensor(grad, dtype=torch.float64))
    np.testing.assert_allclose(loss, lt.detach().numpy(), rtol=RTOL)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_label_smoothing_gradient_agrees_with_finite_differences():
    rng = np.random.default_rng(2)
    z, y = rng.standard_normal((3, 4)), np.array([1, 3, 0])
    crit = nn.CrossEntropyLoss(label_smoothing=0.2)
    crit(z, y)
    dz = crit.backward()
    fd = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[idx] = 1e-6
        with __import__("minirnn").no_grad():
            fd[idx] = (crit(z + e, y) - crit(z - e, y)) / 2e-6
    np.testing.assert_allclose(dz, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("eps, exc", [(-0.1, ValueError), (1.5, ValueError),
                                      (float("nan"), ValueError), ("0.1", TypeError)])
def test_label_smoothing_outside_0_1_is_refused(eps, exc):
    with pytest.raises(exc, match=r"label_smoothing to be a finite number in \[0, 1\]"):
        nn.CrossEntropyLoss(label_smoothing=eps)


# ---- clip_grad_value_ ----------------------------------------------------------------------

@pytest.mark.parametrize("clip", [0.5, 2.0, 100.0])
def test_clip_grad_value_matches_torch(clip):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((4, 3)) * 3, rng.standard_normal(5)]
    grads[0][0, 0] = np.nan
    ps = [nn.Parameter(np.zeros_like(g)) for g in grads]
    ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ps, ts, grads):
        p.grad[...] = g
        t.grad = torch.tensor(g)
    assert optim.clip_grad_value_(ps, clip) is None
    torch.nn.utils.clip_grad_value_(ts, clip)
    for p, t in zip(ps, ts):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


@pytest.mark.parametrize("bad, exc, match", [
    (0, ValueError, "clip_value to be a finite number > 0"),
    (-1, ValueError, "clip_value to be a finite number > 0"),
    (float("inf"), ValueError, "clip_value"),
    ("5", TypeError, "clip_value"),
])
def test_clip_grad_value_refuses_bad_values_before_changing_anything(bad, exc, match):
    p = nn.Parameter(np.zeros(3))
    p.grad[...] = [10.0, -10.0, 0.5]
    with pytest.raises(exc, match=match):
        optim.clip_grad_value_([p], bad)
    np.testing.assert_array_equal(p.grad, [10.0, -10.0, 0.5])


def test_clip_grad_value_checks_every_gradient_first():
    good, bad = nn.Parameter(np.zeros(3)), nn.Parameter(np.zeros(2))
    good.grad[...] = 10.0
    bad.grad = np.zeros(5)
    with pytest.raises(ValueError, match="parameter 1's .grad"):
        optim.clip_grad_value_([good, bad], 1.0)
    np.testing.assert_array_equal(good.grad, 10.0)
