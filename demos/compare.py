"""minirnn next to PyTorch: parameter counts, agreement, and speed.

1. Parameter counts. The textbook LSTM has one bias per gate:
       4 · (D·H + H·H + H)            e.g. D = 10, H = 20: 4 · (200 + 400 + 20) = 2480
   torch (and so minirnn, which keeps torch's names and shapes) has two, b_ih and b_hh:
       4 · H · (D + H) + 8 · H        e.g. 4 · 20 · 30 + 160 = 2560
   Only their sum b_ih + b_hh ever matters, so the second is redundant; it is there because
   cuDNN's kernels have it, and keeping it lets torch checkpoints load unchanged.
2. Agreement: copy torch's random weights into minirnn (``load_state_dict``), run both on the
   same input, back-propagate the same random upstream gradient, compare everything.
3. Speed: forward and forward + backward, minirnn's time over torch's (both on the CPU).

torch is optional: without it only the parameter counts are shown. This script lives outside
the package on purpose: the package itself never imports torch.

    python demos/compare.py [--seed S] [--repeats R]     (or: minirnn compare)
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minirnn import nn  # noqa: E402
from minirnn._blas import blas_threads  # noqa: E402
from minirnn.cli import _int_in, _seed_int  # noqa: E402

SEED = 0
COUNT_D, COUNT_H = 10, 20
AGREE = dict(T=7, N=3, D=5, H=6, num_layers=2)
SPEED = dict(T=35, N=32, D=32, H=64)      # a DigitSum / char-LM sized problem, float32
REPEATS = 20
LAYERS = ("RNN", "LSTM", "GRU")
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
INSTALL = ("torch is not installed, so only the parameter counts are shown; to compare with "
           "it: pip install torch==2.13.0  (or pip install -e .[test] in a checkout)")


def parameter_counts(D=COUNT_D, H=COUNT_H):
    """{layer: (textbook single-bias count, minirnn's count)} for one layer, input D, hidden H."""
    counts = {}
    for name in LAYERS:
        G = GATES[name]
        layer = getattr(nn, name)(D, H)
        counts[name] = (G * (D * H + H * H + H), sum(p.data.size for p in layer.parameters()))
    return counts


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def agreement(torch, seed=SEED, T=7, N=3, D=5, H=6, num_layers=2):
    """Worst relative difference between minirnn and torch (float64, same weights), per layer:
    {layer: {'output': err, 'h_n': err, 'grad_x': err, 'grad_params': err}}."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    results = {}
    for name in LAYERS:
        ref = getattr(torch.nn, name)(D, H, num_layers=num_layers, dtype=torch.float64)
        ours = getattr(nn, name)(D, H, num_layers=num_layers, rng=seed)
        ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
        x = rng.standard_normal((T, N, D))
        dy = rng.standard_normal((T, N, H))
        xt = torch.tensor(x, requires_grad=True)
        y_t, state_t = ref(xt)
        (y_t * torch.tensor(dy)).sum().backward()
        y, state = ours(x)
        grad_x, _ = ours.backward(dy)
        h_t = state_t[0] if name == "LSTM" else state_t
        h = state[0] if name == "LSTM" else state
        grads = dict(ref.named_parameters())
        results[name] = dict(
            output=_rel(y, y_t.detach().numpy()), h_n=_rel(h, h_t.detach().numpy()),
            grad_x=_rel(grad_x, xt.grad.numpy()),
            grad_params=max(_rel(p.grad, grads[k].grad.numpy())
                            for k, p in ours.named_parameters()))
    return results


def _rel(a, b):
    scale = np.abs(b).max()
    return float(np.abs(a - b).max() / scale) if scale else float(np.abs(a - b).max())


def _best_time(fn, repeats):
    fn()                                     # warm up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def speed(torch, seed=SEED, T=35, N=32, D=32, H=64, repeats=REPEATS):
    """Best-of-``repeats`` seconds, float32, both on one thread: {layer: {'forward':
    (ours, torch), 'forward+backward': (ours, torch)}}."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with blas_threads(1):
            return _speed(torch, seed, T, N, D, H, repeats)
    finally:
        torch.set_num_threads(threads)


def _speed(torch, seed, T, N, D, H, repeats):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, D)).astype(np.float32)
    dy = rng.standard_normal((T, N, H)).astype(np.float32)
    results = {}
    for name in LAYERS:
        ref = getattr(torch.nn, name)(D, H)
        ours = getattr(nn, name)(D, H, dtype=np.float32, rng=seed)
        ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
        xt, dyt = torch.tensor(x), torch.tensor(dy)

        def ours_fwd():
            ours(x)
            ours.clear_caches()

        def ours_both():
            ours(x)
            ours.backward(dy)

        def torch_fwd():
            with torch.no_grad():
                ref(xt)

        def torch_both():
            ref.zero_grad()
            y, _ = ref(xt)
            y.backward(dyt)

        results[name] = {"forward": (_best_time(ours_fwd, repeats), _best_time(torch_fwd, repeats)),
                         "forward+backward": (_best_time(ours_both, repeats),
                                              _best_time(torch_both, repeats))}
    return results


