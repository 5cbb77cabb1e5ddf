"""Names a package exports but imports only on first use (PEP 562's module
``__getattr__``): importing a package must not load every stage behind it."""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, exports: dict[str, str | tuple[str, str]]):
    """A module's ``__getattr__`` and ``__dir__`` for ``package``. ``exports``: name ->
    the module that defines it (a dotted name as it is, a bare one inside ``package``),
    or (module, its name there) where the package exports it under another name; a value
    once imported is kept in the package, so later look-ups do not come here."""

    def __getattr__(name: str):
        source = exports.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = source if isinstance(source, tuple) else (source, name)
        where = module if "." in module else f"{package}.{module}"
        value = getattr(importlib.import_module(where), attribute)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted([*vars(sys.modules[package]), *exports])

    return __getattr__, __dir__
