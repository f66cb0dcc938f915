"""Make numba's on-disk cache notice an edit anywhere in this package.

Every kernel is compiled with ``cache=True``: the machine code goes to a
``__pycache__`` folder and the next process loads it instead of compiling again.
numba decides whether a cached kernel is still good by the *source stamp* of the
file that defines it: that file's modification time and size. An edit to a helper
that the kernel calls from another file (``kernels/activations.py``'s ``sigmoid``,
inlined by the kernels of ``kernels/cpu`` and ``kernels/cuda``) leaves that stamp
unchanged, and the kernel would go on running the old helper from the cache.

So kernels share helpers across files only because of this module: ``install``
puts, in front of each of numba's file-based cache locators, a variant for the
files of this package whose source stamp is the stamp of *all* of them (a hash of
every ``.py`` file's path, modification time and size). Edit any file here and
every kernel of the package is compiled afresh on its next call (a few seconds
in all, once), then cached again. Functions outside the package are left to
numba's own locators. ``tests/kernels/test_cache.py`` edits a helper in a copy of
the package and checks that the kernel that inlines it changes.

``install`` is called for numba's CPU target by ``kernels/__init__.py`` and for
the GPU's (numba-cuda keeps its own cache classes) by ``kernels/cuda/__init__.py``,
before any kernel is defined.
"""

import functools
import hashlib
import os
import warnings

PACKAGE = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def package_stamp():
    """A hash of every ``.py`` file under this package: path, mtime and size."""
    h = hashlib.sha256()
    for root, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                st = os.stat(path)
                rel = os.path.relpath(path, PACKAGE)
                h.update(f"{rel}:{st.st_mtime_ns}:{st.st_size};".encode())
    return h.hexdigest()


def _inside_package(path):
    return os.path.abspath(path).startswith(PACKAGE + os.sep)


def _package_locator(base):
    """``base`` (one of numba's locator classes), for this package's files only,
    stamped with ``package_stamp()``."""

    class PackageLocator(base):
        @classmethod
        def from_function(cls, py_func, py_file):
            if not _inside_package(py_file):
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return package_stamp()

    PackageLocator.__name__ = PackageLocator.__qualname__ = "Package" + base.__name__.lstrip("_")
    return PackageLocator


# numba's locators that stamp a function by its source file (the others: IPython
# cells, zip imports); named with a leading underscore before numba 0.62.
_FILE_LOCATORS = ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")


def install(cache_impl):
    """Put a package-stamped variant of each of ``cache_impl``'s file-based locators
    in front of its list (``numba.core.caching.CacheImpl`` or numba-cuda's)."""
    classes = cache_impl._locator_classes
    if any(getattr(c, "__module__", None) == __name__ for c in classes):
        return  # installed already
    ours = [_package_locator(c) for c in classes if c.__name__.lstrip("_") in _FILE_LOCATORS]
    if len(ours) != len(_FILE_LOCATORS):
        warnings.warn(
            "kernels.cache: this numba's cache locators are not the ones expected "
            f"({[c.__name__ for c in classes]}): a cached kernel will not notice an "
            "edit to a helper in another file of kernels/", RuntimeWarning, stacklevel=2)
        return
    classes[:0] = ours
