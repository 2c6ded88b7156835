"""Learning-rate schedulers against torch.optim.lr_scheduler: the same float at every epoch,
state dicts that round-trip (through JSON), bad arguments refused, and fit(scheduler=)."""
import json
import math

import numpy as np
import pytest
import torch

from minirnn import nn, optim
from minirnn.optim import lr_scheduler as mls

EPOCHS = 40


def pair(make_ours, make_torch, lr=0.1):
    p = nn.Parameter(np.zeros(3))
    ours_opt = optim.SGD([p], lr=lr)
    torch_opt = torch.optim.SGD([torch.zeros(3, requires_grad=True)], lr=lr)
    return make_ours(ours_opt), make_torch(torch_opt), ours_opt, torch_opt


CASES = {
    "StepLR": (lambda o: mls.StepLR(o, step_size=3, gamma=0.5),
               lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    "MultiStepLR": (lambda o: mls.MultiStepLR(o, milestones=[2, 5, 5, 11], gamma=0.3),
                    lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [2, 5, 5, 11], 0.3)),
    "ExponentialLR": (lambda o: mls.ExponentialLR(o, gamma=0.93),
                      lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.93)),
    "CosineAnnealingLR": (lambda o: mls.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
                          lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 7, 0.001)),
    "LambdaLR": (lambda o: mls.LambdaLR(o, lambda e: 1 / (1 + 0.3 * e) + (e % 4 == 0)),
                 lambda o: torch.optim.lr_scheduler.LambdaLR(
                     o, lambda e: 1 / (1 + 0.3 * e) + (e % 4 == 0))),
}


def metric_at(e):
    """A dev loss that improves, stalls, then improves a little: ReduceLROnPlateau's input."""
    if e >= 20:
        return 0.55                                    # a long plateau
    return [1.0, 0.8, 0.7, 0.7, 0.7, 0.71, 0.7, 0.69999, 0.6, 0.6, 0.6, 0.6, 0.6][e % 13] - e / 1000


@pytest.mark.parametrize("name", CASES)
def test_every_epoch_gives_torchs_learning_rate_exactly(name):
    ours, theirs, ours_opt, torch_opt = pair(*CASES[name])
    assert ours.get_last_lr() == theirs.get_last_lr()
    for epoch in range(EPOCHS):
        torch_opt.step()
        theirs.step()
        ours.step()
        assert ours.get_last_lr() == theirs.get_last_lr(), epoch    # the same float, not close
        assert ours_opt.param_groups[0]["lr"] == torch_opt.param_groups[0]["lr"]


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.01),
                                dict(patience=2, cooldown=3, factor=0.5, min_lr=0.004),
                                dict(patience=0, eps=0.05)])
def test_reduce_on_plateau_follows_torch(kw):
    ours, theirs, ours_opt, torch_opt = pair(
        lambda o: mls.ReduceLROnPlateau(o, **kw),
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kw))
    for epoch in range(EPOCHS):
        value = metric_at(epoch) if kw.get("mode") != "max" else -metric_at(epoch)
        theirs.step(value)
        ours.step(value)
        assert ours.get_last_lr() == theirs.get_last_lr(), epoch
    assert ours.get_last_lr()[0] < 0.1                           # it did reduce


@pytest.mark.parametrize("name", list(CASES) + ["ReduceLROnPlateau"])
def test_state_dict_round_trips_through_json_and_continues_identically(name):
    make = CASES[name][0] if name in CASES else (
        lambda o: mls.ReduceLROnPlateau(o, patience=1, factor=0.5))
    step = (lambda s, e: s.step(metric_at(e))) if name == "ReduceLROnPlateau" else \
        (lambda s, e: s.step())
    p = nn.Parameter(np.zeros(3))
    opt = optim.SGD([p], lr=0.1)
    sched = make(opt)
    for e in range(9):
        step(sched, e)
    saved = json.loads(json.dumps(sched.state_dict()))
    lr = opt.param_groups[0]["lr"]
    rest = []
    for e in range(9, 25):
        step(sched, e)
        rest.append(sched.get_last_lr()[0])

    opt2 = optim.SGD([nn.Parameter(np.zeros(3))], lr=0.1)
    sched2 = make(opt2)
    sched2.load_state_dict(saved)
    opt2.param_groups[0]["lr"] = lr                              # the optimiser's own state
    again = []
    for e in range(9, 25):
        step(sched2, e)
        again.append(sched2.get_last_lr()[0])
    assert again == rest


