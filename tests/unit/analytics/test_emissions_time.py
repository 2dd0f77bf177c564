"""Times in emitted records are ISO-8601 with a four-digit year, whatever the watermark."""

from __future__ import annotations

import datetime as dt

from analytics.emissions import iso_ms
from analytics.watermarks import MIN_WATERMARK


def test_no_watermark_yet_is_still_a_valid_iso_time() -> None:
    assert iso_ms(MIN_WATERMARK) == "0001-01-01T00:00:00.000Z"
    assert dt.datetime.fromisoformat(iso_ms(MIN_WATERMARK)).year == 1


def test_millisecond_precision_on_both_sides_of_the_epoch() -> None:
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"
    assert iso_ms(-1) == "1969-12-31T23:59:59.999Z"
    assert iso_ms(1_795_763_570_330) == "2026-11-27T07:12:50.330Z"
