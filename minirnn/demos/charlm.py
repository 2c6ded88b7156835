"""A character language model: predict the next character, then write text.

The corpus is cut into batches of ``NUM_STEPS`` characters; at every position the model
predicts the following character (cross-entropy over the vocabulary). Perplexity is
exp(mean cross-entropy): the number of characters the model is, on average, as unsure as a
uniform choice among. A model that ignores the context and always predicts the corpus's
character frequencies (the *unigram* model) is the baseline to beat.

Two ways to sample batches (``minirnn.data.CharCorpus``):
  random      windows from random places; the hidden state starts at zero in every batch
  sequential  row n of batch i+1 continues row n of batch i, so the final hidden state of one
              batch is the initial state of the next. Backpropagation still stops at the
              batch boundary (truncated BPTT): the state is passed in as a plain array.

Text is generated from a prefix, greedily (always the most likely character) or by sampling
from softmax(logits / temperature).

A bidirectional model is refused: its backward direction would read the very characters it
is asked to predict (it sees the future).
"""
import math
import os

import numpy as np

from .. import _config, nn
from ..data import CharCorpus, default_corpus
from ..models import CharLM
from ..optim import Adam, clip_grad_norm_
from .._blas import blas_threads
from ._common import out_dir, progress, save_plot, wrote

SEED = 0
CELL, LAYERS, HIDDEN = "lstm", 1, 256
EMBED_DIM = None                       # None: one-hot inputs (V features)
BATCH, NUM_STEPS = 32, 32
LR, CLIP = 3e-3, 1.0                   # Adam; clip the global gradient norm at 1
EPOCHS, FULL_EPOCHS = 12, 20
FAST_CHARS = 100_000                   # fast mode: the first 100k characters of the corpus
HELD_OUT = 0.1                         # the last 10% of the text is held out
PREFIXES = ("The ", "def ", "If the ")  # for the default corpus; --corpus: its own line starts
NUM_PREFIXES = 3
# the training hint: a held-out perplexity above NEAR_UNIGRAM x the unigram baseline has learned
# little beyond character frequencies; one that fell more than STILL_FALLING in the last epoch
# would fall further with more epochs; one that rose more than OVERFIT above its best memorises
NEAR_UNIGRAM, STILL_FALLING, OVERFIT = 0.5, 0.03, 0.05
GENERATE = 80                          # characters generated per prefix
TEMPERATURES = (0.5, 1.0)


def load_corpus(path=None, max_chars=None):
    """A CharCorpus from a UTF-8 file, or the default corpus (Python's own help texts)."""
    if path is None:
        return default_corpus(max_chars)
    return CharCorpus.from_file(path, max_chars=max_chars)     # reads only what it keeps


def unigram_perplexity(train, held_out):
    """Perplexity of ``held_out`` under the training text's character frequencies (add-one
    smoothing, so a character unseen in training has a small nonzero probability)."""
    counts = np.bincount(train.ids, minlength=train.vocab_size) + 1.0
    p = counts / counts.sum()
    return math.exp(-np.mean(np.log(p[held_out.ids])))


