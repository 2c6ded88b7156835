"""Training: ``fit`` and ``evaluate`` a model, and save or load checkpoints.

    fit(model, loss, optimizer, train_loader, dev_loader, epochs, ...) -> History
    evaluate(model, loss, loader, metric) -> (mean loss, metric)
    checkpoint.save(path, model, optimizer, **meta) / checkpoint.load(path, model, optimizer)
"""
from . import checkpoint
from .checkpoint import CheckpointError, get_rng_state, load, save, set_rng_state
from .runner import METRICS, History, accuracy, evaluate, fit, perplexity, test

# ``test`` (= evaluate) is importable but left out of __all__: a star import into a test module
# would otherwise make pytest collect it as a test.
__all__ = ["fit", "evaluate", "accuracy", "perplexity", "History", "METRICS",
           "checkpoint", "save", "load", "CheckpointError", "get_rng_state", "set_rng_state"]
