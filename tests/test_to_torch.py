"""tools/to_torch.py, tools/from_torch.py and the twins of tools/torch_twins.py.

1. Every twin computes minirnn's function: outputs, final states and every gradient agree
   in float64 (torch_oracle's rtol 1e-9), for the bare layers with each option torch has
   (layers, bidirectional, proj_size, bias, batch_first, initial states, lengths, masks
   without gaps) and for each ready model (SequenceClassifier, CharLM, EncoderDecoder with
   and without attention), whose weights come from minirnn through the converter.
2. What torch cannot express is refused, naming the option.
3. minirnn -> torch -> minirnn gives back every weight and optimiser state bit for bit; the
   torch file loads with weights_only=True.
4. Training goes on: one more epoch on the same batches in torch, from the converted
   checkpoint, gives minirnn's next-epoch loss and weights (float64, 1e-9), for each optimiser.
"""
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from minirnn import models, nn, optim
from minirnn.train import checkpoint, fit
from tiny_models import SRNClassifier
from torch_oracle import assert_close, tensor, to_numpy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import from_torch  # noqa: E402
import to_torch  # noqa: E402
import torch_twins  # noqa: E402

F64 = np.float64


def compare_param_grads(mini, twin, label):
    grads = {name: p.grad for name, p in twin.named_parameters()}
    for name, p in mini.named_parameters():
        expected = np.zeros(p.data.shape) if grads[name] is None else grads[name]
        assert_close(p.grad, expected, F64, f"grad of {name}", label)


# ---- 1. the twins compute minirnn's function -------------------------------------------------

