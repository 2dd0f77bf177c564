"""The emulator spells the name alphabet in one place, ``emulator/names.py``: a module that writes its own
``[a-zA-Z0-9._-]`` pattern is a copy of the rule that can drift from it (the libraries' copies, which may not import
the emulator, are held equal to it in ``test_names.py``)."""

from __future__ import annotations

import re
from pathlib import Path

EMULATOR = Path(__file__).resolve().parents[3] / "emulator"
#: Kafka's topic alphabet, its punctuation in any order (``._-`` and ``_.-`` alike).
ALPHABET = re.compile(r"a-zA-Z0-9[._\\-]{3,4}")


def test_no_emulator_module_writes_the_name_alphabet_but_names_py() -> None:
    copies = [
        f"{path.relative_to(EMULATOR.parent)}:{number}"
        for path in sorted(EMULATOR.rglob("*.py"))
        if path.name != "names.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ALPHABET.search(line)
    ]
    assert not copies, "name patterns written outside emulator/names.py: " + ", ".join(copies)
