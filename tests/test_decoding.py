"""Beam search and BLEU: d2l's published BLEU values, beam 1 = greedy, a wide beam = the
exhaustive best, argument checks."""
import itertools
import math

import numpy as np
import pytest

import minirnn
from minirnn.functional import log_softmax
from minirnn.models import EncoderDecoder
from minirnn.models.decoding import beam_search, bleu, evaluate, length_penalty


# d2l (Dive into Deep Learning, "Sequence-to-Sequence Learning") prints, for its trained
# English -> French model with k=2: "go . => va !, bleu 1.000", "i lost . => j'ai perdu .,
# bleu 1.000", "he's calm . => il est riche ., bleu 0.658", "i'm home . => je suis chez
# moi ., bleu 1.000"
@pytest.mark.parametrize("pred, label, expected", [
    ("va !", "va !", 1.0), ("j'ai perdu .", "j'ai perdu .", 1.0),
    ("il est riche .", "il est calme .", 0.658), ("je suis chez moi .", "je suis chez moi .", 1.0)])
def test_bleu_reproduces_d2l_published_values(pred, label, expected):
    assert round(bleu(pred, label, k=2), 3) == expected


def test_bleu_by_hand():
    # p1 = 3/4 with weight 1/2, p2 = 1/3 with weight 1/4, no brevity penalty
    assert bleu("il est riche .", "il est calme .", 2) == pytest.approx(
        math.sqrt(3 / 4) * (1 / 3) ** 0.25, rel=1e-15)
    # brevity penalty exp(1 − 4/2) for a prediction half the label's length, all matches
    assert bleu("a b", "a b c d", 4) == pytest.approx(math.exp(-1), rel=1e-15)
    # clipping: "a a a" matches the label's single "a" once
    assert bleu("a a a", "a b c", 1) == pytest.approx((1 / 3) ** 0.5, rel=1e-15)
    assert bleu(list("1998-03-03"), list("1998-03-03")) == 1.0
    assert bleu([], list("1998")) == 0.0


def test_evaluate():
    r = evaluate(["1998-03-03", "2001-01-01"], ["1998-03-03", "2001-01-02"])
    assert r["exact_match"] == 0.5 and 0.5 < r["bleu"] < 1
    with pytest.raises(ValueError):
        evaluate(["a"], ["a", "b"])


def model_and_source(cell="gru", attention=True):
    rng = np.random.default_rng(0)
    model = EncoderDecoder(6, 5, 3, 4, cell=cell, attention=attention, rng=0)
    return model, rng.integers(0, 6, (4, 5)), np.array([5, 3, 4, 1])


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("attention", [False, True])
def test_beam_of_one_is_greedy(cell, attention):
    model, src, lengths = model_and_source(cell, attention)
    greedy = model.greedy_decode(src, lengths, 1, 2, 6)
    ids, _ = beam_search(model, src, lengths, 1, 2, 6, beam_size=1)
    for g, b in zip(greedy, ids):           # equal up to and including the first <eos>
        end = list(g).index(2) + 1 if 2 in g else len(g)
        assert list(b[:end]) == list(g[:end])


def sequence_logp(model, src, lengths, seq):
    """log P(seq | src) by teacher forcing (seq ends at <eos> or max_len)."""
    dec_in = np.array([[1] + list(seq[:-1])])
    with minirnn.no_grad():
        lp = log_softmax(model(src, lengths, dec_in))[0]
    return sum(lp[t, y] for t, y in enumerate(seq))


@pytest.mark.parametrize("alpha", [0.0, 0.75, 2.0])
def test_a_wide_beam_finds_the_exhaustive_best(alpha):
    model, src, lengths = model_and_source()
    V, max_len, eos = 5, 3, 2
    for n in range(2):
        s, l = src[n:n + 1], lengths[n:n + 1]
        candidates = [seq for L in range(1, max_len + 1)
                      for seq in itertools.product(range(V), repeat=L)
                      if eos not in seq[:-1] and (seq[-1] == eos or L == max_len)]
        best = max(candidates, key=lambda q: sequence_logp(model, s, l, q)
                   / length_penalty(len(q), alpha))
        ids, score = beam_search(model, s, l, 1, eos, max_len, beam_size=V ** max_len,
                                 alpha=alpha)
        got = list(ids[0][:list(ids[0]).index(eos) + 1]) if eos in ids[0] else list(ids[0])
        assert tuple(got) == best
        assert score[0] == pytest.approx(sequence_logp(model, s, l, best)
                                         / length_penalty(len(best), alpha), rel=1e-10)


@pytest.mark.parametrize("kwargs, error", [
    (dict(beam_size=0), ValueError), (dict(beam_size=2.5), ValueError),
    (dict(alpha=-1), ValueError), (dict(alpha="x"), TypeError), (dict(max_len=0), ValueError),
    (dict(eos_id=9), IndexError)])
def test_beam_search_checks_its_arguments(kwargs, error):
    model, src, lengths = model_and_source()
    args = {**dict(bos_id=1, eos_id=2, max_len=4), **kwargs}
    with pytest.raises(error):
        beam_search(model, src, lengths, **args)
