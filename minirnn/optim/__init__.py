"""Optimisers with torch.optim's update rules and defaults, and gradient-norm clipping."""
from .adagrad import Adagrad
from .adam import Adam
from .clip import clip_grad_norm_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adam", "Adagrad", "RMSprop", "Optimizer", "clip_grad_norm_"]
