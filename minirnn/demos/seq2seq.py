"""A character-level encoder–decoder: hello -> hola, cat -> gato, good -> bueno.

The encoder reads the source word and hands its final state to the decoder. In training the
decoder reads ``<bos>`` + the true target (teacher forcing) and learns to predict target +
``<eos>``; padded positions are ignored by the loss. At test time it decodes greedily: feed
``<bos>``, take the most likely character, feed it back in, stop at ``<eos>``.
"""
from .. import nn
from ..data import TranslationPairs, collate
from ..models import EncoderDecoder
from ..optim import Adam
from ._common import out_dir, save_plot, wrote

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


def run(cell=CELL, epochs=None, seed=SEED, out=None, verbose=True):
    """Train and translate (``epochs`` None: EPOCHS). Returns {'translations': {source:
    output}, 'correct': int, 'total': int, 'losses': [...], 'files': [...]}; the loss curve
    goes into ``out``."""
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
