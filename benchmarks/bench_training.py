"""One training epoch end to end, minirnn vs torch: same model, weights, data and optimiser.
(Run by `python benchmarks/bench_rnn.py --train`.) Each library trains three epochs, taking
turns; the table shows the median time per epoch and the loss of the last batch.

    DigitSum: Embedding 10x32 -> LSTM 32->32 -> Linear 32->19 on h_n, batch 8, Adam 1e-3
    char LM:  Embedding V x32 -> LSTM 32->256 -> Linear 256->V, batch 32, 35 steps,
              sequential batches with the state carried over, clipping at 1, Adam 1e-3
"""
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minirnn.nn as mnn  # noqa: E402
from minirnn.data import DigitSum, default_corpus  # noqa: E402
from minirnn.optim import Adam, clip_grad_norm_  # noqa: E402


def _twin_models(torch, dtype, vocab, embed, hidden, classes, lr=1e-3):
    """Embedding -> LSTM (batch_first) -> Linear in both libraries, same weights, and Adam."""
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    tmods = [torch.nn.Embedding(vocab, embed).to(tdt),
             torch.nn.LSTM(embed, hidden, batch_first=True).to(tdt),
             torch.nn.Linear(hidden, classes).to(tdt)]
    mods = [mnn.Embedding(vocab, embed, dtype=dtype),
            mnn.LSTM(embed, hidden, batch_first=True, dtype=dtype),
            mnn.Linear(hidden, classes, dtype=dtype)]
    for m, tm in zip(mods, tmods):
        m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    params = [p for m in mods for p in m.parameters()]
    tparams = [p for tm in tmods for p in tm.parameters()]
    return (mods, params, Adam(params, lr=lr)), (tmods, tparams, torch.optim.Adam(tparams, lr=lr))


def digitsum_epoch(dtype, torch, length=20, k=30, batch=8, seed=0):
    """Seconds for one epoch in minirnn and in torch, and both final losses."""
    data = DigitSum(length, k, "train", rng=seed)
    order = np.random.default_rng(seed).permutation(len(data))
    batches = [(data.x[order[j:j + batch]], data.y[order[j:j + batch]])
               for j in range(0, len(data), batch)]
    ((emb, lstm, fc), params, opt), ((temb, tlstm, tfc), tparams, topt) = _twin_models(
        torch, dtype, 10, 32, 32, 19)
    crit = mnn.CrossEntropyLoss()

    def ours():
        loss = 0.0
        for x, y in batches:
            _, (h, _) = lstm(emb(x))
            loss = crit(fc(h[0]), y)
            dh = fc.backward(crit.backward())
            dx, _ = lstm.backward(None, (dh[None], None))
            emb.backward(dx)
            opt.step()
            opt.zero_grad()
        return loss

    tcrit = torch.nn.CrossEntropyLoss()
    tbatches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

    def theirs():
        loss = None
        for x, y in tbatches:
            _, (h, _) = tlstm(temb(x))
            loss = tcrit(tfc(h[0]), y)
            topt.zero_grad()
            loss.backward()
            topt.step()
        return loss.item()

    return _time_both(ours, theirs)


def charlm_epoch(dtype, torch, hidden=256, batch=32, steps=35, chars=60000, seed=0):
    """Seconds for one epoch of a character LM in minirnn and in torch, and final losses."""
    corpus = default_corpus(max_chars=chars)
    V = corpus.vocab_size
    batches = list(corpus.sequential_batches(batch, steps, rng=seed))
    ((emb, lstm, fc), params, opt), ((temb, tlstm, tfc), tparams, topt) = _twin_models(
        torch, dtype, V, 32, hidden, V)
    crit = mnn.CrossEntropyLoss()

    def ours():
        state, loss = None, 0.0
        for X, Y in batches:
            out, state = lstm(emb(X), state)           # the state carries across batches
            logits = fc(out)                           # (N, T, V)
            loss = crit(logits.reshape(-1, V), Y.reshape(-1))
            dout = fc.backward(crit.backward().reshape(logits.shape))
            dx, _ = lstm.backward(dout)
            emb.backward(dx)
            clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad()
        return loss

    tcrit = torch.nn.CrossEntropyLoss()
    tbatches = [(torch.from_numpy(X), torch.from_numpy(Y)) for X, Y in batches]

    def theirs():
        state, loss = None, None
        for X, Y in tbatches:
            if state is not None:
                state = tuple(s.detach() for s in state)
            out, state = tlstm(temb(X), state)
            loss = tcrit(tfc(out).reshape(-1, V), Y.reshape(-1))
            topt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(tparams, 1.0)
            topt.step()
        return loss.item()

    return _time_both(ours, theirs)


def _time_both(ours, theirs, epochs=3):
    """Median seconds per epoch of each, over ``epochs`` epochs run alternately (a burst of
    load on the machine then slows both), and the losses at the end of the last epoch."""
    times_ours, times_torch = [], []
    for _ in range(epochs):
        t0 = time.perf_counter()
        loss_ours = ours()
        t1 = time.perf_counter()
        loss_torch = theirs()
        t2 = time.perf_counter()
        times_ours.append(t1 - t0)
        times_torch.append(t2 - t1)
    return (statistics.median(times_ours), statistics.median(times_torch), loss_ours,
            loss_torch)


def main(torch, dtypes):
    print("| training epoch | dtype | minirnn s | torch s | ratio | last loss (minirnn / torch) |")
    print("|---|---|---|---|---|---|")
    rows = []
    for name, fn in (("DigitSum LSTM 32, batch 8", digitsum_epoch),
                     ("char LM LSTM 256, batch 32x35", charlm_epoch)):
        for dt in dtypes:
            ours, theirs, lo, lt = fn(dt, torch)
            rows.append({"task": name, "dtype": np.dtype(dt).name, "minirnn_s": ours,
                         "torch_s": theirs, "ratio": ours / theirs})
            print(f"| {name} | {np.dtype(dt).name} | {ours:.2f} | {theirs:.2f} | "
                  f"{ours / theirs:.2f} | {lo:.4f} / {lt:.4f} |", flush=True)
    return rows
