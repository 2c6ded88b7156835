"""Optimisers with torch.optim's update rules and defaults, gradient clipping (by norm and by
value), and learning-rate schedulers (``minirnn.optim.lr_scheduler``, as
``torch.optim.lr_scheduler``)."""
from .adagrad import Adagrad
from .adam import Adam
from .clip import clip_grad_norm_, clip_grad_value_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
from . import lr_scheduler   # noqa: E402 (after the optimisers it schedules)

__all__ = ["SGD", "Adam", "Adagrad", "RMSprop", "Optimizer", "clip_grad_norm_",
           "clip_grad_value_", "lr_scheduler"]
