"""Adam (Kingma & Ba, 2015) with L2 weight decay added to the gradient (torch's Adam, not AdamW).

Notation: θ parameter, ∇ its gradient, γ lr, β1 β2 betas, ε eps, λ weight_decay,
m and v the first and second moment estimates (zero before step 1), t = 1, 2, ... the step.
  (1) g = ∇ + λ θ                              L2 penalty folded into the gradient
  (2) m = β1 m + (1 − β1) g
  (3) v = β2 v + (1 − β2) g²
  (4) m̂ = m / (1 − β1ᵗ),   v̂ = v / (1 − β2ᵗ)    bias corrections
  (5) θ = θ − γ m̂ / (√v̂ + ε)
ε is added after the bias correction of √v, as torch does (the paper's order); the code folds
the corrections into a step size γ / (1 − β1ᵗ) and a denominator √v / √(1 − β2ᵗ) + ε.
"""
import numpy as np

from .optimizer import Optimizer, beta_pair, nonnegative, positive


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0), as torch.

    State per parameter: 'step' (int), 'exp_avg' (m), 'exp_avg_sq' (v), arrays shaped like it.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    _rules = dict(lr=nonnegative, betas=beta_pair, eps=positive, weight_decay=nonnegative)
    _nonnegative_state = ("exp_avg_sq",)

    def _state_names(self, **_):
        return ("step", "exp_avg", "exp_avg_sq")

    def _update(self, w, g, state, lr, betas, eps, weight_decay):
        beta1, beta2 = betas
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(w), exp_avg_sq=np.zeros_like(w))
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        if weight_decay != 0:
            g = g + weight_decay * w                                   # (1), a new array
        # the same operations, in the same order, as the one-liners in the comments; written
        # into one scratch array, since each temporary of a large weight costs an allocation
        tmp = np.subtract(g, m, out=np.empty_like(m))
        tmp *= 1 - beta1
        m += tmp                                                       # (2) m += (1−β1)(g − m)
        v *= beta2                                                     # (3) v = β2 v
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp                                                       #       + (1−β2) g²
        step_size = lr / (1 - beta1 ** t)                              # (4)
        denom = np.sqrt(v, out=tmp)                                    #   √v / √(1−β2ᵗ) + ε
        denom /= (1 - beta2 ** t) ** 0.5
        denom += eps
        np.divide(m, denom, out=tmp)
        tmp *= step_size
        w -= tmp                                                       # (5) w −= γ' m / denom
