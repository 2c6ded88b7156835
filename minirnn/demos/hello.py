"""Learn "hello" -> "ohlol": one output character per input character.

Two models, both from the classic lecture exercise:

1. ``cell``: a single ``RNNCell(4, 4)`` whose hidden state *is* the output -- the four hidden
   units are read directly as the logits of e, h, l, o. The five steps are written out as a
   Python loop, the loss is the sum of the five cross-entropies, and backpropagation through
   time is the same loop run backwards: the gradient of h_t is its own loss's gradient plus
   what flows back from step t+1.
2. ``embedding``: Embedding(4, 10) -> 2-layer RNN(10, 8) -> Linear(8, 4) over the whole
   sequence at once (loss: mean over the five steps).

Each epoch prints the string the model predicts (argmax at every step) and the loss.
"""
import numpy as np

from .. import nn
from ..data import HelloOhlol
from ..models import CharLM
from ..optim import Adam
from ._common import out_dir, save_plot, wrote

SEED = 1           # both models reach "ohlol"; the 4-unit cell does so for about 3 seeds in 4
CELL_EPOCHS, CELL_LR = 15, 0.1          # the lecture's settings
EMBED_EPOCHS, EMBED_LR = 15, 0.05
EMBED_DIM, HIDDEN, LAYERS = 10, 8, 2


def train_cell(epochs=CELL_EPOCHS, lr=CELL_LR, seed=SEED, verbose=True):
    """The RNNCell version. Returns a list of (predicted string, summed loss), one per epoch,
    each from the forward pass made before that epoch's update."""
    data = HelloOhlol()
    cell = nn.RNNCell(4, 4, rng=seed)              # input 4 (one-hot), hidden 4 (= logits)
    crit = nn.CrossEntropyLoss()
    opt = Adam(cell.parameters(), lr=lr)
    T = len(data.source)
    history = []
    for epoch in range(1, epochs + 1):
        opt.zero_grad()
        h, loss, predicted = None, 0.0, []
        for t in range(T):                          # forward, one step at a time
            h = cell(data.x_onehot[t][None], h)     # (1, 4): the new state, read as logits
            loss += crit(h, data.y_ids[t:t + 1])
            predicted.append(int(h.argmax()))
        dh_next = np.zeros((1, 4))                  # gradient reaching h_t from step t+1
        for t in reversed(range(T)):                # BPTT: the same steps, last first
            dh = crit.backward() + dh_next          # h_t is the logits AND feeds step t+1
            _, dh_next = cell.backward(dh)
        opt.step()
        word = data.decode(predicted)
        history.append((word, loss))
        if verbose:
            print(f"  epoch {epoch:2d}  predicted {word}  loss {loss:.4f}")
    return history


def train_embedding(epochs=EMBED_EPOCHS, lr=EMBED_LR, seed=SEED, verbose=True):
    """The Embedding -> 2-layer RNN -> Linear version. Returns [(predicted string, loss)]."""
    data = HelloOhlol()
    # Embedding -> RNN (LAYERS layers, batch first) -> Linear, the character-LM model; one
    # generator draws all its weights
    model = CharLM(4, HIDDEN, cell="rnn", num_layers=LAYERS, embed_dim=EMBED_DIM, rng=seed)
    crit = nn.CrossEntropyLoss()
    opt = Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        opt.zero_grad()
        logits = model(data.x_ids[None])            # (1, 5, 4)
        loss = crit(logits[0], data.y_ids)          # mean over the 5 steps
        model.backward(crit.backward()[None])
        opt.step()
        word = data.decode(logits[0].argmax(axis=-1))
        history.append((word, loss))
        if verbose:
            print(f"  epoch {epoch:2d}  predicted {word}  loss {loss:.4f}")
    return history


def first_epoch(history, target=HelloOhlol.target):
    """The first epoch (1-based) whose prediction is ``target``, or None."""
    return next((e for e, (word, _) in enumerate(history, start=1) if word == target), None)


def run(seed=SEED, epochs=None, out=None, verbose=True):
    """Both models. Returns {'cell': history, 'embedding': history, 'cell_epoch': first epoch
    predicting 'ohlol', 'embedding_epoch': same, 'files': plots written into ``out``}."""
    say = print if verbose else (lambda *a, **k: None)
    say('"hello" -> "ohlol", vocabulary e=0 h=1 l=2 o=3, one-hot inputs')
    say(f"\n1. RNNCell(4, 4), hidden state = logits, loss summed over 5 steps, "
        f"Adam lr {CELL_LR}")
    cell = train_cell(epochs or CELL_EPOCHS, seed=seed, verbose=verbose)
    say(f"\n2. Embedding(4, {EMBED_DIM}) -> RNN({EMBED_DIM}, {HIDDEN}, num_layers={LAYERS}) "
        f"-> Linear({HIDDEN}, 4), mean loss, Adam lr {EMBED_LR}")
    embed = train_embedding(epochs or EMBED_EPOCHS, seed=seed, verbose=verbose)
    result = dict(cell=cell, embedding=embed, cell_epoch=first_epoch(cell),
                  embedding_epoch=first_epoch(embed))
    for name in ("cell", "embedding"):
        e = result[f"{name}_epoch"]
        say(f"{name}: " + (f"first predicts 'ohlol' at epoch {e}" if e else
                           "did not reach 'ohlol' (try more epochs or another --seed)"))
    result["files"] = []
    if out is not None:
        for name in ("cell", "embedding"):
            history = {"train_loss": [loss for _, loss in result[name]]}
            path = save_plot("plot_losses", history, f"{out_dir(out)}/loss_{name}.png",
                             title=f'"hello" -> "ohlol", {name} model')
            result["files"] += [path] if path else []
        say(wrote(result["files"]))
    return result
