"""minirnn.models: SequenceClassifier, CharLM, EncoderDecoder.

Tiers: finite differences for every model's backward, torch as an oracle for the classifier
(Embedding -> LSTM -> Linear with variable lengths), and behaviour (carried state, generation,
greedy decoding, configs that rebuild a model, checkpoints).
"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minirnn
from minirnn.data import CharCorpus
from minirnn.models import CharLM, EncoderDecoder, SequenceClassifier
from minirnn.train import checkpoint

TOL = 1e-6
ROOT = pathlib.Path(__file__).resolve().parents[1]
CELLS = ("rnn", "lstm", "gru")


def ids(shape, high, seed=0):
    return np.random.default_rng(seed).integers(0, high, size=shape)


def assert_gradcheck(module, *inputs):
    errors = minirnn.gradcheck(module, *inputs)
    assert errors and max(errors.values()) < TOL, errors


# ---- SequenceClassifier ----------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
def test_classifier_shapes_and_gradients(cell):
    model = SequenceClassifier(7, 3, 5, 4, cell=cell, num_layers=2, rng=0)
    x = ids((3, 6), 7)
    assert model(x).shape == (3, 4)
    model.clear_caches()
    assert_gradcheck(model, x)
    assert_gradcheck(model, x, np.array([6, 2, 4]))


def test_classifier_lengths_use_each_sequences_own_last_step():
    model = SequenceClassifier(7, 3, 5, 4, cell="lstm", rng=0)
    x = ids((3, 6), 7)
    lengths = [6, 2, 4]
    padded = model(x, lengths=lengths)
    for n, L in enumerate(lengths):
        alone = model(x[n:n + 1, :L])
        np.testing.assert_allclose(padded[n], alone[0], rtol=1e-12, atol=1e-14)


def test_classifier_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.utils.rnn import pack_padded_sequence

    V, E, H, C = 7, 3, 5, 4
    model = SequenceClassifier(V, E, H, C, cell="lstm", rng=0)
    emb = torch.nn.Embedding(V, E, dtype=torch.float64)
    lstm = torch.nn.LSTM(E, H, batch_first=True, dtype=torch.float64)
    fc = torch.nn.Linear(H, C, dtype=torch.float64)
    state = {f"embedding.{k}": v for k, v in emb.state_dict().items()}
    state.update({f"rnn.{k}": v for k, v in lstm.state_dict().items()})
    state.update({f"fc.{k}": v for k, v in fc.state_dict().items()})
    model.load_state_dict({k: v.numpy() for k, v in state.items()})

    x, lengths = ids((3, 6), V), [6, 2, 4]
    g = np.random.default_rng(1).standard_normal((3, C))
    packed = pack_padded_sequence(emb(torch.tensor(x)), torch.tensor(lengths),
                                  batch_first=True, enforce_sorted=False)
    _, (h_n, _) = lstm(packed)
    logits_t = fc(h_n[-1])
    (logits_t * torch.tensor(g)).sum().backward()

    logits = model(x, lengths=lengths)
    model.backward(g)
    np.testing.assert_allclose(logits, logits_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    params = dict(model.named_parameters())
    for name, module in (("embedding", emb), ("rnn", lstm), ("fc", fc)):
        for pname, p in module.named_parameters():
            np.testing.assert_allclose(params[f"{name}.{pname}"].grad, p.grad.numpy(),
                                       rtol=1e-9, atol=1e-12, err_msg=f"{name}.{pname}")


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="cell"):
        SequenceClassifier(7, 3, 5, 4, cell="transformer")


def test_config_rebuilds_and_checkpoint_round_trips(tmp_path):
    model = SequenceClassifier(7, 3, 5, 4, cell="gru", num_layers=2, rng=0)
    twin = SequenceClassifier(**model.config, rng=1)
    path = checkpoint.save(tmp_path / "model.npz", model)
    saved = checkpoint.load(path, twin)
    assert saved["model_config"] == model.config
    x = ids((2, 5), 7)
    np.testing.assert_array_equal(model(x), twin(x))


def test_float32_model_stays_float32():
    model = SequenceClassifier(7, 3, 5, 4, cell="lstm", dtype=np.float32, rng=0)
    logits = model(ids((2, 5), 7))
    assert logits.dtype == np.float32
    model.backward(np.ones_like(logits))
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


# ---- CharLM ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell,layers,embed_dim", [("rnn", 1, None), ("gru", 1, 3),
                                                   ("lstm", 2, None), ("lstm", 1, 4)])
def test_charlm_gradients(cell, layers, embed_dim):
    model = CharLM(6, 5, cell=cell, num_layers=layers, embed_dim=embed_dim, rng=0)
    x = ids((2, 5), 6)
    assert model(x).shape == (2, 5, 6)
    model.clear_caches()
    assert_gradcheck(model, x)


@pytest.mark.parametrize("cell", CELLS)
def test_charlm_carried_state_continues_the_sequence(cell):
    """Two halves with the state carried give the same logits as one pass: sequential mode."""
    model = CharLM(6, 5, cell=cell, num_layers=2, rng=0)
    x = ids((3, 8), 6)
    whole = model(x)
    first = model(x[:, :3])
    second = model(x[:, 3:], state=model.state)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-12)


def test_charlm_backward_stops_at_the_batch():
    """Truncated BPTT: the carried state is an input, so backward never reaches older batches
    (the second backward must not need the first forward's cache)."""
    model = CharLM(6, 5, cell="lstm", rng=0)
    x = ids((2, 8), 6)
    model(x[:, :4])
    model.clear_caches()
    logits = model(x[:, 4:], state=model.state)
    assert model.backward(np.ones_like(logits)) is None


def test_charlm_refuses_bidirectional_with_the_reason():
    with pytest.raises(ValueError, match="sees the future"):
        CharLM(6, 5, bidirectional=True)


def test_charlm_generate():
    corpus = CharCorpus("abcabcabcabc")
    model = CharLM(corpus.vocab_size, 8, cell="gru", rng=0)
    model.state = "kept"
    greedy = model.generate(corpus, "ab", 10)
    assert len(greedy) == 12 and greedy.startswith("ab")
    assert model.generate(corpus, "ab", 10) == greedy          # greedy is deterministic
    assert model.state == "kept"                                # generation leaves the state
    a = model.generate(corpus, "ab", 10, temperature=1.0, rng=3)
    b = model.generate(corpus, "ab", 10, temperature=1.0, rng=3)
    assert a == b and len(a) == 12
    with pytest.raises(ValueError, match="prefix"):
        model.generate(corpus, "", 3)
    with pytest.raises(ValueError, match="temperature"):
        model.generate(corpus, "a", 3, temperature=0)


@pytest.mark.parametrize("temperature, error", [
    (float("nan"), ValueError), (float("inf"), ValueError), (0.0, ValueError), (-1.0, ValueError),
    ("hot", TypeError), (True, TypeError)], ids=repr)
def test_charlm_generate_refuses_a_bad_temperature(temperature, error):
    corpus = CharCorpus("abcabc")
    model = CharLM(corpus.vocab_size, 4, cell="gru", rng=0)
    with pytest.raises(error, match=r"CharLM.generate: expected temperature \(or None for "
                                    r"greedy\) to be a finite number > 0"):
        model.generate(corpus, "ab", 3, temperature=temperature, rng=0)


@pytest.mark.parametrize("n, error", [(2.5, TypeError), ("3", TypeError), (-1, ValueError)],
                         ids=repr)
def test_charlm_generate_refuses_a_bad_length(n, error):
    corpus = CharCorpus("abcabc")
    with pytest.raises(error, match="CharLM.generate: expected n"):
        CharLM(corpus.vocab_size, 4, cell="gru", rng=0).generate(corpus, "ab", n)


def test_charlm_generate_tiny_temperature_is_greedy_not_nan():
    corpus = CharCorpus("abcabcabc")
    model = CharLM(corpus.vocab_size, 8, cell="gru", rng=0)
    assert model.generate(corpus, "ab", 8, temperature=1e-320, rng=0) == \
        model.generate(corpus, "ab", 8)


# ---- EncoderDecoder ----------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
def test_encoder_decoder_gradients(cell):
    model = EncoderDecoder(7, 6, 3, 5, cell=cell, num_layers=2, rng=0)
    src, lengths, dec = ids((3, 5), 7), np.array([5, 2, 4]), ids((3, 4), 6, seed=1)
    assert model(src, lengths, dec).shape == (3, 4, 6)
    model.clear_caches()
    assert_gradcheck(model, src, lengths, dec)


def test_greedy_decode_stops_when_every_row_ended():
    model = EncoderDecoder(7, 6, 3, 5, cell="gru", rng=0)
    out = model.greedy_decode(ids((3, 5), 7), None, bos_id=1, eos_id=2, max_len=7)
    assert out.shape[0] == 3 and 1 <= out.shape[1] <= 7
    model.fc.bias.data[:] = -100
    model.fc.bias.data[2] = 100          # <eos> always wins: one step
    assert model.greedy_decode(ids((3, 5), 7), None, 1, 2, 7).tolist() == [[2], [2], [2]]


@pytest.mark.parametrize("name, value, error", [
    ("bos_id", 1.0, TypeError), ("bos_id", 1.5, TypeError), ("eos_id", True, TypeError),
    ("bos_id", 6, IndexError), ("eos_id", -1, IndexError)], ids=repr)
def test_greedy_decode_refuses_ids_that_are_not_target_ids(name, value, error):
    model = EncoderDecoder(7, 6, 3, 5, cell="gru", rng=0)
    kwargs = dict(bos_id=1, eos_id=2, max_len=3)
    kwargs[name] = value
    with pytest.raises(error, match=rf"greedy_decode: expected {name}"):
        model.greedy_decode(ids((3, 5), 7), None, **kwargs)


@pytest.mark.parametrize("max_len", [0, -1, 2.5])
def test_greedy_decode_needs_at_least_one_step(max_len):
    model = EncoderDecoder(7, 6, 3, 5, cell="gru", rng=0)
    with pytest.raises(ValueError, match="max_len"):
        model.greedy_decode(ids((3, 5), 7), None, bos_id=1, eos_id=2, max_len=max_len)


# ---- the package -----------------------------------------------------------------------------

def test_import_minirnn_makes_models_available_without_heavy_imports():
    heavy = ("torch", "matplotlib", "tqdm", "scipy")
    code = (f"import sys, minirnn; minirnn.models.CharLM; "
            f"print(sorted(m for m in {heavy} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"


def test_the_mit_license_that_setup_cfg_names_is_there():
    text = (ROOT / "LICENSE").read_text()
    assert "MIT License" in text and "Copyright (c) 2026 minirnn authors" in text
    assert "license = MIT" in (ROOT / "setup.cfg").read_text()
