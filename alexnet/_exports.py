"""How a subpackage passes its modules' public names on: ``from alexnet.claims import run_claim``.

A subpackage names the modules whose ``__all__`` it gives to its readers. A name is looked up in
those modules in the order given, each imported only when the lookup reaches it (so a subpackage
lists its cheap modules first, and importing it loads neither matplotlib nor the trainer); the
modules a chapter reads as namespaces (``from alexnet.claims import evidence``) are attributes too.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

__all__ = ["public_names"]


def public_names(package: str, modules: tuple[str, ...]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` that give every name in its ``modules``' ``__all__``,
    and the modules themselves, on first use; ``__all__`` is their names in order."""

    def load(module: str):
        return importlib.import_module(f"{package}.{module}")

    def __getattr__(name: str):
        if name == "__all__":
            value = [*dict.fromkeys(n for m in modules for n in load(m).__all__), *modules]
        elif name in modules:
            value = load(name)
        elif name.startswith("__"):
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        else:
            value = next((getattr(m, name) for m in map(load, modules) if name in m.__all__), _MISSING)
            if value is _MISSING:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *__getattr__("__all__")})

    return __getattr__, __dir__


_MISSING = object()