LAYER_CASES = [
    ("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True)),
    ("RNN", dict(bias=False, batch_first=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
    ("LSTM", dict(bias=False, batch_first=True, proj_size=3)),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("GRU", dict(bias=False)),
]


@pytest.mark.parametrize("how", ["hx", "lengths", "mask"])
@pytest.mark.parametrize("cls, options", LAYER_CASES, ids=lambda v: str(v))
def test_layer_twin_matches_minirnn(cls, options, how):
    T, N, D, H = 5, 3, 4, 4
    rng = np.random.default_rng(1)
    mini = getattr(nn, cls)(D, H, **options, rng=2)
    twin, _ = to_torch.live_to_torch(mini)
    lstm = cls == "LSTM"
    x = rng.standard_normal((N, T, D) if mini.batch_first else (T, N, D))
    LD = mini.num_layers * mini.num_directions
    h0 = rng.standard_normal((LD, N, mini.output_size)) if how == "hx" else np.zeros(
        (LD, N, mini.output_size))
    c0 = rng.standard_normal((LD, N, H)) if how == "hx" else np.zeros((LD, N, H))
    hx = (h0, c0) if lstm else h0
    lengths = [T, 2, 4] if how == "lengths" else None
    mask = None
    if how == "mask":                    # ones then zeros: a Keras mask torch can express
        mask = np.arange(T)[:, None] < np.array([3, T, 1])[None, :]          # (T, N)
        mask = mask.T if mini.batch_first else mask

    xt, h0t, c0t = tensor(x, True), tensor(h0, True), tensor(c0, True)
    out_t, state_t = twin(xt, (h0t, c0t) if lstm else h0t, lengths=lengths, mask=mask)
    states_t = state_t if lstm else (state_t,)
    g_out = rng.standard_normal(tuple(out_t.shape))
    g_states = [rng.standard_normal(tuple(s.shape)) for s in states_t]
    loss = (out_t * tensor(g_out)).sum() + sum((s * tensor(g)).sum()
                                               for s, g in zip(states_t, g_states))
    loss.backward()

    out, state = mini(x, hx if how == "hx" else None, lengths=lengths, mask=mask)
    dx, dhx = mini.backward(g_out, tuple(g_states) if lstm else g_states[0])
    label = f"{cls} {options} {how}"
    assert_close(out, out_t, F64, "output", label)
    for s, s_t in zip(state if lstm else (state,), states_t):
        assert_close(s, s_t, F64, "final state", label)
    assert_close(dx, xt.grad, F64, "grad of x", label)
    for d, d_t in zip(dhx if lstm else (dhx,), (h0t.grad, c0t.grad) if lstm else (h0t.grad,)):
        assert_close(d, d_t, F64, "grad of the initial state", label)
    compare_param_grads(mini, twin, label)


def test_stacked_layers_with_dropout_agree_in_eval_mode():
    mini = nn.LSTM(3, 4, 3, dropout=0.4, rng=0).eval()
    twin, _ = to_torch.live_to_torch(mini)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    out, (h_n, c_n) = mini(x)
    out_t, (h_n_t, c_n_t) = twin.eval()(tensor(x))
    for a, b, what in ((out, out_t, "output"), (h_n, h_n_t, "h_n"), (c_n, c_n_t, "c_n")):
        assert_close(a, b, F64, what)
    assert twin.dropout == 0.4


def test_unbatched_input_with_a_mask():
    mini = nn.GRU(3, 4, bidirectional=True, rng=0)
    twin, _ = to_torch.live_to_torch(mini)
    x = np.random.default_rng(0).standard_normal((4, 3))
    mask = np.array([1, 1, 1, 0])
    out, h_n = mini(x, mask=mask)
    out_t, h_n_t = twin(tensor(x), mask=mask)
    assert_close(out, out_t, F64, "output")
    assert_close(h_n, h_n_t, F64, "h_n")


def _model_cases():
    V, E, H = 6, 3, 4
    yield "SequenceClassifier lstm 2 layers", models.SequenceClassifier(V, E, H, 3, "lstm", 2,
                                                                         rng=1)
    yield "SequenceClassifier gru", models.SequenceClassifier(V, E, H, 3, "gru", rng=1)
    yield "SequenceClassifier rnn", models.SequenceClassifier(V, E, H, 3, "rnn", rng=1)
    yield "CharLM lstm one-hot 2 layers", models.CharLM(V, H, "lstm", 2, rng=1)
    yield "CharLM gru embedding", models.CharLM(V, H, "gru", embed_dim=E, rng=1)
    yield "CharLM rnn one-hot", models.CharLM(V, H, "rnn", rng=1)
    for cell in ("gru", "lstm", "rnn"):
        for attention in (False, True):
            yield (f"EncoderDecoder {cell} attention={attention}",
                   models.EncoderDecoder(V, V + 1, E, H, cell, 2 if cell == "lstm" else 1,
                                         attention=attention, attention_size=3, rng=1))


MODEL_CASES = list(_model_cases())


def _as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def _inputs(model, rng):
    """(minirnn's call arguments, the twin's) for one batch of 3."""
    ids = rng.integers(0, 6, (3, 5))
    if isinstance(model, models.SequenceClassifier):
        return (ids, [5, 2, 4]), (torch.tensor(ids), [5, 2, 4])
    if isinstance(model, models.CharLM):
        return (ids,), (torch.tensor(ids),)
    dec = rng.integers(0, 7, (3, 4))
    return (ids, [5, 1, 3], dec), (torch.tensor(ids), [5, 1, 3], torch.tensor(dec))


@pytest.mark.parametrize("label, model", MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_model_twin_matches_minirnn(label, model):
    rng = np.random.default_rng(3)
    twin, _ = to_torch.live_to_torch(model)
    args, args_t = _inputs(model, rng)
    logits_t = twin(*args_t)
    g = rng.standard_normal(tuple(logits_t.shape))
    (logits_t * tensor(g)).sum().backward()
    logits = model(*args)
    model.backward(g)
    assert_close(logits, logits_t, F64, "logits", label)
    compare_param_grads(model, twin, label)
    if isinstance(model, models.CharLM):        # the carried state, and a second batch on it
        for s, s_t in zip(_as_tuple(model.state), _as_tuple(twin.state)):
            assert_close(s, s_t, F64, "state", label)
        ids = rng.integers(0, 6, (3, 2))
        with torch.no_grad():
            second_t = twin(torch.tensor(ids), twin.state)
        assert_close(model(ids, state=model.state), second_t, F64, "logits on the state", label)
    if isinstance(model, models.EncoderDecoder):
        model.clear_caches()
        ids = model.greedy_decode(args[0], args[1], 0, 1, 4)
        ids_t = twin.greedy_decode(args_t[0], args_t[1], 0, 1, 4)
        np.testing.assert_array_equal(ids, to_numpy(ids_t))
        if model.attention is not None:
            assert_close(model.last_attention, twin.last_attention, F64, "attention", label)


def test_generate_greedily_writes_the_same_text():
    from minirnn.data import CharCorpus
    corpus = CharCorpus("abcabd cab")
    model = models.CharLM(corpus.vocab_size, 5, "gru", rng=4)
    twin, _ = to_torch.live_to_torch(model)
    assert twin.generate(corpus, "ab", 12) == model.generate(corpus, "ab", 12)


# ---- 2. what torch cannot express ------------------------------------------------------------

@pytest.mark.parametrize("cls, options, option", [
    ("RNN", dict(nonlinearity="sigmoid"), "nonlinearity='sigmoid'"),
    ("RNN", dict(nonlinearity="identity"), "nonlinearity='identity'"),
    ("LSTM", dict(peephole=True), "peephole=True"),
    ("LSTM", dict(gate_activation="hard_sigmoid"), "gate_activation='hard_sigmoid'"),
    ("LSTM", dict(cell_activation="relu"), "cell_activation='relu'"),
    ("GRU", dict(reset_after=False), "reset_after=False"),
    ("GRU", dict(gate_activation="step", cell_activation="identity"), "gate_activation='step'"),
])
def test_what_torch_cannot_express_is_refused_by_name(cls, options, option):
    mini = getattr(nn, cls)(3, 4, **options, rng=0)
    with pytest.raises(ValueError, match=f"torch cannot express {option}"):
        to_torch.live_to_torch(mini)


def test_the_command_refuses_a_peephole_checkpoint_by_name(tmp_path, capsys):
    path = checkpoint.save(tmp_path / "peep.npz", nn.LSTM(3, 4, peephole=True, rng=0))
    assert to_torch.main([str(path), str(tmp_path / "out.pt")]) == 1
    assert "torch cannot express peephole=True" in capsys.readouterr().err
    assert not (tmp_path / "out.pt").exists()


@pytest.mark.parametrize("mask", [[[1, 0, 1, 0]], [[0, 1, 1, 1]], [[0, 0, 0, 0]]],
                         ids=["gap", "masked first step", "all masked"])
def test_masks_torch_cannot_express_are_refused(mask):
    twin = torch_twins.LSTM(2, 3, batch_first=True)
    with pytest.raises(ValueError, match="torch cannot express sequence 0's mask"):
        twin(torch.zeros(1, 4, 2, dtype=torch.float64), mask=np.array(mask))


def test_models_without_a_twin_or_a_config_are_refused(tmp_path, capsys):
    path = checkpoint.save(tmp_path / "own.npz", SRNClassifier())
    assert to_torch.main([str(path), str(tmp_path / "out.pt")]) == 1
    assert "no torch twin for a 'SRNClassifier'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="records no config for its LSTM"):
        torch_twins.build("LSTM", None)


# ---- 3. minirnn -> torch -> minirnn, bit for bit ---------------------------------------------

def _trained(model, optimizer, steps=3, seed=0):
    """``model`` after a few steps of ``optimizer`` on random batches (so every state is set)."""
    rng = np.random.default_rng(seed)
    crit = nn.CrossEntropyLoss()
    for _ in range(steps):
        args, _ = _inputs(model, rng)
        model.zero_grad()
        logits = model(*args)
        C = logits.shape[-1]
        target = rng.integers(0, C, logits.shape[:-1])
        crit(logits.reshape(-1, C), target.reshape(-1))
        model.backward(crit.backward().reshape(logits.shape))
        optimizer.step()
    return model, optimizer


def _round_trip_cases():
    m = models.CharLM(6, 4, "lstm", 2, rng=0)
    yield "CharLM Adam", m, optim.Adam(m.parameters(), lr=0.01, weight_decay=1e-3)
    m = models.EncoderDecoder(6, 7, 3, 4, "gru", attention=True, rng=0)
    yield "EncoderDecoder SGD", m, optim.SGD(m.parameters(), lr=0.1, momentum=0.9,
                                             nesterov=True)
    m = models.SequenceClassifier(6, 3, 4, 3, "rnn", dtype=np.float32, rng=0)
    yield "SequenceClassifier float32 Adagrad", m, optim.Adagrad(m.parameters(), lr_decay=0.1)
    m = models.EncoderDecoder(6, 7, 3, 4, "lstm", rng=0)
    yield "EncoderDecoder RMSprop", m, optim.RMSprop(m.parameters(), momentum=0.5,
                                                     centered=True)


ROUND_TRIP = list(_round_trip_cases())


@pytest.mark.parametrize("label, model, optimizer", ROUND_TRIP, ids=[c[0] for c in ROUND_TRIP])
def test_round_trip_is_bit_identical(tmp_path, label, model, optimizer):
    model, optimizer = _trained(model, optimizer)
    first, pt, back = tmp_path / "a.npz", tmp_path / "a.pt", tmp_path / "b.npz"
    best = {"best/" + k: v + 1 for k, v in model.state_dict().items()}
    checkpoint.save(first, model, optimizer, arrays=best, epoch=3, history={"loss": [1.5]})
    assert to_torch.main([str(first), str(pt)]) == 0
    raw = torch.load(pt, weights_only=True)       # tensors and plain data only
    assert raw["model_class"] == type(model).__name__ and raw["model_config"] == model.config
    assert from_torch.main([str(pt), str(back)]) == 0
    a, b = checkpoint.load(first), checkpoint.load(back)
    assert (a["meta"], a["model_class"], a["model_config"]) == \
        (b["meta"], b["model_class"], b["model_config"])
    for what in ("model_state", "arrays"):
        assert list(a[what]) == list(b[what])
        for name in a[what]:
            x, y = a[what][name], b[what][name]
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), f"{what} {name}"
    sa, sb = a["optimizer_state"], b["optimizer_state"]
    assert sa["type"] == sb["type"] and sa["param_groups"] == sb["param_groups"]
    assert sa["state"].keys() == sb["state"].keys()
    for i, entry in sa["state"].items():
        assert entry.keys() == sb["state"][i].keys()
        for key, value in entry.items():
            other = sb["state"][i][key]
            assert np.asarray(value).dtype == np.asarray(other).dtype
            assert np.asarray(value).tobytes() == np.asarray(other).tobytes(), f"{i} {key}"


def test_a_layer_round_trips_with_its_options(tmp_path):
    layer = nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2, bias=False, batch_first=True,
                    rng=0)
    checkpoint.save(tmp_path / "a.npz", layer)
    assert to_torch.main([str(tmp_path / "a.npz"), str(tmp_path / "a.pt")]) == 0
    twin, opt, _ = torch_twins.load(tmp_path / "a.pt")
    assert isinstance(twin, torch.nn.LSTM) and opt is None
    assert (twin.proj_size, twin.bidirectional, twin.bias, twin.batch_first) == (2, True, False,
                                                                                   True)
    assert from_torch.main([str(tmp_path / "a.pt"), str(tmp_path / "b.npz")]) == 0
    back = checkpoint.load(tmp_path / "b.npz", nn.LSTM(**layer.get_config()))
    for k, v in layer.state_dict().items():
        assert v.tobytes() == back["model_state"][k].tobytes()


def test_torch_only_optimiser_options_are_refused_on_the_way_back():
    twin, _ = to_torch.live_to_torch(models.CharLM(5, 3, "gru", rng=0))
    amsgrad = torch.optim.Adam(twin.parameters(), amsgrad=True)
    with pytest.raises(ValueError, match="no amsgrad=True"):
        from_torch.live_from_torch(twin, amsgrad)


# ---- 4. training continues where it stopped --------------------------------------------------

def torch_epoch(model, optimizer, batches, clip):
    """One epoch in torch, step for step as minirnn.train.fit: mean loss per target."""
    model.train()
    total, count = 0.0, 0
    for batch in batches:
        x, y = torch.tensor(batch[0]), torch.tensor(batch[1])
        optimizer.zero_grad()
        logits = model(x) if len(batch) == 2 else model(x, lengths=batch[2])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total, count = total + loss.item() * y.numel(), count + y.numel()
    return total / count


OPTIMIZERS = [("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-3)),
              ("SGD", dict(lr=0.5, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
              ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
              ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True))]


def _continue_in_both(tmp_path, make_model, batches, kind, hyper):
    """Epoch 1 in minirnn (fit, checkpointed); epoch 2 resumed in minirnn and, from the
    converted checkpoint, in torch. Returns (minirnn's epoch-2 loss, torch's, both models)."""
    path, pt = tmp_path / "run.npz", tmp_path / "run.pt"
    crit = nn.CrossEntropyLoss()
    model = make_model(0)
    fit(model, crit, getattr(optim, kind)(model.parameters(), **hyper), batches, epochs=1,
        clip=1.0, checkpoint=path, verbose=False)
    assert to_torch.main([str(path), str(pt)]) == 0
    twin, torch_opt, _ = torch_twins.load(pt)
    loss_t = torch_epoch(twin, torch_opt, batches, clip=1.0)
    resumed = make_model(1)                                # other weights: all must come back
    history = fit(resumed, crit, getattr(optim, kind)(resumed.parameters(), **hyper), batches,
                  epochs=2, clip=1.0, checkpoint=path, resume=True, verbose=False)
    return history["train_loss"][-1], loss_t, resumed, twin


@pytest.mark.parametrize("kind, hyper", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_charlm_continues_in_torch_as_in_minirnn(tmp_path, kind, hyper):
    rng = np.random.default_rng(5)
    text = rng.integers(0, 7, 4 * 6 * 4 + 1)
    batches = [(text[k:k + 24].reshape(4, 6), text[k + 1:k + 25].reshape(4, 6))
               for k in range(0, 96, 24)]
    loss, loss_t, model, twin = _continue_in_both(
        tmp_path, lambda seed: models.CharLM(7, 5, "lstm", rng=seed), batches, kind, hyper)
    np.testing.assert_allclose(loss_t, loss, rtol=1e-9, atol=0)
    for name, p in twin.named_parameters():
        assert_close(model.state_dict()[name], p, F64, f"{name} after the epoch", kind)


def test_classifier_with_lengths_continues_in_torch_as_in_minirnn(tmp_path):
    rng = np.random.default_rng(6)
    batches = [(rng.integers(0, 6, (4, 5)), rng.integers(0, 3, 4), rng.integers(1, 6, 4))
               for _ in range(3)]
    loss, loss_t, model, twin = _continue_in_both(
        tmp_path, lambda seed: models.SequenceClassifier(6, 3, 4, 3, "gru", 2, rng=seed),
        batches, "Adam", dict(lr=0.05))
    np.testing.assert_allclose(loss_t, loss, rtol=1e-9, atol=0)
    for name, p in twin.named_parameters():
        assert_close(model.state_dict()[name], p, F64, f"{name} after the epoch")


# ---- learning-rate schedulers go on as they were ---------------------------------------------

SCHEDULERS = [("StepLR", dict(step_size=2, gamma=0.5)),
              ("MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.3)),
              ("ExponentialLR", dict(gamma=0.9)),
              ("CosineAnnealingLR", dict(T_max=3, eta_min=0.001)),
              ("LambdaLR", dict(lr_lambda=lambda e: 1 / (1 + e))),
              ("ReduceLROnPlateau", dict(factor=0.5, patience=1, cooldown=1))]


@pytest.mark.parametrize("kind, options", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_a_scheduler_goes_on_in_torch_with_minirnn_s_learning_rates(kind, options):
    from minirnn.optim import lr_scheduler
    metrics = [3.0, 2.0, 2.5, 2.6, 2.7, 1.0, 1.5, 1.6, 1.7, 1.8]
    mini_opt = optim.Adam([nn.Linear(2, 2, rng=0).weight], lr=0.1)
    mini = getattr(lr_scheduler, kind)(mini_opt, **options)
    plateau = kind == "ReduceLROnPlateau"
    for k in range(4):
        mini.step(metrics[k]) if plateau else mini.step()
    torch_opt = torch.optim.Adam([torch.zeros(2, requires_grad=True)],
                                 lr=mini_opt.param_groups[0]["lr"])
    sched = torch_twins.scheduler(torch_opt, mini.state_dict(), options.get("lr_lambda"))
    assert torch_opt.param_groups[0]["lr"] == mini_opt.param_groups[0]["lr"]
    for k in range(4, len(metrics)):
        mini.step(metrics[k]) if plateau else mini.step()
        torch_opt.step()                      # (no gradients: only so torch sees the order)
        sched.step(metrics[k]) if plateau else sched.step()
        assert torch_opt.param_groups[0]["lr"] == mini_opt.param_groups[0]["lr"], k
        assert sched.get_last_lr() == mini.get_last_lr()


def test_fit_s_scheduler_carries_over_through_the_file(tmp_path):
    from minirnn.optim.lr_scheduler import StepLR
    rng = np.random.default_rng(7)
    batches = [(rng.integers(0, 6, (4, 5)), rng.integers(0, 6, (4, 5))) for _ in range(2)]
    path, pt, crit = tmp_path / "run.npz", tmp_path / "run.pt", nn.CrossEntropyLoss()

    def run(seed, epochs, resume):
        model = models.CharLM(6, 4, "gru", rng=seed)
        opt = optim.Adam(model.parameters(), lr=0.05)
        return model, fit(model, crit, opt, batches, epochs=epochs, clip=1.0, checkpoint=path,
                          resume=resume, scheduler=StepLR(opt, 1, 0.5), verbose=False)
    run(0, 1, False)
    assert to_torch.main([str(path), str(pt)]) == 0
    twin, torch_opt, data = torch_twins.load(pt)
    sched = torch_twins.scheduler(torch_opt, data["meta"]["scheduler"])
    losses = []
    for _ in range(2):
        losses.append(torch_epoch(twin, torch_opt, batches, clip=1.0))
        sched.step()
    model, history = run(1, 3, True)
    np.testing.assert_allclose(losses, history["train_loss"][1:], rtol=1e-9, atol=0)
    assert history["lr"][1:] == [0.025, 0.0125] and sched.get_last_lr() == [0.00625]
    for name, p in twin.named_parameters():
        assert_close(model.state_dict()[name], p, F64, f"{name} after two epochs")


def test_from_torch_reads_only_tensors_and_plain_data(tmp_path, capsys):
    import pickle
    with open(tmp_path / "code.pt", "wb") as f:        # a pickle that would call print
        pickle.dump({"format": torch_twins.FORMAT, "call": print}, f, protocol=2)
    checkpoint.save(tmp_path / "a.npz", models.CharLM(5, 3, rng=0))
    for name, why in (("code.pt", "cannot read .* as a torch file"),
                      ("a.npz", "cannot read .* as a torch file"),
                      ("missing.pt", "no such file")):
        assert from_torch.main([str(tmp_path / name), str(tmp_path / "b.npz")]) == 1
        assert re.search(why, capsys.readouterr().err), name
    assert not (tmp_path / "b.npz").exists()
