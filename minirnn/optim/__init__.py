"""Optimisers with torch.optim's update rules and defaults, gradient-norm clipping, and
learning-rate schedulers (``minirnn.optim.lr_scheduler``, as ``torch.optim.lr_scheduler``)."""
from .adagrad import Adagrad
from . import lr_scheduler
from .adam import Adam
from .clip import clip_grad_norm_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adam", "Adagrad", "RMSprop", "Optimizer", "clip_grad_norm_", "lr_scheduler"]
