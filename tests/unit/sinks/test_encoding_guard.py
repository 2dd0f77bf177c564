"""The format guard's verdict (which batches may go to pyarrow's JSON reader) whatever way it is computed.

The guard runs on every batch, so it is computed with as few passes over the batch as possible; these tests hold it
to the plain statement of its rules (``reference``), on batches built to sit on each rule's edge.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foundation.text import utf8_problem
from sinks.buffering import PackedRecords
from sinks.encoding import SCREENED_BRACKETS, _unsafe_for_pyarrow

pytestmark = pytest.mark.unit


def reference(values: list[bytes]) -> bool:
    """The rules, one by one: not UTF-8; not one record per line; a ``null`` where a line may not start with an
    object; a record with too many opening brackets."""
    joined = b"\n".join(values)
    if utf8_problem(joined) is not None:
        return True
    if any(b"\n" in v or b"\r" in v or not v for v in values):
        return True
    if b"null" in joined and not all(v.startswith(b"{") for v in values):
        return True
    return any(v.count(b"[") + v.count(b"{") > SCREENED_BRACKETS for v in values)


PIECES = [b"{", b"}", b'{"a":1}', b"null", b"\n", b"\r", b" ", b"[", b'"x"', b"\xff", b"\xc3\xa9", b"1", b""]
record = st.lists(st.sampled_from(PIECES), max_size=6).map(b"".join)


@settings(max_examples=600, deadline=None)
@given(st.lists(record, min_size=1, max_size=8))
def test_guard_equals_its_rules(values: list[bytes]) -> None:
    assert _unsafe_for_pyarrow(PackedRecords.of(values)) == reference(values)


@pytest.mark.parametrize(
    "values",
    [
        [b'{"a":1}', b"null"],
        [b"null", b'{"a":1}'],
        [b'{"a":null}', b' {"a":1}'],
        [b'{"a":null}', b'{"a":1}\n'],
        [b'{"a":null}', b'{"a":1}\nnull'],
        [b'{"a":null}', b""],
        [b'{"a":null}', b'{"a":1}\r'],
        [b'{"a":null}'] * 3 + [b"[" * SCREENED_BRACKETS + b"{"],
        [b'{"a":null}'] * 3 + [b"[" * (SCREENED_BRACKETS - 1) + b"{"],
        [b'{"a":null}', b'{"a":1}', b'{"b":null}'],
        [b'{"a":1}', b"1", b"[]"],
    ],
)
def test_guard_on_the_edges(values: list[bytes]) -> None:
    assert _unsafe_for_pyarrow(PackedRecords.of(values)) == reference(values)