@pytest.mark.parametrize("make, exc, match", [
    (lambda o: mls.StepLR(o, step_size=0), ValueError, "step_size to be an integer >= 1"),
    (lambda o: mls.StepLR(o, step_size=2.5), TypeError, "step_size to be an integer"),
    (lambda o: mls.StepLR(o, step_size=2, gamma=-1), ValueError, "gamma to be a finite number"),
    (lambda o: mls.StepLR(o, step_size=2, gamma=float("nan")), ValueError, "gamma"),
    (lambda o: mls.MultiStepLR(o, milestones=3), TypeError, "milestones to be a list"),
    (lambda o: mls.MultiStepLR(o, milestones=[2, "x"]), TypeError, "each milestone"),
    (lambda o: mls.ExponentialLR(o, gamma="0.9"), TypeError, "gamma"),
    (lambda o: mls.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
    (lambda o: mls.CosineAnnealingLR(o, T_max=5, eta_min=-1), ValueError, "eta_min"),
    (lambda o: mls.LambdaLR(o, 0.5), TypeError, "lr_lambda to be a function"),
    (lambda o: mls.LambdaLR(o, lambda e: float("nan")), ValueError, r"lr_lambda\(0\)"),
    (lambda o: mls.ReduceLROnPlateau(o, mode="maximum"), ValueError, "mode in"),
    (lambda o: mls.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
    (lambda o: mls.ReduceLROnPlateau(o, patience=-1), ValueError, "patience"),
    (lambda o: mls.ReduceLROnPlateau(o, threshold_mode="relative"), ValueError, "threshold_mode"),
    (lambda o: mls.StepLR("sgd", step_size=2), TypeError, "minirnn.optim optimiser"),
])
def test_bad_arguments_are_refused_and_the_learning_rate_is_untouched(make, exc, match):
    opt = optim.SGD([nn.Parameter(np.zeros(3))], lr=0.1)
    with pytest.raises(exc, match=match):
        make(opt)
    assert opt.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("edit, exc, match", [
    (lambda s: None, TypeError, "expected a dict"),
    (lambda s: {**s, "type": "StepLR"}, ValueError, "a 'StepLR''s"),
    (lambda s: {k: v for k, v in s.items() if k != "gamma"}, ValueError, "expected the keys"),
    (lambda s: {**s, "gamma": "x"}, TypeError, "gamma"),
    (lambda s: {**s, "last_epoch": -3}, ValueError, "last_epoch"),
    (lambda s: {**s, "last_lr": float("inf")}, ValueError, "last_lr"),
])
def test_a_bad_state_dict_changes_nothing(edit, exc, match):
    opt = optim.SGD([nn.Parameter(np.zeros(3))], lr=0.1)
    sched = mls.ExponentialLR(opt, gamma=0.9)
    sched.step()
    before = sched.state_dict()
    with pytest.raises(exc, match=match):
        sched.load_state_dict(edit(dict(before)))
    assert sched.state_dict() == before


def test_a_non_finite_metric_is_refused():
    sched = mls.ReduceLROnPlateau(optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1))
    with pytest.raises(ValueError, match="metric given to ReduceLROnPlateau.step"):
        sched.step(math.nan)
    assert sched.last_epoch == 0


def test_cosine_matches_its_closed_form_to_rounding():
    """The recursive rule torch uses is the half cosine of the docstring."""
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.2)
    sched = mls.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for e in range(1, 11):
        sched.step()
        closed = 0.01 + (0.2 - 0.01) * (1 + math.cos(math.pi * e / 10)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(closed, rel=1e-12, abs=1e-15)


# ---- fit(scheduler=) -----------------------------------------------------------------------

def task(seed=0):
    from tiny_models import SRNClassifier
    from minirnn.data import DataLoader
    rng = np.random.default_rng(42)
    data = [(rng.integers(0, 5, size=L), int(rng.integers(0, 3))) for L in rng.integers(2, 7, 12)]
    model = SRNClassifier(hidden=8, rng=seed)
    opt = optim.SGD(model.parameters(), lr=0.2)
    return model, opt, DataLoader(data, batch_size=4, shuffle=True, rng=seed), \
        DataLoader(data, batch_size=6)


def test_fit_steps_the_scheduler_once_per_epoch_and_records_each_epochs_lr():
    from minirnn.train import fit
    model, opt, train, dev = task()
    sched = mls.StepLR(opt, step_size=2, gamma=0.5)
    h = fit(model, nn.CrossEntropyLoss(), opt, train, dev, epochs=5, verbose=False,
            scheduler=sched)
    assert h.lr == [0.2, 0.2, 0.1, 0.1, 0.05]
    assert sched.last_epoch == 5


def test_fit_gives_reduce_on_plateau_the_dev_score():
    from minirnn.train import fit
    model, opt, train, dev = task()
    seen = []
    sched = mls.ReduceLROnPlateau(opt, mode="max", patience=0)
    sched.step = lambda value, _step=sched.step: (seen.append(value), _step(value))
    h = fit(model, nn.CrossEntropyLoss(), opt, train, dev, epochs=3, verbose=False,
            scheduler=sched)
    assert seen == h.dev_metric


def test_a_resumed_run_with_a_scheduler_equals_an_uninterrupted_one(tmp_path):
    from minirnn.train import fit

    def run(path, epochs, resume=False, seed=0):
        model, opt, train, dev = task(seed)
        sched = mls.CosineAnnealingLR(opt, T_max=4)
        h = fit(model, nn.CrossEntropyLoss(), opt, train, dev, epochs=epochs, verbose=False,
                checkpoint=path, resume=resume, scheduler=sched)
        return h, sched

    full, _ = run(tmp_path / "full.npz", 6)
    run(tmp_path / "part.npz", 3)
    h, sched = run(tmp_path / "part.npz", 6, resume=True, seed=9)
    assert h.lr == full.lr and h.train_loss == full.train_loss and sched.last_epoch == 6


@pytest.mark.parametrize("bad, exc, match", [
    ("step", TypeError, "expected scheduler to be a minirnn.optim.lr_scheduler"),
    ("other", ValueError, "a scheduler of the optimizer given to fit"),
    ("plateau-no-dev", ValueError, "ReduceLROnPlateau needs a dev_loader"),
])
def test_fit_refuses_a_scheduler_that_cannot_work(bad, exc, match):
    from minirnn.train import fit
    model, opt, train, dev = task()
    sched = {"step": "step",
             "other": mls.StepLR(optim.SGD(model.parameters(), lr=0.1), step_size=1),
             "plateau-no-dev": mls.ReduceLROnPlateau(opt)}[bad]
    with pytest.raises(exc, match=match):
        fit(model, nn.CrossEntropyLoss(), opt, train, None, epochs=1, verbose=False,
            scheduler=sched)


@pytest.mark.parametrize("first, second, match", [
    (True, False, "written with a learning-rate scheduler"),
    (False, True, "written without a learning-rate scheduler"),
])
def test_resume_refuses_a_scheduler_mismatch_before_anything_changes(tmp_path, first, second,
                                                                     match):
    from minirnn.train import fit
    path = tmp_path / "ck.npz"
    model, opt, train, dev = task()
    fit(model, nn.CrossEntropyLoss(), opt, train, dev, epochs=2, verbose=False,
        checkpoint=path, scheduler=mls.ExponentialLR(opt, 0.9) if first else None)
    model, opt, train, dev = task(seed=3)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=match):
        fit(model, nn.CrossEntropyLoss(), opt, train, dev, epochs=4, verbose=False,
            checkpoint=path, resume=True,
            scheduler=mls.ExponentialLR(opt, 0.9) if second else None)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
