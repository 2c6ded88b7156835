"""``minirnn charlm --compare``: five recurrent language models on one corpus and one budget.

RNN, GRU, LSTM, a 2-layer LSTM and a bidirectional LSTM are trained with the same corpus,
hidden size, batches, optimiser and number of epochs (``minirnn.demos.charlm``'s
``train_epoch`` with random sampling), and compared by held-out perplexity per epoch against
the unigram baseline. One markdown table (also in the result, for summary.json) and one plot.

The bidirectional model is the odd one out, on purpose (d2l, "Bidirectional Recurrent Neural
Networks"): at position t it predicts character t+1, but its backward direction has already
read characters t+1, t+2, ... -- the answer is in its input. Its perplexity falls towards 1
and says nothing about language modelling; it cannot generate text either, since generation
has no future to read. ``minirnn.models.CharLM`` refuses ``bidirectional=True`` for that
reason, so ``BidirectionalCharLM`` below builds the model from the layers directly. It exists
only to show the caveat; the table marks its row as not comparable.

Default run (seed 0, the first 30,000 characters of Python's help texts, hidden 64, Adam 1e-2,
8 epochs of 26 batches; about a minute on 2 cores), held-out perplexity: unigram 26.47, RNN
10.59, GRU 8.61, LSTM 9.60, 2-layer LSTM 17.97, bidirectional LSTM 1.06. On so short a budget
the GRU learns fastest and the 2-layer LSTM has barely left the unigram plateau (it needs
more steps, not more capacity); the bidirectional model's 1.06 is the answer read from its
input, not a better language model.
"""
import os
import time

import numpy as np

from .. import _config, nn
from .._blas import blas_threads
from .._io import atomic_write
from ..models import CharLM
from ..models._recurrent import CELLS, check_cell
from ..optim import Adam
from . import charlm
from ._common import out_dir, progress_bar, wrote

SEED = 0
HIDDEN = 64
EPOCHS, FULL_EPOCHS = 8, 10
LR = 1e-2                              # Adam; larger than charlm's 3e-3 for the short budget
FAST_CHARS = 30_000                    # default run: the first 30k characters
FULL_CHARS = 200_000
# (name, cell, layers, bidirectional)
MODELS = (("RNN", "rnn", 1, False), ("GRU", "gru", 1, False), ("LSTM", "lstm", 1, False),
          ("2-layer LSTM", "lstm", 2, False), ("bidirectional LSTM", "lstm", 1, True))
CAVEAT = ("sees the future: its backward direction reads the very characters it predicts, "
          "so its perplexity is not comparable (and it cannot generate text)")


class BidirectionalCharLM(nn.Module):
    """One-hot -> bidirectional RNN/GRU/LSTM -> Linear(2H, V) at every step: a *cheating*
    character LM, for the comparison only (see the module docstring).

    ``logits = model(ids, state=None)``: ids (N, T) int -> (N, T, V); the state argument is
    accepted for ``charlm.train_epoch``'s interface and ignored (a backward direction has no
    carried state to continue). ``model.backward(grad_logits)``, ``model.reset_state()``.
    """

    def __init__(self, vocab_size, hidden_size, cell="lstm", num_layers=1, *, rng=None):
        super().__init__()
        self.vocab_size = vocab_size
        self.dtype = _config.resolve_dtype(None)
        self.rnn = CELLS[check_cell(cell)](vocab_size, hidden_size, num_layers=num_layers,
                                           bidirectional=True, batch_first=True, rng=rng)
        self.fc = nn.Linear(2 * hidden_size, vocab_size, rng=rng)   # both directions' h
        self.state = None

    def reset_state(self):
        self.state = None

    def forward(self, ids, state=None):
        """ids (N, T) int -> logits (N, T, V)."""
        x = np.eye(self.vocab_size, dtype=self.dtype)[np.asarray(ids)]       # one-hot (N, T, V)
        y, _ = self.rnn(x)                                 # (N, T, 2H): forward | backward
        self._push(True)
        return self.fc(y)

    def backward(self, grad_logits):
        """grad_logits (N, T, V) -> None."""
        self._pop()
        self.rnn.backward(self.fc.backward(grad_logits))
        return None


def build(cell, layers, bidirectional, vocab_size, hidden, seed):
    """The model for one row of MODELS."""
    if bidirectional:
        return BidirectionalCharLM(vocab_size, hidden, cell, layers, rng=seed)
    return CharLM(vocab_size, hidden, cell=cell, num_layers=layers, embed_dim=None, rng=seed)


