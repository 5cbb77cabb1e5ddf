"""umap-learn, imported without pynndescent until UMAP itself needs it.

``umap.umap_`` imports three names from pynndescent (its approximate neighbour search)
at the top of the module, and importing pynndescent compiles about a hundred numba
functions: measured on a 2-core machine, 24 s the first time on a machine (the demo's
first run, every fresh CI clone) and 0.6-1 s in each later process, loading them from
numba's cache. The figures never use pynndescent: they hand UMAP exact neighbours found
with scikit-learn (``precomputed_knn``), and UMAP takes the euclidean metric from its own
``umap.distances``.

So :func:`import_umap` imports umap with stand-ins for those three names, and each
stand-in imports the real pynndescent the first time it is used (a search without
precomputed neighbours, ``transform``, a metric only pynndescent has): UMAP behaves as
it does when imported plainly, and pays for pynndescent only where it uses it. The
stand-ins are in ``sys.modules`` only while umap is imported; a later
``import pynndescent`` gets the real one. If pynndescent is imported already, or umap
cannot be imported with the stand-ins (a umap release that takes other names from
pynndescent), umap is imported plainly. Another thread importing pynndescent in the
moment umap is imported would be handed the stand-ins; lilyvae imports umap from one
thread (a worker process's, or the figures' own), and nothing in it imports pynndescent.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Mapping

#: What ``umap.umap_`` imports from pynndescent: module -> {name: kind}, where a kind is
#: "class" or ("mapping", keys known to be in it). UMAP asks whether its metric is in
#: pynndescent's ``named_distances`` even when it is handed the neighbours (and then does
#: not use the answer); euclidean distance is pynndescent's first metric, so that one
#: question is answered without importing it (a test checks it against pynndescent).
PYNNDESCENT_NAMES = {
    "pynndescent": {"NNDescent": "class"},
    "pynndescent.distances": {"named_distances": ("mapping", ("euclidean",))},
    "pynndescent.sparse": {"sparse_named_distances": ("mapping", ())},
}


def import_umap():
    """The ``umap`` module, imported with pynndescent deferred (module docstring)."""
    return import_deferring("umap", PYNNDESCENT_NAMES)


def import_deferring(target: str, deferred: dict[str, dict]):
    """Import module ``target`` with the modules of ``deferred`` replaced, while it is
    imported, by stand-ins whose names (classes or mappings) import the real module
    the first time they are used (kinds as in :data:`PYNNDESCENT_NAMES`). Imports
    ``target`` plainly where that cannot be done (a deferred module already imported,
    or ``target`` needing a name not stood in)."""
    if target in sys.modules:
        return sys.modules[target]
    if any(name in sys.modules for name in deferred):
        return importlib.import_module(target)
    stand_ins = {module: _stand_in_module(module, names) for module, names in deferred.items()}
    sys.modules.update(stand_ins)
    try:
        return importlib.import_module(target)
    except ImportError:
        pass  # a name the stand-ins lack: imported plainly below
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    # Forget the half-imported target (only it: what it imported on the way, NumPy or
    # scikit-learn, is whole, and extension modules cannot be imported twice).
    for name in [n for n in sys.modules if n == target or n.startswith(target + ".")]:
        del sys.modules[name]
    return importlib.import_module(target)


def _stand_in_module(module: str, names: dict) -> types.ModuleType:
    stand_in = types.ModuleType(module, f"stand-in for {module}, imported on first use")
    stand_in.__lilyvae_stand_in__ = True
    for name, kind in names.items():
        if kind == "class":
            value = _DeferredClassMeta(name, (), {"_origin": (module, name)})
        elif isinstance(kind, tuple) and kind[0] == "mapping":
            value = _DeferredMapping(module, name, kind[1])
        else:
            raise ValueError(f"{module}.{name}: unknown kind {kind!r} (class or mapping)")
        setattr(stand_in, name, value)
    return stand_in


def _real(module: str, name: str):
    """``module.name`` from the real module (imported now if it is not yet)."""
    return getattr(importlib.import_module(module), name)


class _DeferredClassMeta(type):
    """A stand-in class: calling it makes an instance of the real class, and
    ``isinstance`` asks the real class (an instance of it exists only once its module
    is imported, so nothing is imported to answer no)."""

    def __call__(cls, *args, **kwargs):
        return _real(*cls._origin)(*args, **kwargs)

    def __instancecheck__(cls, obj) -> bool:
        module, name = cls._origin
        real = sys.modules.get(module)
        if real is None or getattr(real, "__lilyvae_stand_in__", False):
            return False
        return isinstance(obj, getattr(real, name))

    def __getattr__(cls, attr):
        if attr.startswith("__") or attr == "_origin":
            raise AttributeError(attr)
        return getattr(_real(*cls._origin), attr)


class _DeferredMapping(Mapping):
    """A stand-in mapping: the real one, looked up the first time it is read (asking
    whether it holds one of ``known`` keys does not read it)."""

    def __init__(self, module: str, name: str, known=()):
        self._origin = (module, name)
        self._known = frozenset(known)
        self._mapping = None

    def _target(self) -> Mapping:
        if self._mapping is None:
            self._mapping = _real(*self._origin)
        return self._mapping

    def __getitem__(self, key):
        return self._target()[key]

    def __iter__(self):
        return iter(self._target())

    def __len__(self) -> int:
        return len(self._target())

    def __contains__(self, key) -> bool:
        return (isinstance(key, str) and key in self._known) or key in self._target()
