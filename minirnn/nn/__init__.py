"""Modules: hold Parameters, options and caches; the math lives in minirnn.functional."""
from .module import Module, Parameter, Sequential, StateDictError
