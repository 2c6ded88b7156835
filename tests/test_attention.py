"""Additive attention: both tiers against torch autograd, against each other, by finite
differences, and inside the encoder–decoder (masks over padded source steps throughout)."""
import numpy as np
import pytest
import torch

import minirnn
from minirnn.functional import attention as engine
from minirnn.models import EncoderDecoder
from minirnn.models.seq2seq import AdditiveAttention
from minirnn.textbook import attention as textbook

from torch_oracle import assert_close, tensor

N, T, S, H, A = 3, 4, 6, 5, 7
LENGTHS = np.array([6, 2, 4])


def problem(seed=0, lengths=LENGTHS):
    rng = np.random.default_rng(seed)
    arrays = dict(queries=rng.standard_normal((N, T, H)), keys=rng.standard_normal((N, S, H)),
                  values=rng.standard_normal((N, S, H)), W_q=rng.uniform(-1, 1, (A, H)),
                  W_k=rng.uniform(-1, 1, (A, H)), v=rng.uniform(-1, 1, A))
    mask = None if lengths is None else (np.arange(S) < lengths[:, None]).astype(float)
    grads = dict(dcontexts=rng.standard_normal((N, T, H)), dweights=rng.standard_normal((N, T, S)))
    return arrays, mask, grads


def torch_attention(queries, keys, values, W_q, W_k, v, mask):
    """The equations in torch ops; autograd is the oracle for the backward."""
    z = torch.tanh((queries @ W_q.T)[:, :, None, :] + (keys @ W_k.T)[:, None, :, :])
    e = z @ v                                                   # (N, T, S)
    if mask is not None:
        e = e.masked_fill(mask[:, None, :] == 0, float("-inf"))
    weights = torch.softmax(e, dim=2)
    return weights @ values, weights


def torch_reference(arrays, mask, grads, with_dweights):
    t = {k: tensor(a, requires_grad=True) for k, a in arrays.items()}
    contexts, weights = torch_attention(**t, mask=None if mask is None else tensor(mask))
    loss = (contexts * tensor(grads["dcontexts"])).sum()
    if with_dweights:
        loss = loss + (weights * tensor(grads["dweights"])).sum()
    loss.backward()
    return contexts, weights, {k: x.grad for k, x in t.items()}


@pytest.mark.parametrize("tier", [textbook, engine], ids=["textbook", "engine"])
@pytest.mark.parametrize("lengths", [LENGTHS, None], ids=["masked", "full"])
@pytest.mark.parametrize("with_dweights", [False, True])
def test_sequence_attention_matches_torch(tier, lengths, with_dweights):
    arrays, mask, grads = problem(1, lengths)
    contexts, weights, cache = tier.attention_sequence_forward(**arrays, mask=mask)
    dq, dk, du, pgrads = tier.attention_sequence_backward(
        grads["dcontexts"], grads["dweights"] if with_dweights else None, cache)
    t_contexts, t_weights, t_grads = torch_reference(arrays, mask, grads, with_dweights)
    assert_close(contexts, t_contexts, np.float64, "contexts")
    assert_close(weights, t_weights, np.float64, "weights")
    if mask is not None:
        assert np.all(weights[mask[:, None, :].repeat(T, 1) == 0] == 0)   # padding: exactly 0
    for name, mine in dict(queries=dq, keys=dk, values=du, **pgrads).items():
        assert_close(mine, t_grads[name], np.float64, f"grad of {name}")


def test_the_step_function_is_one_query_of_the_sequence():
    arrays, mask, grads = problem(2)
    q = arrays.pop("queries")
    c, w, cache = textbook.attention_forward(q[:, 1], **arrays, mask=mask)
    t = {k: tensor(a, requires_grad=True) for k, a in dict(queries=q[:, 1:2], **arrays).items()}
    tc, tw = torch_attention(**t, mask=tensor(mask))
    ((tc[:, 0] * tensor(grads["dcontexts"][:, 1])).sum()
     + (tw[:, 0] * tensor(grads["dweights"][:, 1])).sum()).backward()
    dq, dk, du, pgrads = textbook.attention_backward(grads["dcontexts"][:, 1],
                                                     grads["dweights"][:, 1], cache)
    assert_close(c, tc[:, 0], np.float64, "context")
    assert_close(w, tw[:, 0], np.float64, "weights")
    for name, mine in dict(queries=dq[:, None], keys=dk, values=du, **pgrads).items():
        assert_close(mine, t[name].grad, np.float64, f"grad of {name}")


