"""Stochastic gradient descent, with optional momentum, dampening, Nesterov and L2 weight decay.

Notation: θ parameter, ∇ its gradient, γ lr, μ momentum, τ dampening, λ weight_decay,
b the momentum buffer, t = 1, 2, ... the step.
  (1) g = ∇ + λ θ                              L2 penalty folded into the gradient
  (2) b = g                       if t = 1     (when μ ≠ 0) the buffer starts at g, undampened
      b = μ b + (1 − τ) g         if t > 1
  (3) g = g + μ b   if nesterov,  else  g = b  (when μ ≠ 0)
  (4) θ = θ − γ g
This is torch's formulation: the learning rate multiplies the buffer in (4) instead of being
inside it (Sutskever et al. put γ in (2)); the two agree while γ is constant.
"""
import numpy as np

from .optimizer import Optimizer, flag, fraction, nonnegative


class SGD(Optimizer):
    """SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False), as torch.

    State per parameter (when momentum ≠ 0): 'momentum_buffer', an array shaped like it.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov)

    _rules = dict(lr=nonnegative, momentum=nonnegative, dampening=fraction,
                  weight_decay=nonnegative, nesterov=flag)

    def _check_together(self, where, momentum, dampening, nesterov, **_):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"{where}: expected momentum > 0 and dampening = 0 for Nesterov "
                             f"momentum, got momentum={momentum:g}, dampening={dampening:g}")

    def _state_names(self, momentum, **_):
        return ("momentum_buffer",) if momentum != 0 else ()

    def _update(self, w, g, state, lr, momentum, dampening, weight_decay, nesterov):
        if weight_decay != 0:
            g = g + weight_decay * w                                   # (1), a new array
        if momentum != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g)                 # (2) t = 1, a copy
            else:
                b = state["momentum_buffer"]
                b *= momentum                                          # (2) t > 1, in place
                b += (1 - dampening) * g
            b = state["momentum_buffer"]
            g = g + momentum * b if nesterov else b                    # (3)
        w -= lr * g                                                    # (4)
