"""The lake:// files DuckDB reads return every byte asked for up to the end, even when the S3 stream under them
returns less per read (a response cut short on a busy server); DuckDB takes a short read as an I/O error."""

from __future__ import annotations

import io

import pytest

from emulator.athena.engine import FullReads

pytestmark = pytest.mark.unit


class Trickle(io.BytesIO):
    """A stream that returns at most ``step`` bytes per read, as a cut-short S3 response does."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__(data)
        self.step = step

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return super().read()
        return super().read(min(size, self.step))


def test_a_read_returns_everything_asked_for_up_to_the_end() -> None:
    data = bytes(range(256)) * 500
    f = FullReads(Trickle(data, 3511), len(data))
    f.seek(121_597 % len(data))
    start = f.tell()
    assert f.read(23_311) == data[start : start + 23_311]
    f.seek(len(data) - 10)
    assert f.read(100) == data[-10:]  # the end of the file, not an endless loop
    assert f.read(5) == b""
    f.seek(0)
    assert f.read() == data
