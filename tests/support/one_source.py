"""Finding copies of a rule that must be written in one place: every line of the project's packages that matches a
pattern, outside the one module allowed to write it (``tests/unit/test_one_clock.py``,
``tests/unit/emulator/test_names_one_source.py``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The packages of the project whose modules may hold a copy (the tests are not among them: they spell rules out).
PACKAGES = ("emulator", "producers", "analytics", "sinks", "foundation", "bench")


def written_outside(pattern: re.Pattern[str], home: str, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """``path:line`` of every line of ``packages`` that matches ``pattern``, except in ``home`` (from the root)."""
    return [
        f"{path.relative_to(ROOT)}:{number}"
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / home
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
