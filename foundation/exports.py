"""A package's public names loaded on first use (PEP 562), so importing one light submodule of it (the emulator's
settings import ``analytics.config`` and ``sinks.config`` for every command) does not load the whole package and
its native libraries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: ``name`` comes from the module ``exports[name]`` on first use and
    is kept in ``namespace`` (the package's globals), so later lookups do not call it again."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
