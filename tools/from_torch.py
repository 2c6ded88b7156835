"""Back from PyTorch: a file tools/to_torch.py (or torch_twins.save) wrote, as a minirnn
checkpoint again.

    python tools/from_torch.py IN.pt CHECKPOINT

The weights come back bit for bit, the optimiser's state (moments, step, hyperparameters)
as minirnn's, and the extra arrays and metadata as they were, so minirnn → torch → minirnn
gives back the very checkpoint it started from. A torch optimiser with options minirnn lacks
(amsgrad, maximize, decoupled_weight_decay, several parameter groups) is refused by name.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_twins  # noqa: E402
from to_torch import minirnn_model  # noqa: E402

from minirnn import optim  # noqa: E402
from minirnn.train import checkpoint  # noqa: E402

# torch options minirnn's optimisers do not have: the value they must hold to carry over
_TORCH_ONLY = {"amsgrad": False, "maximize": False, "decoupled_weight_decay": False,
               "differentiable": False}
# options that change how torch runs the same update, not what it computes, and the
# learning rate a torch scheduler started from (the current one is 'lr')
_IGNORED = ("foreach", "capturable", "fused", "initial_lr")


def _array(t):
    return t.detach().cpu().numpy().copy()


def model_from_torch(model_class, config, state_dict):
    """A minirnn model holding the twin's ``state_dict`` (name -> tensor), bit for bit."""
    model = minirnn_model(model_class, config)
    own = dict(model.named_parameters())
    missing = [n for n in own if n not in state_dict]
    unexpected = [n for n in state_dict if n not in own]
    if missing or unexpected:
        raise ValueError(f"the torch weights do not fit {model_class}: missing {missing}, "
                         f"unexpected {unexpected}")
    weights = {}
    for name, p in own.items():
        w = _array(state_dict[name])
        if w.shape != p.data.shape or w.dtype != p.data.dtype:
            raise ValueError(f"weight {name!r} is {w.dtype} {w.shape}, expected "
                             f"{p.data.dtype} {p.data.shape}")
        weights[name] = w
    model.load_state_dict(weights)
    return model


def optimizer_from_torch(kind, state_dict, params):
    """A minirnn optimiser over ``params`` holding a torch optimiser's ``state_dict()``."""
    if kind not in torch_twins.OPTIMIZERS:
        raise ValueError(f"no minirnn optimiser for a torch {kind!r}: expected one of "
                         f"{list(torch_twins.OPTIMIZERS)}")
    groups = state_dict["param_groups"]
    if len(groups) != 1:
        raise ValueError(f"the torch {kind} has {len(groups)} parameter groups; minirnn's "
                         f"optimisers have one")
    group = dict(groups[0])
    indices = group.pop("params")
    params = list(params)
    if len(indices) != len(params):
        raise ValueError(f"the torch {kind} covers {len(indices)} parameters, the model has "
                         f"{len(params)}")
    for option, default in _TORCH_ONLY.items():
        value = group.pop(option, default)
        if value != default:
            raise ValueError(f"minirnn's {kind} has no {option}={value!r} (only torch's "
                             f"default, {default}); it cannot continue this run")
    for option in _IGNORED:
        group.pop(option, None)
    position = {index: k for k, index in enumerate(indices)}
    state = {}
    for index, entry in state_dict["state"].items():
        values = {key: (int(v.item()) if key == "step" and isinstance(v, torch.Tensor)
                        else _array(v) if isinstance(v, torch.Tensor) else v)
                  for key, v in entry.items() if v is not None}
        if values:
            state[position[index]] = values
    optimizer = getattr(optim, kind)(params, **group)
    optimizer.load_state_dict({"type": kind, "state": state,
                               "param_groups": [dict(group, params=list(range(len(params))))]})
    return optimizer


def from_torch(data):
    """(minirnn model, minirnn optimiser or None) from what ``torch.load(...,
    weights_only=True)`` read from a to_torch file."""
    model = model_from_torch(data["model_class"], data["model_config"], data["model_state"])
    optimizer = None
    if data["optimizer"] is not None:
        optimizer = optimizer_from_torch(data["optimizer"]["type"],
                                         data["optimizer"]["state_dict"], model.parameters())
    return model, optimizer


def live_from_torch(twin, optimizer=None):
    """The same from a twin (and torch optimiser) in memory."""
    data = {"model_class": type(twin).__name__, "model_config": twin.config,
            "model_state": twin.state_dict(),
            "optimizer": None if optimizer is None else {
                "type": type(optimizer).__name__, "state_dict": optimizer.state_dict()}}
    return from_torch(data)


def convert(torch_path, checkpoint_path):
    """Read the torch file (weights_only), write the minirnn checkpoint. Returns (model,
    optimiser or None)."""
    data = torch_twins.read(torch_path)
    model, optimizer = from_torch(data)
    arrays = {k: _array(v) for k, v in data["arrays"].items()}
    checkpoint.save(checkpoint_path, model, optimizer, arrays=arrays, **data["meta"])
    return model, optimizer


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="from_torch.py", description="Turn a file tools/to_torch.py wrote back into a "
        "minirnn checkpoint (weights bit for bit, optimiser state, metadata).")
    parser.add_argument("torch_file", help="a .pt file written by tools/to_torch.py")
    parser.add_argument("checkpoint", help="the minirnn checkpoint to write (.npz)")
    args = parser.parse_args(argv)
    try:
        model, optimizer = convert(args.torch_file, args.checkpoint)
    except (ValueError, TypeError, KeyError, FileNotFoundError) as e:
        print(f"from_torch.py: error: {e}", file=sys.stderr)
        return 1
    n = sum(p.data.size for p in model.parameters())
    print(f"wrote {args.checkpoint}: {type(model).__name__}, {n} weights"
          + ("" if optimizer is None else f", {type(optimizer).__name__} state"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