def held_out_perplexity(model, held_out, streams=16):
    """exp(mean cross-entropy) over the held-out text, read as ``streams`` parallel rows in one
    pass (state carried along each row, no gradient)."""
    T = (len(held_out.ids) - 1) // streams
    if T < 1:
        streams, T = 1, len(held_out.ids) - 1
    X = held_out.ids[:streams * T].reshape(streams, T)
    Y = held_out.ids[1:streams * T + 1].reshape(streams, T)
    with _config.no_grad():
        logits = model(X)                                          # (streams, T, V)
        loss = nn.CrossEntropyLoss()(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
    model.reset_state()
    return math.exp(loss)


def train_epoch(model, corpus, opt, sampling, rng, clip=CLIP, desc=None):
    """One pass over ``corpus``. Returns the training perplexity (exp of the mean loss)."""
    crit = nn.CrossEntropyLoss()
    params = model.parameters()
    if sampling == "sequential":
        batches = corpus.sequential_batches(BATCH, NUM_STEPS, rng)
    else:
        batches = corpus.random_batches(BATCH, NUM_STEPS, rng)
    model.reset_state()
    total, count = 0.0, 0
    approx_batches = (len(corpus) - 1) // (BATCH * NUM_STEPS)
    for X, Y in progress(batches, total=approx_batches, desc=desc):   # X, Y (N, S) ids
        state = model.state if sampling == "sequential" else None   # carried, or zeros
        opt.zero_grad()
        logits = model(X, state=state)                     # (N, S, V)
        V = logits.shape[-1]
        loss = crit(logits.reshape(-1, V), Y.reshape(-1))
        model.backward(crit.backward().reshape(logits.shape))
        if clip is not None:
            clip_grad_norm_(params, clip)
        opt.step()
        total, count = total + loss, count + 1
    return math.exp(total / count)


def pick_prefixes(corpus, prefixes=None, own=False):
    """The given prefixes; by default PREFIXES (own=False: the default corpus) when the corpus
    has their characters, or (own=True: a corpus of one's own) ``corpus_prefixes``."""
    if prefixes:
        return list(prefixes)
    if own:
        return corpus_prefixes(corpus.text)
    known = set(corpus.chars)
    usable = [p for p in PREFIXES if set(p) <= known]
    return usable or [corpus.text[:2]]


def corpus_prefixes(text, k=NUM_PREFIXES):
    """Up to ``k`` prefixes from the text itself: the words that most often begin its lines,
    each with the space after it (first seen first among equals); for a text without spaces
    (Chinese, say) the lines' first two characters. The text's first two characters if no
    line has any."""
    counts = {}
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        word = line.split()[0]
        prefix = word[:12] + " " if " " in line and len(word) <= 12 else line[:2]
        counts[prefix] = counts.get(prefix, 0) + 1
    ranked = sorted(counts, key=lambda p: -counts[p])      # stable: ties keep text order
    return ranked[:k] or [text[:2]]


def training_hint(held_ppl, unigram, epochs, updates_per_epoch):
    """Lines of advice after training, or [] when the run looks done: still near the unigram
    baseline or still falling (train longer: --epochs), or rising (overfitting)."""
    last, best = held_ppl[-1], min(held_ppl)
    updates = epochs * updates_per_epoch
    done = f"after {epochs} epochs ({updates:,} updates of {BATCH} x {NUM_STEPS} characters)"
    if last > NEAR_UNIGRAM * unigram:
        return [f"hint: held-out perplexity {last:.2f} is still near the unigram baseline's "
                f"{unigram:.2f}",
                f"      {done}:",
                "      the model has learned little beyond character frequencies, so its text is "
                "gibberish.",
                f"      Train longer, e.g. --epochs {epochs * 5} (a small corpus gives few "
                f"updates per epoch)."]
    if last > (1 + OVERFIT) * best:
        k = held_ppl.index(best) + 1
        return [f"hint: held-out perplexity rose from {best:.2f} (epoch {k}) to {last:.2f}: the "
                f"model memorises the", f"      training text. Fewer epochs (--epochs {k}) or a "
                f"larger corpus would generalise better."]
    if len(held_ppl) > 1 and last < (1 - STILL_FALLING) * held_ppl[-2]:
        return [f"hint: held-out perplexity still fell {1 - last / held_ppl[-2]:.0%} in the last "
                f"epoch: more epochs (--epochs {epochs * 2}) would", "      lower it further."]
    return []


def run(cell=CELL, layers=LAYERS, hidden=HIDDEN, sampling="random", corpus_path=None,
        epochs=None, full=False, max_chars=None, prefixes=None, bidirectional=False,
        seed=SEED, out="out/charlm", verbose=True, plots=True):
    """Train a character LM and generate text. Returns dict: train_ppl and held_out_ppl (per
    epoch), unigram_ppl, vocab_size, chars (corpus size used), samples {prefix: {'greedy':
    str, 'T=0.5': str, ...}} (default prefixes: PREFIXES, or with ``corpus_path`` the
    corpus's own ``corpus_prefixes``), hint (lines of advice, see ``training_hint``), files."""
    say = print if verbose else (lambda *a, **k: None)
    if sampling not in ("random", "sequential"):
        raise ValueError(f"expected sampling 'random' or 'sequential', got {sampling!r}")
    if bidirectional:        # say why before loading anything
        CharLM(2, 1, bidirectional=True)
    if max_chars is None and not full:
        max_chars = FAST_CHARS
    epochs = epochs or (FULL_EPOCHS if full else EPOCHS)
    corpus = load_corpus(corpus_path, max_chars)
    train, held_out = corpus.split(1 - HELD_OUT)
    rng = np.random.default_rng(seed)
    model = CharLM(corpus.vocab_size, hidden, cell=cell, num_layers=layers,
                   embed_dim=EMBED_DIM, rng=seed)
    opt = Adam(model.parameters(), lr=LR)
    unigram = unigram_perplexity(train, held_out)
    name = f"{layers}-layer {cell.upper()}" if layers > 1 else cell.upper()
    inputs = "one-hot inputs" if EMBED_DIM is None else f"embedding {EMBED_DIM}"
    say(f"Character LM: {name}, hidden {hidden}, {inputs}, {sampling} sampling, "
        f"batch {BATCH} x {NUM_STEPS} steps, Adam lr {LR}, clip {CLIP}")
    say(f"corpus: {'Python help texts (pydoc_data)' if corpus_path is None else corpus_path}, "
        f"{len(corpus):,} characters, vocabulary {corpus.vocab_size}; "
        f"{len(train):,} train / {len(held_out):,} held out")
    say(f"unigram baseline (character frequencies only): held-out perplexity {unigram:.2f}")
    train_ppl, held_ppl = [], []
    with blas_threads(1):
        for epoch in range(1, epochs + 1):
            train_ppl.append(train_epoch(model, train, opt, sampling, rng,
                                         desc=f"epoch {epoch}/{epochs}"))
            held_ppl.append(held_out_perplexity(model, held_out))
            say(f"  epoch {epoch:3d}  train perplexity {train_ppl[-1]:7.2f}  "
                f"held-out perplexity {held_ppl[-1]:7.2f}")
        hint = training_hint(held_ppl, unigram, epochs,
                             max(1, (len(train) - 1) // (BATCH * NUM_STEPS)))
        for line in hint:
            say(line)
        samples = {}
        say("\ngenerated text (prefix, then the model's continuation):")
        for prefix in pick_prefixes(corpus, prefixes, own=corpus_path is not None):
            samples[prefix] = {"greedy": model.generate(corpus, prefix, GENERATE)}
            for T in TEMPERATURES:
                samples[prefix][f"T={T:g}"] = model.generate(corpus, prefix, GENERATE,
                                                             temperature=T, rng=rng)
            for how, text in samples[prefix].items():
                say(f"  [{how:>6}] {text!r}")
    files = []
    if plots:
        history = {"train_loss": [math.log(p) for p in train_ppl],
                   "dev_loss": [math.log(p) for p in held_ppl],
                   "dev_metric": held_ppl, "metric": "perplexity"}
        path = save_plot("plot_losses", history, os.path.join(out_dir(out), "perplexity.png"),
                         title=f"{name}: cross-entropy (= log perplexity) and held-out "
                               f"perplexity; unigram {unigram:.1f}",
                         baseline=unigram, baseline_label="unigram baseline")
        files += [path] if path else []
        say(wrote(files))
    return dict(train_ppl=train_ppl, held_out_ppl=held_ppl, unigram_ppl=unigram,
                vocab_size=corpus.vocab_size, chars=len(corpus), samples=samples, hint=hint,
                files=files)
