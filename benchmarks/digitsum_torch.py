"""DigitSum with PyTorch's layers, on the same data files and recipe as `minirnn digitsum`.

    minirnn digitsum --full --save-data DATA          # minirnn, writing the data it used
    python benchmarks/digitsum_torch.py DATA          # torch on exactly those files

Recipe (the book's): Embedding 10x32 -> SRN/LSTM/GRU 32 -> Linear 32->19 on the final hidden
state, Adam lr 1e-3, batch 8, 500 epochs, the test accuracy of the best-dev epoch's weights.
Prints a markdown table like the demo's. Needs torch (pip install -e .[test]).
"""
import argparse
import copy
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn.data import load_digitsum  # noqa: E402

LAYERS = {"srn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


class Classifier(torch.nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 32)
        self.rnn = LAYERS[kind](32, 32, batch_first=True)
        self.fc = torch.nn.Linear(32, 19)

    def forward(self, x):
        _, h = self.rnn(self.emb(x))
        h = h[0] if isinstance(h, tuple) else h
        return self.fc(h[-1])


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def train(kind, data, epochs, batch, lr, seed):
    torch.manual_seed(seed)
    (xtr, ytr), (xdev, ydev), (xte, yte) = [(torch.from_numpy(d.x), torch.from_numpy(d.y))
                                           for d in data]
    model = Classifier(kind)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    lossf = torch.nn.CrossEntropyLoss()
    best, best_state, best_epoch = -1.0, None, 0
    for epoch in range(epochs):
        model.train()
        for idx in torch.randperm(len(xtr)).split(batch):
            opt.zero_grad()
            lossf(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
        model.eval()
        dev = accuracy(model, xdev, ydev)
        if dev > best:
            best, best_state, best_epoch = dev, copy.deepcopy(model.state_dict()), epoch + 1
    model.load_state_dict(best_state)
    return accuracy(model, xte, yte), best, best_epoch


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data", help="folder written by `minirnn digitsum --save-data`")
    p.add_argument("--models", default="srn,lstm,gru")
    p.add_argument("--lengths", default="5,10,15,20,25,30,35")
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)            # tiny models: threads only add overhead
    lengths = [int(v) for v in args.lengths.split(",")]
    models = args.models.split(",")
    results = {m: {} for m in models}
    for L in lengths:
        data = load_digitsum(os.path.join(args.data, str(L)))
        for m in models:
            t0 = time.perf_counter()
            test, dev, epoch = train(m, data, args.epochs, args.batch, args.lr, args.seed)
            results[m][L] = test
            print(f"  torch {m.upper():4} L={L:2}  test accuracy {test:.2f}  (best dev {dev:.2f} "
                  f"at epoch {epoch}, {time.perf_counter() - t0:.1f}s)", flush=True)
    print("\n| model | " + " | ".join(f"L={L}" for L in lengths) + " |")
    print("|---|" + "---|" * len(lengths))
    for m in models:
        print(f"| torch {m.upper()} | " + " | ".join(f"{results[m][L]:.2f}" for L in lengths)
              + " |")


if __name__ == "__main__":
    main()
