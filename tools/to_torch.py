"""Carry a minirnn checkpoint over to PyTorch: the model's torch twin, its weights and the
optimiser's state, so training goes on in torch where it stopped.

    python tools/to_torch.py CHECKPOINT OUT.pt

CHECKPOINT is a file minirnn.train.checkpoint.save (or fit(checkpoint=...)) wrote, read with
its safe loader. OUT.pt holds tensors and plain data only: read it with
``torch_twins.load(OUT.pt)`` (model, optimiser, the rest), or ``torch.load(OUT.pt,
weights_only=True)`` for the raw dict:

  model_class, model_config   the twin's class name (tools/torch_twins.py) and constructor
                              arguments, as minirnn recorded them
  model_state                 the weights, bit for bit, under minirnn's (= torch's) names
  optimizer                   {'type': 'Adam', 'state_dict': the torch optimiser's state_dict()}
                              (exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay, ...)
                              or None
  arrays, meta                the checkpoint's extra arrays (as tensors) and metadata (epoch,
                              history, a scheduler's state, ...), as they were

tools/from_torch.py goes back. What torch cannot express (a peephole LSTM, activations other
than torch's, reset_after=False) is refused with the option's name: see docs/outgrowing.md.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # torch_twins beside this file
import torch_twins  # noqa: E402

from minirnn import models, nn  # noqa: E402
from minirnn.train import checkpoint  # noqa: E402

MINIRNN_CLASSES = {"SequenceClassifier": models.SequenceClassifier, "CharLM": models.CharLM,
                   "EncoderDecoder": models.EncoderDecoder, "RNN": nn.RNN, "LSTM": nn.LSTM,
                   "GRU": nn.GRU}


def minirnn_model(model_class, config):
    """The minirnn model of class name ``model_class`` built from ``config`` (seeded, so that
    building it leaves the global generator alone)."""
    if model_class not in MINIRNN_CLASSES:
        raise ValueError(f"no torch twin for a {model_class!r}: expected one of "
                         f"{sorted(MINIRNN_CLASSES)}")
    return MINIRNN_CLASSES[model_class](**config, rng=0)


def twin_and_order(model_class, config):
    """(torch twin, the minirnn model's parameter names in order). The two orders must agree:
    optimiser state is kept by parameter index in both libraries."""
    twin = torch_twins.build(model_class, config)
    names = [name for name, _ in minirnn_model(model_class, config).named_parameters()]
    twin_names = [name for name, _ in twin.named_parameters()]
    if names != twin_names:
        raise RuntimeError(f"the twin of {model_class} lists its parameters as {twin_names}, "
                           f"minirnn as {names} (a bug in tools/torch_twins.py)")
    return twin, names


def load_weights_into_twin(twin, names, weights):
    """Copy ``weights`` (name -> ndarray) into ``twin`` exactly, after checking names, shapes
    and dtypes."""
    missing = [n for n in names if n not in weights]
    unexpected = [n for n in weights if n not in names]
    if missing or unexpected:
        raise ValueError(f"the weights do not fit the model: missing {missing}, unexpected "
                         f"{unexpected}")
    own = dict(twin.named_parameters())
    state = {}
    for name in names:
        w = np.asarray(weights[name])
        p = own[name]
        if w.shape != tuple(p.shape) or torch_twins.torch_dtype(w.dtype) != p.dtype:
            raise ValueError(f"weight {name!r} is {w.dtype} {w.shape}, expected "
                             f"{p.dtype} {tuple(p.shape)}")
        state[name] = torch.from_numpy(np.array(w))        # a copy, every bit kept
    twin.load_state_dict(state)
    return twin


def optimizer_to_torch(opt_state, params):
    """A torch.optim optimiser over ``params`` (the twin's, in order) holding a minirnn
    optimiser's ``state_dict()``: the same hyperparameters and per-parameter state (Adam's
    exp_avg, exp_avg_sq and step; SGD's momentum_buffer; Adagrad's sum and step; RMSprop's
    square_avg, momentum_buffer, grad_avg and step: the names are torch's in both)."""
    kind = opt_state["type"]
    if kind not in torch_twins.OPTIMIZERS:
        raise ValueError(f"no torch optimiser for a minirnn {kind!r}: expected one of "
                         f"{list(torch_twins.OPTIMIZERS)}")
    params = list(params)
    group = dict(opt_state["param_groups"][0])
    indices = group.pop("params")
    if len(indices) != len(params):
        raise ValueError(f"the {kind} holds state for {len(indices)} parameters, the model has "
                         f"{len(params)}: only an optimiser over all of model.parameters() "
                         f"(in their order) can be carried over")
    if "betas" in group:
        group["betas"] = tuple(group["betas"])
    optimizer = getattr(torch.optim, kind)(params, **group)
    state = {}
    for i, entry in opt_state["state"].items():
        i, p = int(i), params[int(i)]
        state[i] = {}
        for key, value in entry.items():
            if key == "step":      # torch keeps the count as a 0-d float tensor
                state[i][key] = torch.tensor(float(value))
                continue
            value = np.asarray(value)
            if value.shape != tuple(p.shape):
                raise ValueError(f"{kind} state {key!r} of parameter {i} has shape "
                                 f"{value.shape}, the parameter {tuple(p.shape)}")
            state[i][key] = torch.from_numpy(np.array(value, dtype=value.dtype))
    groups = optimizer.state_dict()["param_groups"]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
    return optimizer


def to_torch(model_class, config, weights, opt_state=None):
    """(twin, torch optimiser or None) from a minirnn model's class name, config, weights
    (name -> ndarray) and optimiser ``state_dict()`` (or None)."""
    twin, names = twin_and_order(model_class, config)
    load_weights_into_twin(twin, names, weights)
    optimizer = None if opt_state is None else optimizer_to_torch(opt_state, twin.parameters())
    return twin, optimizer


def live_to_torch(model, optimizer=None):
    """The same from a minirnn model (and optimiser) in memory."""
    config = model.get_config() if hasattr(model, "get_config") else model.config
    return to_torch(type(model).__name__, config, dict(model.state_dict()),
                    None if optimizer is None else optimizer.state_dict())


def convert(checkpoint_path, out_path):
    """Read ``checkpoint_path`` (checked, no pickle), write the torch file ``out_path``.
    Returns (twin, torch optimiser or None)."""
    saved = checkpoint.load(checkpoint_path)
    if saved["model_class"] is None:
        raise ValueError(f"checkpoint {os.fspath(checkpoint_path)!r} holds no model")
    twin, optimizer = to_torch(saved["model_class"], saved["model_config"],
                               saved["model_state"], saved["optimizer_state"])
    arrays = {k: torch.from_numpy(np.array(v)) for k, v in saved["arrays"].items()}
    torch_twins.save(out_path, twin, optimizer, arrays=arrays, **saved["meta"])
    return twin, optimizer


def describe(twin, optimizer):
    n = sum(p.numel() for p in twin.parameters())
    text = f"{type(twin).__name__}({', '.join(f'{k}={v!r}' for k, v in twin.config.items())}), " \
           f"{n} weights"
    if optimizer is not None:
        steps = [int(s["step"]) for s in optimizer.state.values() if "step" in s]
        text += f"; {type(optimizer).__name__}" + (f" after {max(steps)} steps" if steps else "")
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="to_torch.py", description="Carry a minirnn checkpoint (weights and optimiser "
        "state) over to PyTorch, to go on training there.")
    parser.add_argument("checkpoint", help="a minirnn checkpoint (.npz)")
    parser.add_argument("out", help="the torch file to write (.pt)")
    args = parser.parse_args(argv)
    try:
        twin, optimizer = convert(args.checkpoint, args.out)
    except (ValueError, TypeError, FileNotFoundError) as e:      # CheckpointError included
        print(f"to_torch.py: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {describe(twin, optimizer)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
