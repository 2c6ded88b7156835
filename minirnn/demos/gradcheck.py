"""Check every hand-written backward against finite differences.

For each layer type, ``minirnn.gradcheck(module, *inputs)`` compares the gradients the
module's backward produces with central differences (s(θ + ε) − s(θ − ε)) / 2ε of a random
scalar function of its outputs, and reports the worst relative error per parameter and per
float input. A correct backward in float64 gives about 1e-8 or less; a wrong one gives 1e-3 to O(1).
This is the thing to run after changing a backward.
"""
import numpy as np

from .. import gradcheck, nn
from ..models import CharLM, EncoderDecoder, SequenceClassifier
from ._common import progress

SEED = 0
TOLERANCE = 1e-6                 # float64, central differences with eps = 1e-6
T, N, D, H = 4, 2, 3, 4          # small: every parameter element costs two forward passes


def cases(seed=SEED):
    """(label, module, inputs) for every layer type, with random (nonzero) biases."""
    r = np.random.default_rng(seed)
    x_seq = r.standard_normal((T, N, D))
    x_step = r.standard_normal((N, D))
    h = r.standard_normal((N, H))
    ids = r.integers(0, 7, size=(N, T))
    lengths = np.array([T, T - 2])
    yield "Linear(3, 4)", nn.Linear(D, H, rng=seed), (x_step,)
    yield "Embedding(7, 3)", nn.Embedding(7, D, rng=seed), (ids,)
    yield "CrossEntropyLoss", nn.CrossEntropyLoss(), (r.standard_normal((N, 5)),
                                                      np.array([1, 3]))
    yield "RNNCell tanh", nn.RNNCell(D, H, rng=seed), (x_step, h)
    yield "RNNCell relu", nn.RNNCell(D, H, nonlinearity="relu", rng=seed), (x_step, h)
    yield "LSTMCell", nn.LSTMCell(D, H, rng=seed), (x_step, (h, r.standard_normal((N, H))))
    yield "GRUCell", nn.GRUCell(D, H, rng=seed), (x_step, h)
    yield ("RNN 2 layers, bidirectional, lengths",
           nn.RNN(D, H, num_layers=2, bidirectional=True, rng=seed), (x_seq, None, lengths))
    yield ("LSTM 2 layers, bidirectional, proj_size=2",
           nn.LSTM(D, H, num_layers=2, bidirectional=True, proj_size=2, rng=seed), (x_seq,))
    yield ("GRU 2 layers, batch_first, lengths",
           nn.GRU(D, H, num_layers=2, batch_first=True, rng=seed),
           (np.ascontiguousarray(x_seq.transpose(1, 0, 2)), None, lengths))
    yield ("SequenceClassifier (LSTM)",
           SequenceClassifier(7, 3, H, 5, cell="lstm", rng=seed), (ids, lengths))
    yield "CharLM (GRU, one-hot)", CharLM(7, H, cell="gru", rng=seed), (ids,)
    yield ("EncoderDecoder (LSTM)", EncoderDecoder(7, 6, 3, H, cell="lstm", rng=seed),
           (ids, lengths, ids[:, :3] % 6))


def run(seed=SEED, verbose=True):
    """Check every case. Returns {label: {name: worst relative error}}; also prints a table."""
    results = {}
    for label, module, inputs in progress(list(cases(seed)), desc="gradcheck"):
        results[label] = gradcheck(module, *inputs)
    if verbose:
        print(f"Worst relative error of each backward against central finite differences "
              f"(float64, eps 1e-6);\nOK means below {TOLERANCE:g}.")
        width = max(len(name) for errors in results.values() for name in errors)
        for label, errors in results.items():
            print(f"\n{label}")
            for name, err in errors.items():
                flag = "OK" if err < TOLERANCE else "WRONG?"
                print(f"  {name:<{width}}  {err:.2e}  {flag}")
        worst = max(max(e.values()) for e in results.values())
        bad = [f"{label}: {name}" for label, e in results.items()
               for name, err in e.items() if err >= TOLERANCE]
        print(f"\nworst error overall {worst:.2e}; " +
              ("every backward agrees with finite differences" if not bad else
               "CHECK: " + "; ".join(bad)))
    return results
