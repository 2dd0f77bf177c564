"""The shipped queries load, and do what their headers say on small generated streams (driven by replay)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from analytics import load_queries, replay, replay_outcomes
from analytics.plan import CompiledQuery
from tests.unit.analytics.support import BASE_MS, iso


@pytest.fixture(scope="module")
def catalog() -> dict[str, CompiledQuery]:
    return load_queries()


def records(query: CompiledQuery, events: list[dict[str, Any]], tmp_path: Path) -> list[tuple[str, Any, Any]]:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    out = []
    for _, produced in replay_outcomes(query, path, batch_size=50):
        out += [(topic, key, orjson.loads(value)) for topic, key, value in produced]
    return out


BUILTIN_NAMES = {
    "leaderboard_1m",
    "leaderboard_rolling_10m",
    "iot_hot_devices",
    "iot_silent_devices",
    "clickstream_error_spike",
    "clickstream_clean",
    "page_metrics_1m",
}


def test_every_builtin_query_loads(catalog: dict[str, CompiledQuery]) -> None:
    assert set(catalog) >= BUILTIN_NAMES


def test_hot_device_alert_carries_its_evidence(catalog: dict[str, CompiledQuery], tmp_path: Path) -> None:
    events = []
    for i in range(60):
        for device, temperature in (("hot", 50.0 + i % 3), ("cool", 20.0)):
            events.append(
                {"event_id": f"{device}{i}", "event_type": "reading", "event_time": iso(BASE_MS + i * 1000),
                 "device_id": device, "temperature": temperature, "site": "s1"}
            )  # fmt: skip
    alerts = [v for topic, _, v in records(catalog["iot_hot_devices"], events, tmp_path) if topic == "analytics-alerts"]
    assert {a["key"] for a in alerts} == {"hot"}
    assert len(alerts) == 2  # two 30-second windows
    assert all(a["evidence"]["avg_temperature"] > 45 and a["evidence"]["readings"] == 30 for a in alerts)
    assert len({a["alert_id"] for a in alerts}) == 2


def test_silent_device_alert(catalog: dict[str, CompiledQuery], tmp_path: Path) -> None:
    quiet = {"event_id": "q", "event_type": "heartbeat", "event_time": iso(BASE_MS + 5000), "device_id": "quiet"}
    events = [
        {"event_id": f"a{i}", "event_type": "heartbeat", "event_time": iso(BASE_MS + i * 1000), "device_id": "chatty"}
        for i in range(120)
    ]
    events.insert(6, quiet)
    alerts = [v for t, _, v in records(catalog["iot_silent_devices"], events, tmp_path) if t == "analytics-alerts"]
    assert [a["key"] for a in alerts] == ["quiet"]


def test_error_spike_alert(catalog: dict[str, CompiledQuery], tmp_path: Path) -> None:
    events = [
        {"event_id": f"c{i}", "event_type": "error" if i % 10 == 0 and i < 600 else "page_view",
         "event_time": iso(BASE_MS + i * 100), "user_id": "u", "url": "https://shop.example/p"}
        for i in range(1200)
    ]  # fmt: skip
    alerts = [v for t, _, v in records(catalog["clickstream_error_spike"], events, tmp_path) if t == "analytics-alerts"]
    assert len(alerts) == 1
    assert alerts[0]["evidence"]["errors"] == 60
    assert alerts[0]["severity"] == "critical"


def test_clickstream_etl_cleans_enriches_and_rejects(catalog: dict[str, CompiledQuery], tmp_path: Path) -> None:
    good = {
        "event_id": "1", "event_type": "page_view", "event_time": iso(BASE_MS), "user_id": "u1", "session_id": None,
        "url": "https://Shop.example/products/42?ref=mail", "device": "Mozilla/5.0 (iPhone; Mobile)", "country": "de",
    }  # fmt: skip
    bad_url = dict(good, event_id="2", url="not a url")
    out = records(catalog["clickstream_clean"], [good, bad_url], tmp_path)
    (clean,) = [v for t, _, v in out if t == "clickstream-clean"]
    assert clean["url_host"] == "shop.example"
    assert clean["url_path"] == "/products/42"
    assert clean["url_query"] == "ref=mail"
    assert clean["device_class"] == "mobile"
    assert clean["country"] == "DE"
    assert clean["session_id"].startswith("u1-")
    (error,) = [v for t, _, v in out if t == "analytics-errors"]
    assert error["reason"] == "malformed url"


def test_page_metrics(catalog: dict[str, CompiledQuery], tmp_path: Path) -> None:
    events = [
        {"event_id": f"v{i}", "event_type": "page_view" if i % 4 else "purchase", "event_time": iso(BASE_MS + i),
         "user_id": "u", "url": f"https://shop.example/p{i % 2}?x=1", "price": 10.0}
        for i in range(40)
    ]  # fmt: skip
    out = [v for t, _, v in records(catalog["page_metrics_1m"], events, tmp_path) if t == "analytics-results"]
    rows = {r["page"]: r for r in out[-1]["rows"]}
    assert rows["/p0"]["page_views"] == 10
    assert rows["/p0"]["purchases"] == 10
    assert rows["/p1"]["purchases"] == 0
    assert rows["/p0"]["revenue"] == 100.0


def test_replay_is_deterministic(catalog: dict[str, CompiledQuery], tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_bytes(
        b"".join(
            orjson.dumps({"event_id": str(i), "event_type": "score", "event_time": iso(BASE_MS + i * 37 - i % 5 * 300),
                          "player_id": f"p{i % 13}", "points": i % 17}) + b"\n"
            for i in range(3000)
        )
    )  # fmt: skip
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    replay(catalog["leaderboard_1m"], events, first)
    replay(catalog["leaderboard_1m"], events, second)
    assert first.read_bytes() == second.read_bytes()
    assert b'"final":true' in first.read_bytes()


def recording(kind: str, tmp_path: Path) -> Path:
    from producers import GeneratorConfig, RealismConfig, RecordSource, StreamKind, make_generator

    stream = StreamKind(kind)
    generator = make_generator(GeneratorConfig(kind=stream, seed=11, start_time_ms=BASE_MS, events_per_second=200))
    source = RecordSource(generator, RealismConfig(malformed_ratio=0.01, oversized_bytes=2048), 11)
    path = tmp_path / f"{kind}.jsonl"
    path.write_bytes(b"".join(value + b"\n" for _, value in [*source.next_records(6000), *source.drain()]))
    return path


def final_rows(output: bytes) -> list[bytes]:
    """What a replay found, without what follows the batch size: when a result was emitted, and the order of
    records that are emitted per micro-batch (a batch's errors and alerts come together)."""
    found = []
    for line in output.splitlines():
        record = orjson.loads(line)
        value = record["value"]
        if record["topic"] == "analytics-results" and value["final"]:
            found.append(orjson.dumps([value["window_start"], value["rows"]]))
        elif record["topic"] != "analytics-results":
            kept = {k: v for k, v in value.items() if k != "emitted_at"}
            found.append(orjson.dumps([record["topic"], kept], option=orjson.OPT_SORT_KEYS))
    return sorted(found)


@pytest.mark.parametrize("name", sorted(BUILTIN_NAMES))
def test_every_builtin_query_replays_byte_identically(
    catalog: dict[str, CompiledQuery], tmp_path: Path, name: str
) -> None:
    query = catalog[name]
    kind = {"game-events": "game", "iot-telemetry": "iot", "clickstream": "clickstream"}[query.source.name]
    events = recording(kind, tmp_path)
    outputs = []
    for run, batch_size in enumerate((700, 700, 2500)):
        out = tmp_path / f"out-{run}.jsonl"
        replay(query, events, out, batch_size)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    # Events in time order: nothing is late whatever the batches, so what was found is the same.
    assert final_rows(outputs[2]) == final_rows(outputs[0])
    assert final_rows(outputs[0])
