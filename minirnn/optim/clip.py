"""Gradient clipping by the global norm of all gradients, as torch.nn.utils.clip_grad_norm_.

  (1) ‖g‖ = ‖(‖g₁‖, ‖g₂‖, ...)‖                the p-norm of the per-parameter p-norms, which
                                              is the p-norm of all gradients as one vector
  (2) c = min(max_norm / (‖g‖ + 10⁻⁶), 1)     never scales gradients up
  (3) gᵢ = c gᵢ                               for every parameter, in place
A non-finite norm is not an error (torch's default error_if_nonfinite=False): an infinite norm
gives c = 0, a NaN norm gives c = NaN, and the gradients follow from (3) as they do in torch.
"""
import numpy as np

from ..nn.module import Parameter


def clip_grad_norm_(params, max_norm, norm_type=2.0):
    """Scale the ``.grad`` of ``params`` in place so that their total norm is at most ``max_norm``.

    params : a Parameter or an iterable of Parameters
    norm_type : p of the p-norm, a float; float('inf') for the largest absolute value
    Returns the total norm before clipping, as a Python float (0.0 for no parameters).
    """
    if isinstance(params, Parameter):
        params = [params]
    grads = [p.grad for p in params]
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    norms = [np.linalg.norm(g.ravel(), ord=norm_type) for g in grads]
    total_norm = np.linalg.norm(np.array(norms), ord=norm_type)           # (1), grads' dtype
    clip_coef = np.minimum(max_norm / (total_norm + 1e-6), 1.0)           # (2), NaN stays NaN
    with np.errstate(invalid="ignore"):  # inf * 0 -> NaN, as torch, without a warning
        for g in grads:
            g *= clip_coef                                                # (3)
    return float(total_norm)
