"""Name patterns as Glue's GetTables and Athena's SHOW TABLES read them (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable


class PatternError(ValueError):
    """A pattern too long to be one."""


def name_pattern(expression: str | None) -> Callable[[str], bool]:
    """Hive's ``SHOW TABLES LIKE`` rule: ``*`` is any characters, ``|`` separates alternatives, case is ignored;
    everything else is literal (no regular expression reaches ``re``, so no pattern can be slow)."""
    if not expression:
        return lambda _name: True
    if len(expression) > 2048:
        raise PatternError("a name pattern is at most 2048 characters")
    alternatives = [
        "".join(".*" if ch == "*" else re.escape(ch) for ch in part.strip()) for part in expression.split("|")
    ]
    compiled = re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE | re.DOTALL)
    return lambda name: compiled.fullmatch(name) is not None
