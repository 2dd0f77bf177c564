"""The name alphabet is spelt in one place, ``foundation/names.py``: a module of the emulator or of a library that
writes its own ``[a-zA-Z0-9._-]`` pattern is a copy of the rule that can drift from it."""

from __future__ import annotations

import re

from tests.support.one_source import written_outside

#: Kafka's topic alphabet, its punctuation in any order (``._-`` and ``_.-`` alike).
ALPHABET = re.compile(r"a-zA-Z0-9[._\\-]{3,4}")


def test_no_module_writes_the_name_alphabet_but_foundation_names() -> None:
    copies = written_outside(ALPHABET, "foundation/names.py")
    assert not copies, "name patterns written outside foundation/names.py: " + ", ".join(copies)


def test_a_copy_of_the_alphabet_is_found() -> None:
    # The rule's own module holds the alphabet; seen from anywhere else it is a copy.
    assert written_outside(ALPHABET, "foundation/clock.py", packages=("foundation",)) == ["foundation/names.py:12"]
