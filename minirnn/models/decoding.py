"""Decoding and scoring for an encoder–decoder: beam search, BLEU, exact match.

Beam search keeps the ``beam_size`` most probable prefixes at every step instead of greedy
decoding's one. With V target tokens and k beams, step t extends each live prefix y_<t by
every token and keeps the k best of the k·V candidates by
    log P(y_≤t | x) = log P(y_<t | x) + log softmax(logits_t)[y_t];
a prefix that has written <eos> is finished and is carried on unchanged. At the end the
hypothesis with the best length-normalised score wins (Wu et al. 2016, GNMT, eq. 14):
    score(y) = log P(y | x) / lp(y),   lp(y) = ((5 + |y|) / 6)^α,
|y| counting <eos>; α = 0 compares raw log-probabilities (which favour short outputs),
larger α favours longer ones. beam_size = 1 is greedy decoding (a test checks it).

BLEU is d2l's (Dive into Deep Learning, section "Sequence-to-Sequence Learning"):
    BLEU = exp(min(0, 1 − len_label / len_pred)) · Π_{n=1..k} p_n^(1/2^n),
p_n the clipped precision of the prediction's n-grams (each label n-gram matches at most as
often as it occurs), n running up to min(k, len_pred). Its one deviation: an empty
prediction scores 0 (d2l's divides by zero).
"""
import collections
import math

import numpy as np

from .. import _config
from ..functional.loss import log_softmax
from ..nn import _checks
from .seq2seq import check_source_ids

MAX_BEAM = 1000             # every step holds N * beam_size * V scores, and sorts them


def length_penalty(length, alpha):
    """Wu et al.'s lp = ((5 + length) / 6)^alpha, elementwise."""
    return ((5 + np.asarray(length, dtype=np.float64)) / 6) ** alpha


def beam_search(model, src_ids, src_lengths, bos_id, eos_id, max_len, beam_size=4,
                alpha=0.75):
    """The best hypothesis of each source by beam search.

    model : an EncoderDecoder (anything with start, step, select_state, select_memory)
    src_ids (N, S) int, src_lengths (N,) or None; bos_id, eos_id target ids; max_len >= 1
    beam_size in 1..MAX_BEAM (1,000); alpha >= 0, the length-penalty exponent.
    Returns ids (N, steps) int64 (each row ends at its first ``eos_id``, padded with it, or
    runs to max_len) and scores (N,), the winners' length-normalised log-probabilities.
    """
    where = "beam_search"
    max_len = _checks.positive_int(max_len, "max_len")
    k = _checks.positive_int(beam_size, "beam_size")
    if k > MAX_BEAM:
        raise ValueError(f"{where}: expected beam_size in 1..{MAX_BEAM}, got {beam_size} (each "
                         f"step scores N * beam_size * V candidates)")
    alpha = _checks.real(alpha, "alpha", where, low=0)
    model.check_ids(bos_id, eos_id, where)
    src_ids = check_source_ids(src_ids, where)
    N = src_ids.shape[0]
    with _config.no_grad():
        memory, state = model.start(src_ids, src_lengths)
        rows = np.repeat(np.arange(N), k)                     # beam j of source n: row n·k + j
        memory, state = model.select_memory(memory, rows), model.select_state(state, rows)
        tokens = np.full(N * k, bos_id, dtype=np.int64)
        logp = np.full((N, k), -np.inf)
        logp[:, 0] = 0                    # all beams start equal: keep one, or k copies win
        finished = np.zeros((N, k), dtype=bool)
        lengths = np.zeros((N, k), dtype=np.int64)
        seqs = np.zeros((N, k, 0), dtype=np.int64)
        for _ in range(max_len):
            logits, state = model.step(tokens, state, memory)                 # (N·k, V)
            V = logits.shape[-1]
            lp = log_softmax(logits.astype(np.float64)).reshape(N, k, V)
            lp[finished] = -np.inf                            # a finished beam only repeats
            lp[finished, eos_id] = 0                          # <eos>, at no cost
            cand = (logp[:, :, None] + lp).reshape(N, k * V)
            best = np.argsort(-cand, axis=1, kind="stable")[:, :k]            # (N, k)
            beam, token = best // V, best % V
            n = np.arange(N)[:, None]
            logp = cand[n, best]
            lengths = lengths[n, beam] + ~finished[n, beam]
            finished = finished[n, beam] | (token == eos_id)
            seqs = np.concatenate([seqs[n, beam], token[:, :, None]], axis=2)
            picked = (n * k + beam).reshape(-1)
            state, memory = model.select_state(state, picked), model.select_memory(memory, picked)
            tokens = token.reshape(-1)
            if finished.all():
                break
    scores = logp / length_penalty(lengths, alpha)
    winner = np.argmax(scores, axis=1)
    return seqs[np.arange(N), winner], scores[np.arange(N), winner]


def _tokens(seq):
    return seq.split(" ") if isinstance(seq, str) else list(seq)


def bleu(pred_seq, label_seq, k=4):
    """d2l's BLEU of one prediction against one label (see the module docstring).

    pred_seq, label_seq : str (split on single spaces, as d2l) or a sequence of tokens (a list
    of characters for a character-level task); k >= 1, the longest n-gram. Returns a float
    in [0, 1].
    """
    k = _checks.positive_int(k, "k")
    pred, label = _tokens(pred_seq), _tokens(label_seq)
    if not pred:
        return 0.0
    score = math.exp(min(0, 1 - len(label) / len(pred)))
    for n in range(1, min(k, len(pred)) + 1):
        label_subs = collections.Counter(tuple(label[i:i + n])
                                         for i in range(len(label) - n + 1))
        matches = 0
        for i in range(len(pred) - n + 1):
            gram = tuple(pred[i:i + n])
            if label_subs[gram] > 0:
                matches += 1
                label_subs[gram] -= 1
        score *= math.pow(matches / (len(pred) - n + 1), math.pow(0.5, n))
    return score


def evaluate(predictions, labels, k=4):
    """{'exact_match': fraction of equal strings, 'bleu': mean character-level BLEU} for two
    equally long lists of strings."""
    if len(predictions) != len(labels) or not labels:
        raise ValueError(f"expected as many predictions as labels (at least one), got "
                         f"{len(predictions)} and {len(labels)}")
    exact = sum(p == t for p, t in zip(predictions, labels)) / len(labels)
    score = sum(bleu(list(p), list(t), k) for p, t in zip(predictions, labels)) / len(labels)
    return {"exact_match": exact, "bleu": score}