@pytest.mark.parametrize("with_dweights", [False, True])
def test_tiers_agree_to_1e_12(with_dweights):
    arrays, mask, grads = problem(3)
    out = {}
    for name, tier in (("textbook", textbook), ("engine", engine)):
        contexts, weights, cache = tier.attention_sequence_forward(**arrays, mask=mask)
        back = tier.attention_sequence_backward(
            grads["dcontexts"], grads["dweights"] if with_dweights else None, cache)
        out[name] = [contexts, weights, *back[:3], *[back[3][k] for k in ("W_q", "W_k", "v")]]
    for a, b in zip(out["textbook"], out["engine"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("impl", ["engine", "textbook"])
def test_attention_module_gradcheck(impl):
    arrays, _, _ = problem(4)
    att = AdditiveAttention(H, H, A, dtype=np.float64, rng=0)
    with minirnn.use_impl(impl):
        errors = minirnn.gradcheck(att, arrays["queries"], arrays["keys"], arrays["values"],
                                   LENGTHS)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_encoder_decoder_with_attention_gradcheck(cell):
    rng = np.random.default_rng(5)
    model = EncoderDecoder(7, 6, 3, 4, cell=cell, attention=True, attention_size=5,
                           dtype=np.float64, rng=0)
    src, dec = rng.integers(0, 7, (3, 5)), rng.integers(0, 6, (3, 4))
    # eps 1e-5: the LSTM's W_q gradient is tiny (~1e-4 of the others), and at eps 1e-6 the
    # rounding error of the differences, ∝ 1/eps, reaches 4e-6 of it (1e-4: 4e-8; 1e-7: 3e-5)
    errors = minirnn.gradcheck(model, src, np.array([5, 2, 4]), dec, eps=1e-5)
    assert "attention.W_k" in errors and max(errors.values()) < 1e-6, errors


def test_encoder_decoder_tiers_agree_with_attention():
    rng = np.random.default_rng(6)
    src, dec = rng.integers(0, 7, (3, 5)), rng.integers(0, 6, (3, 4))
    G = rng.standard_normal((3, 4, 6))
    results = []
    for impl in ("engine", "textbook"):
        model = EncoderDecoder(7, 6, 3, 4, cell="gru", attention=True, rng=0)
        with minirnn.use_impl(impl):
            logits = model(src, np.array([5, 2, 4]), dec)
            model.backward(G)
        results.append([logits] + [p.grad for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_padding_does_not_change_the_output():
    """A source padded further (and masked) decodes to the very same logits."""
    rng = np.random.default_rng(7)
    model = EncoderDecoder(7, 6, 3, 4, cell="gru", attention=True, rng=0)
    src, dec = rng.integers(3, 7, (2, 4)), rng.integers(0, 6, (2, 3))
    with minirnn.no_grad():
        a = model(src, np.array([4, 3]), dec)
        b = model(np.pad(src, ((0, 0), (0, 3)), constant_values=0), np.array([4, 3]), dec)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert model.last_attention.shape == (2, 3, 7) and np.all(model.last_attention[:, :, 4:] == 0)


def test_bad_arguments():
    att = AdditiveAttention(H, H, A, rng=0)
    arrays, _, _ = problem(0)
    with pytest.raises(ValueError, match="queries"):
        att(arrays["queries"][:, :, :2], arrays["keys"], arrays["values"])
    with pytest.raises(ValueError, match="keys"):
        att(arrays["queries"], arrays["keys"][:2], arrays["values"])
    with pytest.raises(ValueError, match="length"):
        att(arrays["queries"], arrays["keys"], arrays["values"], [7, 1, 1])
    with pytest.raises(TypeError, match="attention"):
        EncoderDecoder(7, 6, 3, 4, attention="yes")


def test_config_rebuilds_an_attention_model():
    model = EncoderDecoder(7, 6, 3, 4, attention=True, attention_size=5, rng=0)
    again = EncoderDecoder(**model.config)
    assert [n for n, _ in again.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert "attention" not in EncoderDecoder(7, 6, 3, 4, rng=0).config   # as before
