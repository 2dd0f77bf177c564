"""The name alphabet is spelt in one place, ``foundation/names.py``: a module of the emulator or of a library that
writes its own ``[a-zA-Z0-9._-]`` pattern is a copy of the rule that can drift from it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("emulator", "producers", "analytics", "sinks", "foundation")
RULE = ROOT / "foundation" / "names.py"
#: Kafka's topic alphabet, its punctuation in any order (``._-`` and ``_.-`` alike).
ALPHABET = re.compile(r"a-zA-Z0-9[._\\-]{3,4}")


def test_no_module_writes_the_name_alphabet_but_foundation_names() -> None:
    copies = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != RULE
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ALPHABET.search(line)
    ]
    assert not copies, "name patterns written outside foundation/names.py: " + ", ".join(copies)
