"""Character-level encoder–decoders: the toy hello -> hola, and the dates task.

``--task toy`` (the default, seconds): hello -> hola, cat -> gato, good -> bueno. The encoder reads the source word and hands its final state to the decoder. In training the
decoder reads ``<bos>`` + the true target (teacher forcing) and learns to predict target +
``<eos>``; padded positions are ignored by the loss. At test time it decodes greedily: feed
``<bos>``, take the most likely character, feed it back in, stop at ``<eos>``.

``--task dates``: dates in twelve human forms -> ISO 8601 ("3rd of March 1998" -> "1998-03-03",
minirnn.data.dates), 10,000 training pairs, test dates never seen in training. Two GRU
encoder–decoders, without and with additive attention, trained by minibatch Adam with
gradient clipping; each is decoded greedily and by beam search, and scored on the test split
by exact match and d2l's BLEU over characters. Writes the loss curves, a heat map of the
attention weights for a few test pairs, and summary.json.
"""
import time

import numpy as np

from .. import nn
from .._blas import blas_threads
from ..data import DataLoader, TranslationPairs, collate, date_splits
from ..models import EncoderDecoder
from ..models.decoding import beam_search, evaluate
from ..optim import Adam, clip_grad_norm_
from ._common import out_dir, progress_bar, save_plot, wrote

SEED = 0
CELL = "rnn"                     # 'rnn', 'gru' or 'lstm'
EMBED_DIM, HIDDEN = 16, 32
EPOCHS, LR = 150, 0.01           # full batch: all three pairs every step
MAX_LEN = 10                     # greedy decoding stops here if no <eos> comes