def markdown_table(rows, unigram):
    """Held-out perplexity per model (final and best epoch), parameters and seconds."""
    lines = ["| model | parameters | held-out perplexity (last epoch) | best (epoch) | "
             "train perplexity | seconds | note |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        note = CAVEAT if r["bidirectional"] else ""
        best = int(np.argmin(r["held_out_ppl"]))
        lines.append(f"| {r['name']} | {r['parameters']:,} | {r['held_out_ppl'][-1]:.2f} | "
                     f"{r['held_out_ppl'][best]:.2f} ({best + 1}) | {r['train_ppl'][-1]:.2f} | "
                     f"{r['seconds']:.1f} | {note} |")
    lines.append(f"| unigram baseline | | {unigram:.2f} | | | | character frequencies only |")
    return "\n".join(lines)


def plot_compare(rows, unigram, path, title=None):
    """Held-out perplexity per epoch, one line per model (the bidirectional one dashed), and
    the unigram baseline as a horizontal line; log scale."""
    from ..plot import _figure, _integer_ticks, _save
    fig, axes = _figure(figsize=(7.5, 4.6), layout="constrained")
    ax = axes[0, 0]
    for r in rows:
        epochs = np.arange(1, len(r["held_out_ppl"]) + 1)
        label = r["name"] + (" (sees the future: not comparable)" if r["bidirectional"] else "")
        ax.plot(epochs, r["held_out_ppl"], marker="o", ms=3, label=label,
                ls="--" if r["bidirectional"] else "-")
    ax.axhline(unigram, color="grey", ls=":", lw=1.5, label=f"unigram baseline ({unigram:.1f})")
    ax.set_yscale("log")
    # plain numbers on the log axis (1, 2, 5, 10, ...) rather than 10^0, 10^1
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter
    low, high = ax.get_ylim()
    ticks = [t * 10.0 ** k for k in range(-1, 6) for t in (1, 2, 3, 5)]
    ax.yaxis.set_major_locator(FixedLocator([t for t in ticks if low <= t <= high]))
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="epoch", ylabel="held-out perplexity (log scale)")
    _integer_ticks(ax.xaxis)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path, title)


def run(hidden=HIDDEN, epochs=None, lr=LR, full=False, corpus_path=None, max_chars=None, seed=SEED,
        models=MODELS, out="out/charlm", verbose=True, plots=True):
    """Train every model in ``models`` on the same text and budget; write the table
    (compare.md) and the plot (compare.png) into ``out`` (None: write nothing).

    hidden, epochs, lr : the budget every model gets (default HIDDEN, EPOCHS or FULL_EPOCHS, LR)
    full               : FULL_CHARS characters and FULL_EPOCHS epochs
    corpus_path, max_chars : as ``minirnn.demos.charlm.run``
    models             : rows (name, cell, layers, bidirectional), default MODELS

    Returns dict: rows [per model: name, cell, layers, bidirectional, parameters, train_ppl
    and held_out_ppl per epoch, seconds], unigram_ppl, table (markdown), settings, chars,
    vocab_size, files.
    """
    say = print if verbose else (lambda *a, **k: None)
    epochs = epochs or (FULL_EPOCHS if full else EPOCHS)
    if max_chars is None:
        max_chars = FULL_CHARS if full else FAST_CHARS
    corpus = charlm.load_corpus(corpus_path, max_chars)
    train, held_out = corpus.split(1 - charlm.HELD_OUT)
    unigram = charlm.unigram_perplexity(train, held_out)
    settings = dict(hidden=hidden, epochs=epochs, batch=charlm.BATCH,
                    num_steps=charlm.NUM_STEPS, lr=lr, clip=charlm.CLIP,
                    sampling="random", inputs="one-hot", seed=seed)
    say(f"Character LMs compared: hidden {hidden}, one-hot inputs, random sampling, batch "
        f"{charlm.BATCH} x {charlm.NUM_STEPS} steps, Adam lr {lr}, clip {charlm.CLIP}, "
        f"{epochs} epochs each")
    say(f"corpus: {'Python help texts (pydoc_data)' if corpus_path is None else corpus_path}, "
        f"{len(corpus):,} characters, vocabulary {corpus.vocab_size}; {len(train):,} train / "
        f"{len(held_out):,} held out; unigram perplexity {unigram:.2f}")
    rows = []
    with blas_threads(1):
        for name, cell, layers, bidirectional in models:
            model = build(cell, layers, bidirectional, corpus.vocab_size, hidden, seed)
            opt = Adam(model.parameters(), lr=lr)
            rng = np.random.default_rng(seed)          # every model sees the same batches
            row = dict(name=name, cell=cell, layers=layers, bidirectional=bidirectional,
                       parameters=int(sum(p.data.size for p in model.parameters())),
                       train_ppl=[], held_out_ppl=[])
            start = time.perf_counter()
            bar = progress_bar(epochs, desc=name)
            for epoch in range(epochs):
                row["train_ppl"].append(charlm.train_epoch(model, train, opt, "random", rng))
                row["held_out_ppl"].append(charlm.held_out_perplexity(model, held_out))
                if bar is not None:
                    bar.update(1)
            if bar is not None:
                bar.close()
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            say(f"  {name:18s} held-out perplexity {row['held_out_ppl'][-1]:6.2f}  "
                f"({row['parameters']:,} parameters, {row['seconds']:.1f}s)"
                + ("  <- sees the future" if bidirectional else ""))
    table = markdown_table(rows, unigram)
    say("\n" + table)
    files = []
    if out is not None:
        out_dir(out)
        md = os.path.join(out, "compare.md")
        with atomic_write(md, encoding="utf-8") as f:
            f.write(f"Held-out perplexity, {len(corpus):,} characters, hidden {hidden}, "
                    f"{epochs} epochs each (lower is better)\n\n{table}\n")
        files.append(md)
    if plots and out is not None:
        try:
            files.append(plot_compare(rows, unigram, os.path.join(out, "compare.png"),
                                      title=f"Held-out perplexity per epoch (hidden {hidden}, "
                                            f"{len(corpus):,} characters)"))
        except ImportError as e:
            say(f"  (plot compare.png skipped: {e})")
    say("\n" + wrote(files))
    return dict(rows=rows, unigram_ppl=unigram, table=table, settings=settings,
                chars=len(corpus), vocab_size=corpus.vocab_size, files=files)