def run(seed=SEED, repeats=REPEATS, verbose=True):
    """Returns {'counts': ..., 'torch': bool, 'agreement': ... or None, 'speed': ... or None}."""
    say = print if verbose else (lambda *a, **k: None)
    counts = parameter_counts()
    say(f"1. Parameters of one layer, input D = {COUNT_D}, hidden H = {COUNT_H} "
        f"(G gates: RNN 1, GRU 3, LSTM 4)")
    one, two = "one bias: G·(D·H + H·H + H)", "two biases (torch, minirnn): G·H·(D+H) + 2·G·H"
    say(f"   {'layer':<6} {one:>28} {two:>48}")
    for name, (single, ours) in counts.items():
        say(f"   {name:<6} {single:>28} {ours:>48}")
    say("   torch keeps two bias vectors, b_ih and b_hh, per gate block; only their sum matters,")
    say("   so the second is redundant (it mirrors cuDNN). minirnn keeps both so that torch's")
    say("   state_dict loads unchanged. LSTM: 4·(10·20 + 20·20 + 20) = 2480 vs "
        "4·20·30 + 8·20 = 2560.")
    result = dict(counts=counts, torch=False, agreement=None, speed=None)
    torch = _import_torch()
    if torch is None:
        say("\n" + INSTALL)
        return result
    result["torch"] = True
    a = AGREE
    agree = agreement(torch, seed, **a)
    result["agreement"] = agree
    say(f"\n2. Agreement with torch {torch.__version__} after copying its weights (float64, "
        f"{a['num_layers']} layers, T={a['T']}, N={a['N']}, D={a['D']}, H={a['H']}): worst "
        f"relative difference")
    say(f"   {'layer':<6} {'output':>10} {'h_n':>10} {'grad x':>10} {'grad params':>12}")
    for name, e in agree.items():
        say(f"   {name:<6} {e['output']:>10.1e} {e['h_n']:>10.1e} {e['grad_x']:>10.1e} "
            f"{e['grad_params']:>12.1e}")
    s = SPEED
    times = speed(torch, seed, repeats=repeats, **s)
    result["speed"] = times
    say(f"\n3. Speed, float32, T={s['T']}, N={s['N']}, D={s['D']}, H={s['H']}, best of "
        f"{repeats}, one thread each: minirnn / torch")
    for name, t in times.items():
        parts = [f"{what} {ours * 1e3:.2f} ms / {ref * 1e3:.2f} ms = {ours / ref:.1f}x"
                 for what, (ours, ref) in t.items()]
        say(f"   {name:<6} " + ";  ".join(parts))
    say("   (torch's float32 LSTM runs oneDNN's fused kernel; its RNN and GRU loop over time steps\n"
        "   as minirnn does. At sizes this small per-step overhead dominates, so the ratios vary\n"
        "   from machine to machine and run to run)")
    return result


def main(argv=None):
    p = argparse.ArgumentParser(prog="minirnn compare", description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=_seed_int, default=SEED,
                   help=f"random seed, an integer >= 0 (default {SEED})")
    p.add_argument("--repeats", type=_int_in(1, 100_000), default=REPEATS,
                   help=f"timing repetitions, 1..100000 (default {REPEATS})")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="accepted like every demo's (default: ./out/compare); compare only "
                        "prints, it writes no files")
    args = p.parse_args(argv)
    run(seed=args.seed, repeats=args.repeats)


if __name__ == "__main__":
    main()
