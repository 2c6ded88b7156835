"""Adagrad (Duchi et al., 2011) with learning-rate decay and L2 weight decay, as torch.

Notation: θ parameter, ∇ its gradient, γ lr, η lr_decay, λ weight_decay, ε eps,
s the running sum of squared gradients (starting at initial_accumulator_value), t = 1, 2, ...
  (1) g = ∇ + λ θ                              L2 penalty folded into the gradient
  (2) γ̃ = γ / (1 + (t − 1) η)                  decayed learning rate
  (3) s = s + g²
  (4) θ = θ − γ̃ g / (√s + ε)                   ε outside the square root
"""
import numpy as np

from .optimizer import Optimizer, nonnegative, positive


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10), as torch.

    State per parameter: 'step' (int) and 'sum' (s), an array shaped like it.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps)

    _rules = dict(lr=nonnegative, lr_decay=nonnegative, weight_decay=nonnegative,
                  initial_accumulator_value=nonnegative, eps=positive)
    _nonnegative_state = ("sum",)

    def _state_names(self, **_):
        return ("step", "sum")

    def _update(self, w, g, state, lr, lr_decay, weight_decay, initial_accumulator_value, eps):
        if not state:
            state.update(step=0, sum=np.full_like(w, initial_accumulator_value))
        state["step"] += 1
        t, s = state["step"], state["sum"]
        if weight_decay != 0:
            g = g + weight_decay * w                                   # (1), a new array
        clr = lr / (1 + (t - 1) * lr_decay)                            # (2)
        s += g * g                                                     # (3), in place
        w -= clr * (g / (np.sqrt(s) + eps))                            # (4)
