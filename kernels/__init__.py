"""Numba kernels: the hot loops of minigrad, as plain functions on raw arrays.

``kernels.cpu`` holds ``@njit`` kernels on NumPy arrays and ``kernels.cuda``
their ``@cuda.jit`` twins, same names and argument order. A kernel takes its
inputs and its outputs as arrays, writes the outputs in place, and knows
nothing of Tensors, graphs or modules: this package imports only numba and
numpy, never minigrad, so any kernel can be called, tested and timed on bare
arrays.
"""

from numba.core import caching as _caching

from . import cache as _cache

# Before any kernel is defined: cached kernels notice edits to any file of the
# package, so helpers can be shared between files (kernels/cache.py).
_cache.install(getattr(_caching, "CacheImpl", None) or _caching._CacheImpl)
