"""RMSprop (Hinton's lecture 6e), optionally centered (Graves, 2013) and with momentum, as torch.

Notation: θ parameter, ∇ its gradient, γ lr, α alpha, ε eps, λ weight_decay, μ momentum,
v the running mean of g², ḡ the running mean of g, b the momentum buffer (all zero at first).
  (1) g = ∇ + λ θ                              L2 penalty folded into the gradient
  (2) v = α v + (1 − α) g²
  (3) ḡ = α ḡ + (1 − α) g,   d = √(v − ḡ²) + ε   if centered (a variance, not a raw 2nd moment)
      d = √v + ε                                 otherwise (ε outside the square root)
  (4) b = μ b + g / d,   θ = θ − γ b             if μ > 0
      θ = θ − γ g / d                            otherwise
No bias correction: v starts at zero, so early steps are large (as torch).
"""
import numpy as np

from .optimizer import Optimizer, flag, fraction, nonnegative, positive


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False), as torch.

    State per parameter: 'step' (int), 'square_avg' (v), and, when used, 'momentum_buffer' (b)
    and 'grad_avg' (ḡ), arrays shaped like it.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered)

    _rules = dict(lr=nonnegative, alpha=fraction, eps=positive, weight_decay=nonnegative,
                  momentum=nonnegative, centered=flag)
    _nonnegative_state = ("square_avg",)

    def _state_names(self, momentum, centered, **_):
        return (("step", "square_avg") + (("momentum_buffer",) if momentum > 0 else ())
                + (("grad_avg",) if centered else ()))

    def _update(self, w, g, state, lr, alpha, eps, weight_decay, momentum, centered):
        if not state:
            state.update(step=0, square_avg=np.zeros_like(w))
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(w)
            if centered:
                state["grad_avg"] = np.zeros_like(w)
        state["step"] += 1
        v = state["square_avg"]
        if weight_decay != 0:
            g = g + weight_decay * w                                   # (1), a new array
        v *= alpha                                                     # (2), in place
        v += (1 - alpha) * (g * g)
        if centered:
            g_avg = state["grad_avg"]
            g_avg += (1 - alpha) * (g - g_avg)                         # (3), in place
            d = np.sqrt(v - g_avg * g_avg) + eps
        else:
            d = np.sqrt(v) + eps
        if momentum > 0:
            b = state["momentum_buffer"]
            b *= momentum                                              # (4), in place
            b += g / d
            w -= lr * b
        else:
            w -= lr * (g / d)
