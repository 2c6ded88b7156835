"""minirnn: recurrent networks in pure NumPy with hand-written backpropagation through time."""
from ._config import (get_default_dtype, is_grad_enabled, manual_seed, no_grad,
                      set_default_dtype)
from . import nn

__version__ = "0.1.0"
