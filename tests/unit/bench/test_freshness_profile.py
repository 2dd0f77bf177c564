"""The freshness profile's arithmetic: each poll's freshness split into stages that add up to it, the API's own delay
found where a newer emission was readable, and the table and plot drawn from the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.freshness_profile import Emission, Poll, Profile, event_time, figures, plot, table

pytestmark = pytest.mark.unit

T0 = 1_800_000_000.0


def emission(at: float, read: float, newest: float, received: float) -> Emission:
    return Emission("w", f"e{at}", newest_event=T0 + newest, read_at=T0 + read, emitted=T0 + at, received=T0 + received)


def poll(sent: float, served: Emission) -> Poll:
    return Poll(T0 + sent, served.window_start, served.emitted_at, served.newest_event)


def test_each_poll_is_split_into_stages_whose_means_add_up_to_the_freshness() -> None:
    first = emission(at=1.10, read=1.00, newest=0.93, received=1.11)
    second = emission(at=1.40, read=1.25, newest=1.20, received=1.42)
    profile = Profile(
        source=[(0.001, 0.004), (0.002, 0.006)],
        emissions=[first, second],
        polls=[poll(1.30, first), poll(1.50, second)],
    )
    stages = profile.stages()
    assert stages["freshness"]["count"] == 2
    assert stages["freshness"]["mean_ms"] == pytest.approx(((1.30 - 0.93) + (1.50 - 1.20)) / 2 * 1000, abs=0.1)
    parts = [
        "1 events reach the engine (read_at - newest event)",
        "2 engine computes (emitted_at - read_at)",
        "3 served after emission (poll - emitted_at)",
    ]
    assert sum(stages[p]["mean_ms"] for p in parts) == pytest.approx(stages["freshness"]["mean_ms"], abs=0.2)
    assert stages["2 engine computes (emitted_at - read_at)"]["p50_ms"] == pytest.approx(100.0, abs=0.1)
    assert stages["gap between emissions"]["p50_ms"] == pytest.approx(300.0, abs=0.1)
    assert stages["1a producer: event_time to Kafka timestamp"]["max_ms"] == pytest.approx(2.0)
    assert stages["_polls_matched"] == {"polls": 2, "matched": 2}


def test_the_api_is_behind_only_when_a_reader_already_had_a_newer_emission() -> None:
    first = emission(at=1.0, read=0.9, newest=0.8, received=1.01)
    second = emission(at=1.2, read=1.1, newest=1.0, received=1.21)
    # Served the first at 1.30 although a reader had the second since 1.21: the API was 90 ms behind. At 1.15 the
    # first was the newest there was.
    profile = Profile(emissions=[first, second], polls=[poll(1.15, first), poll(1.30, first)])
    behind = profile.stages()["3b API behind a newer emission a reader had"]
    assert behind["max_ms"] == pytest.approx(90.0, abs=0.1)
    assert behind["p50_ms"] == 0.0


def test_a_poll_of_an_emission_the_reader_never_had_is_left_out_so_the_stages_still_add_up() -> None:
    unseen = emission(at=0.5, read=0.4, newest=0.3, received=0.51)
    profile = Profile(emissions=[], polls=[poll(0.7, unseen)])
    stages = profile.stages()
    assert stages["freshness"] == {"count": 0}
    assert stages["2 engine computes (emitted_at - read_at)"] == {"count": 0}
    assert stages["_polls_matched"] == {"polls": 1, "matched": 0}


def test_figures_are_in_milliseconds_and_an_empty_stage_says_so() -> None:
    assert figures([]) == {"count": 0}
    row = figures([0.1, 0.2, 0.3])
    assert (row["count"], row["p50_ms"], row["max_ms"]) == (3, 200.0, 300.0)


def test_table_and_plot_show_every_measured_stage(tmp_path: Path) -> None:
    first = emission(at=1.10, read=1.00, newest=0.93, received=1.11)
    profile = Profile(source=[(0.05, 0.004)], emissions=[first], polls=[poll(1.30, first)])
    result = {"stages": profile.stages(), "game_rate": 20_000, "minutes": 1.0, "board": "b", "date": "d"}
    text = table(result)
    assert "engine computes" in text
    assert "producer" in text
    assert "_polls_matched" not in text
    assert "gap between emissions" not in text  # one emission: no gap, so no row
    png = tmp_path / "profile.png"
    plot(result, png)
    assert png.read_bytes().startswith(b"\x89PNG")


def test_a_records_event_time_or_none_for_a_record_without_one() -> None:
    assert event_time(b'{"event_id":"a","event_type":"score","event_time":"2026-12-06T23:00:00.123Z"}') == (
        "2026-12-06T23:00:00.123Z"
    )
    assert event_time(b'{"event_id":"a","event_time":1}') is None  # the demo's wrong_type records
    assert event_time(b"{not json") is None
    assert event_time(None) is None
