"""The installed version of kemu, as the package metadata gives it (one source for ``--version``, the API and the
edge's health answer)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version


@cache
def installed_version() -> str:
    try:
        return version("kemu")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "unknown"
