"""Parameter, Module and Sequential: the bookkeeping every layer shares.

A Module's ``forward`` computes outputs and, outside ``no_grad``, pushes what its ``backward``
needs onto a stack of caches; ``backward`` pops the most recent one (last in, first out). So a
module called T times is back-propagated by T ``backward`` calls in reverse order, exactly
like the unrolled graph of backpropagation through time.

That stack makes one mistake easy: a model called twice in grad mode (a dev evaluation outside
``no_grad``, say) and back-propagated once would silently use the *second* call's caches. So
each cache remembers which top-level call made it, and a backward that would undo one call of
a model (a module with child modules) while an earlier call's caches wait below raises
``StackedForwardError`` before anything changes, naming the fix. Unrolling by hand stays
free: single modules (cells, layers, Linear, the loss) may be called T times and then
back-propagated T times, calls made inside another module's forward share their top-level
call, and a model meant to be unrolled by hand sets ``stacked_calls = True``.
"""
import collections.abc
from collections import OrderedDict

import numpy as np

from .. import _config


class StateDictError(KeyError):
    """A state dict whose keys do not match the module's parameters."""

    def __str__(self):  # KeyError would print the message quoted
        return str(self.args[0])


class StackedForwardError(RuntimeError):
    """A backward would undo the latest of several top-level calls still waiting for one."""


_calls_running = 0      # Module calls in progress: 0 means the next call is a top-level one
_top_level = [0, None]  # [number of the current top-level call, its module]


class Parameter:
    """A trainable array and the gradient that backward passes add into.

    data : ndarray, any shape, float32 or float64
    grad : ndarray, same shape and dtype as ``data``; zeros until a backward adds to it
    """

    __slots__ = ("data", "grad")

    def __init__(self, data):
        data = np.array(data, copy=True)
        if data.dtype.kind != "f":
            raise TypeError(f"expected a float array for a Parameter, got dtype {data.dtype}")
        self.data = data
        self.grad = np.zeros_like(data)

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def zero_grad(self):
        self.grad[...] = 0

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class: registers Parameters and child Modules assigned as attributes.

    Subclasses call ``super().__init__()`` first, then implement ``forward`` and ``backward``,
    using ``self._push(cache)`` in forward and, in backward, ``self._peek()`` to read the
    cache, then ``self._pop()`` once the gradients passed their checks.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_caches", [])
        object.__setattr__(self, "_callers", [])     # (top-level call number, its module)
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning attributes")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # ---- forward / backward ------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, *grads):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    stacked_calls = False      # True: several top-level calls may wait for backward (see top)

    def __call__(self, *args, **kwargs):
        global _calls_running
        if _calls_running == 0:
            _top_level[0] += 1
            _top_level[1] = self
        _calls_running += 1
        try:
            return self.forward(*args, **kwargs)
        finally:
            _calls_running -= 1

    def _push(self, cache):
        """Keep ``cache`` for the matching backward, unless inside ``no_grad``."""
        if _config.is_grad_enabled():
            self._caches.append(cache)
            self._callers.append(tuple(_top_level))

    def _peek(self):
        """The cache of the most recent forward not yet back-propagated, left in place.

        Backward methods peek, validate their gradients, and only then ``_pop``: a backward
        rejected for a bad gradient leaves its forward pending, so it can be retried.
        """
        if not self._caches:
            raise RuntimeError(
                f"{type(self).__name__}.backward was called with no pending forward: call the "
                f"module outside `no_grad()` first (each backward undoes one forward, last first)")
        if len(self._callers) > 1:
            (call, top), (earlier, _) = self._callers[-1], self._callers[-2]
            if call != earlier and top is not None and top._modules and not top.stacked_calls:
                self._refuse_stacked_backward(top)
        return self._caches[-1]

    def _refuse_stacked_backward(self, top):
        name = type(top).__name__
        calls = len({c for c, _ in self._callers})
        raise StackedForwardError(
            f"{type(self).__name__}.backward: {calls} calls of {name} are waiting for backward, "
            f"and backward undoes the latest one first, which is probably not the one meant "
            f"(a dev evaluation run outside no_grad?). Run forwards you will not "
            f"back-propagate under `with minirnn.no_grad():`, or call `.clear_caches()` on "
            f"the model before the forward you back-propagate. To unroll by hand on purpose "
            f"(back-propagating every call, last first), set `{name}.stacked_calls = True`.")

    def _pop(self):
        """Remove and return the cache of the most recent pending forward."""
        self._peek()
        self._callers.pop()
        return self._caches.pop()

    def _backward_from_output_grads(self, grads):
        """Call backward with gradients shaped like forward's output (used by gradcheck)."""
        if isinstance(grads, tuple):
            return self.backward(*grads)
        return self.backward(grads)

    def clear_caches(self):
        """Drop every pending forward cache, in this module and its children."""
        for m in self.modules():
            m._caches.clear()
            m._callers.clear()

    # ---- parameters and children ---------------------------------------------------------
    def children(self):
        return iter(self._modules.values())

    def modules(self):
        yield self
        for child in self._modules.values():
            yield from child.modules()

    def named_parameters(self, prefix=""):
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, child in self._modules.items():
            yield from child.named_parameters(prefix + name + ".")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    # ---- state ---------------------------------------------------------------------------
    def state_dict(self):
        """name -> a copy of each parameter's array (dotted names for children)."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, mapping, strict=True):
        """Copy arrays into the parameters, in this module's dtype.

        Missing or unexpected keys raise StateDictError (a KeyError) (unless ``strict=False``); a wrong shape
        always raises ValueError; anything but a mapping (None, a list) is a TypeError.
        Nothing is changed unless every check passes.
        """
        if not isinstance(mapping, collections.abc.Mapping):      # as torch, which says so too
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a mapping of "
                            f"parameter names to arrays (such as state_dict() returns), got "
                            f"{type(mapping).__name__}")
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in mapping]
        unexpected = [k for k in mapping if k not in params]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise StateDictError(f"{type(self).__name__}.load_state_dict: " + "; ".join(parts)
                           + f"; expected exactly {list(params)}")
        staged = {}
        for name, p in params.items():
            if name not in mapping:
                continue
            value = np.asarray(mapping[name])
            if value.shape != p.data.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: expected {name!r} of "
                                 f"shape {p.data.shape}, got {value.shape}")
            if value.dtype.kind not in "fiub":
                raise TypeError(f"{type(self).__name__}.load_state_dict: expected numbers for "
                                f"{name!r}, got dtype {value.dtype}")
            staged[name] = value
        for name, value in staged.items():
            params[name].data[...] = value
        return self

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            child_lines = repr(child).split("\n")
            lines.append(f"  ({name}): " + "\n  ".join(child_lines))
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied in order; backward runs the children in reverse order."""

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential expects Modules, got {type(m).__name__} at "
                                f"position {i}")
            setattr(self, str(i), m)

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        self._push(True)  # one marker per forward, so backward without forward fails clearly
        return x

    def backward(self, grad):
        self._peek()
        for m in reversed(list(self._modules.values())):
            grad = m.backward(grad)
        self._pop()
        return grad