def train(cell=CELL, epochs=EPOCHS, lr=LR, seed=SEED, verbose=True):
    """Returns (model, data, losses per epoch)."""
    data = TranslationPairs()
    V_src, V_tgt = len(data.source_vocab), len(data.target_vocab)
    model = EncoderDecoder(V_src, V_tgt, EMBED_DIM, HIDDEN, cell=cell, rng=seed)
    crit = nn.CrossEntropyLoss(ignore_index=data.pad_id)       # padding does not count
    opt = Adam(model.parameters(), lr=lr)
    losses = []
    for epoch in range(1, epochs + 1):
        opt.zero_grad()
        logits = model(data.source_ids, data.source_lengths, data.decoder_input_ids)
        N, T, V = logits.shape
        loss = crit(logits.reshape(N * T, V), data.decoder_target_ids.reshape(N * T))
        model.backward(crit.backward().reshape(N, T, V))
        opt.step()
        losses.append(loss)
        if verbose and (epoch == 1 or epoch % max(1, epochs // 6) == 0):
            print(f"  epoch {epoch:4d}  loss {loss:.4f}")
    return model, data, losses


def translate(model, data, words):
    """Greedy decoding of each word in ``words`` -> list of strings."""
    ids, lengths = collate([(data.encode_source(w),) for w in words], pad_fields=[0])
    out = model.greedy_decode(ids, lengths, data.bos_id, data.eos_id, MAX_LEN)
    return [data.decode_target(row) for row in out]


def run(cell=None, epochs=None, seed=SEED, out=None, verbose=True, task="toy", full=False):
    """Train and translate (``epochs`` None: EPOCHS). Returns {'translations': {source:
    output}, 'correct': int, 'total': int, 'losses': [...], 'files': [...]}; the loss curve
    goes into ``out``. ``task='dates'`` runs ``run_dates`` instead (``full``: its long run)."""
    if task == "dates":
        return run_dates(seed=seed, out=out, full=full, epochs=epochs,
                         cell=cell or DATES_CELL, verbose=verbose)
    if task != "toy":
        raise ValueError(f"expected task 'toy' or 'dates', got {task!r}")
    cell = cell or CELL
    epochs = EPOCHS if epochs is None else epochs
    if verbose:
        print(f"Encoder–decoder ({cell.upper()}, embedding {EMBED_DIM}, hidden {HIDDEN}), "
              f"teacher forcing, Adam lr {LR}, {epochs} epochs")
    model, data, losses = train(cell, epochs, seed=seed, verbose=verbose)
    sources = [s for s, _ in data.pairs]
    outputs = translate(model, data, sources)
    correct = sum(o == t for o, (_, t) in zip(outputs, data.pairs))
    if verbose:
        print("greedy decoding:")
        for (s, t), o in zip(data.pairs, outputs):
            print(f"  {s:>6} -> {o:<8} {'ok' if o == t else f'(expected {t})'}")
        print(f"{correct}/{len(sources)} correct")
    files = []
    if out is not None:
        path = save_plot("plot_losses", {"train_loss": losses},
                         f"{out_dir(out)}/loss_{cell}.png", title=f"encoder–decoder ({cell})")
        files += [path] if path else []
        if verbose and files:
            print(wrote(files))
    return dict(translations=dict(zip(sources, outputs)), correct=correct,
                total=len(sources), losses=losses, files=files)


# ---- the dates task ---------------------------------------------------------------------------
DATES_CELL = "gru"
DATES_EMBED, DATES_HIDDEN, ATTENTION_SIZE = 16, 64, 32
BATCH, DATES_LR, CLIP = 64, 5e-3, 1.0
DATES_EPOCHS, FULL_EPOCHS = 2, 8           # default run about a minute a model on 2 cores
BEAM, ALPHA = 4, 0.75                      # beam width, GNMT length-penalty exponent
DATES_MAX_LEN = 12                         # every ISO date is 10 characters + <eos>
BLEU_K = 4                                 # n-grams up to 4 characters
HEATMAP_PAIRS = 4                          # test pairs drawn in the attention heat map


def train_dates(train, attention, epochs, seed=SEED, cell=DATES_CELL, verbose=True):
    """Minibatch Adam with clipping on the dates task. Returns (model, loss of every batch)."""
    model = EncoderDecoder(len(train.source_vocab), len(train.target_vocab), DATES_EMBED,
                           DATES_HIDDEN, cell=cell, attention=attention,
                           attention_size=ATTENTION_SIZE, rng=seed)
    crit = nn.CrossEntropyLoss(ignore_index=train.pad_id)
    opt = Adam(model.parameters(), lr=DATES_LR)
    loader = DataLoader(train, batch_size=BATCH, shuffle=True, rng=seed)
    bar = progress_bar(epochs * len(loader), "attention" if attention else "no attention")
    losses = []
    for epoch in range(1, epochs + 1):
        for src, src_lengths, dec_in, dec_target, _ in loader:
            opt.zero_grad()
            logits = model(src, src_lengths, dec_in)
            N, T, V = logits.shape
            losses.append(crit(logits.reshape(N * T, V), dec_target.reshape(N * T)))
            model.backward(crit.backward().reshape(N, T, V))
            clip_grad_norm_(model.parameters(), CLIP)
            opt.step()
            if bar is not None:
                bar.update()
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
        if verbose:
            epoch_loss = np.mean(losses[-len(loader):])
            print(f"  {'attention   ' if attention else 'no attention'}  epoch {epoch:2d}  "
                  f"mean batch loss {epoch_loss:.4f}")
    if bar is not None:
        bar.close()
    return model, losses


def decode_dates(model, data, beam_size=1, rows=250):
    """Greedy (beam_size 1) or beam-search outputs for every source of ``data``, as strings."""
    out = []
    for start in range(0, len(data), rows):
        src = data.source_ids[start:start + rows]
        lengths = data.source_lengths[start:start + rows]
        S = int(lengths.max())
        if beam_size == 1:
            ids = model.greedy_decode(src[:, :S], lengths, data.bos_id, data.eos_id,
                                      DATES_MAX_LEN)
        else:
            ids, _ = beam_search(model, src[:, :S], lengths, data.bos_id, data.eos_id,
                                 DATES_MAX_LEN, beam_size=beam_size, alpha=ALPHA)
        out += [data.decode_target(row) for row in ids]
    return out


def run_dates(seed=SEED, out=None, full=False, epochs=None, cell=DATES_CELL, verbose=True):
    """Train without and with attention, score greedy and beam decoding on the test split.

    Returns {'results': {'no_attention' | 'attention': {'greedy' | 'beam': {'exact_match',
    'bleu'}, 'train_seconds'}}, 'epochs', 'examples': [(source, target, greedy output with
    attention)], 'files': [...]}.
    """
    epochs = (FULL_EPOCHS if full else DATES_EPOCHS) if epochs is None else epochs
    train, _, test = date_splits(seed=seed)
    if verbose:
        print(f"Dates -> ISO 8601: {len(train)} training pairs, {len(test)} test pairs (dates "
              f"not seen in training), e.g. {train.pairs[0][0]!r} -> {train.pairs[0][1]!r}")
        print(f"{cell.upper()} encoder–decoder, embedding {DATES_EMBED}, hidden {DATES_HIDDEN},"
              f" attention {ATTENTION_SIZE}; Adam lr {DATES_LR}, batch {BATCH}, clip {CLIP}, "
              f"{epochs} epochs")
    results, models, curves = {}, {}, {}
    targets = [t for _, t in test.pairs]
    with blas_threads(1):       # small products: one BLAS thread is fastest (minirnn._blas)
        for attention in (False, True):
            key = "attention" if attention else "no_attention"
            t0 = time.perf_counter()
            models[key], curves[key] = train_dates(train, attention, epochs, seed, cell,
                                                   verbose)
            r = {"train_seconds": round(time.perf_counter() - t0, 1)}
            for decoder, beam in (("greedy", 1), ("beam", BEAM)):
                r[decoder] = evaluate(decode_dates(models[key], test, beam), targets, BLEU_K)
            results[key] = r
    greedy = decode_dates(models["attention"], test)
    examples = [(s, t, o) for (s, t), o in zip(test.pairs[:8], greedy)]
    if verbose:
        print(f"test split ({len(test)} pairs): exact match / BLEU (characters, k={BLEU_K})")
        print(f"  {'':14s} {'greedy':>17s} {f'beam {BEAM} (α {ALPHA})':>19s}")
        for key, r in results.items():
            print(f"  {key.replace('_', ' '):14s} {r['greedy']['exact_match']:8.3f} / "
                  f"{r['greedy']['bleu']:.3f}  {r['beam']['exact_match']:9.3f} / "
                  f"{r['beam']['bleu']:.3f}   (trained in {r['train_seconds']} s)")
        for s, t, o in examples[:5]:
            print(f"  {s:>30} -> {o}  {'ok' if o == t else f'(expected {t})'}")
    files = []
    if out is not None:
        folder = out_dir(out)
        files += [_plot_curves(curves, f"{folder}/loss_dates.png"),
                  _plot_attention(models["attention"], test, f"{folder}/attention_dates.png")]
        files = [f for f in files if f]
        if verbose and files:
            print(wrote(files))
    return dict(task="dates", epochs=epochs, cell=cell, results=results, examples=examples,
                files=files)


def _plot_curves(curves, path):
    """The loss of every training batch, without and with attention."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"  (plot loss_dates.png skipped: {e}; pip install matplotlib)")
        return None
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for key, losses in curves.items():
        ax.plot(np.arange(1, len(losses) + 1), losses, lw=1, label=key.replace("_", " "))
    ax.set(xlabel="batch", ylabel="cross-entropy", yscale="log",
           title="dates -> ISO 8601: training loss")
    ax.legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_attention(model, data, path, pairs=HEATMAP_PAIRS):
    """Heat maps of the attention weights of the first ``pairs`` test pairs, greedy decoding:
    one row per output character, one column per source character."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"  (plot attention_dates.png skipped: {e}; pip install matplotlib)")
        return None
    fig, axes = plt.subplots(pairs, 1, figsize=(9, 2.6 * pairs), layout="constrained")
    for ax, i in zip(np.atleast_1d(axes), range(pairs)):
        source = data.pairs[i][0]
        ids = model.greedy_decode(data.source_ids[i:i + 1, :len(source)], [len(source)],
                                  data.bos_id, data.eos_id, DATES_MAX_LEN)[0]
        output = [data.target_vocab[j] for j in ids]
        weights = model.last_attention[0]                                # (steps, S)
        ax.imshow(weights, cmap="Greys", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(len(source)), [c if c != " " else "␣" for c in source])
        ax.set_yticks(range(len(output)), [o if o != "<eos>" else "⟨eos⟩" for o in output])
        ax.set(xlabel="source character", ylabel="output")
        ax.set_title(f"{source!r} -> {data.decode_target(ids)!r}", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
