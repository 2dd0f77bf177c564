from __future__ import annotations

from datetime import timedelta

import httpx

from analytics.emissions import WindowResult, alert_records
from emulator.api import ResultsView
from emulator.api.models import AlertRecord, ResultRecord
from tests.support.results import T0, alert, iso, result


def feed(view: ResultsView, *records: dict[str, object]) -> None:
    for record in records:
        view.apply_result(ResultRecord.model_validate(record))


async def test_current_window_equals_the_emitted_result(view: ResultsView, client: httpx.AsyncClient) -> None:
    emitted = result("top-players", T0, {"p1": 30, "p2": 50, "p3": 10})
    feed(view, emitted)

    answer = (await client.get("/leaderboards/top-players")).json()

    assert answer["window_start"] == emitted["window_start"]
    assert answer["window_end"] == emitted["window_end"]
    assert answer["watermark"] == emitted["watermark"]
    assert answer["final"] is False
    assert [(e["rank"], e["key"], e["score"]) for e in answer["entries"]] == [
        (r["rank"], r["key"], r["score"]) for r in emitted["rows"]
    ]


async def test_a_later_emission_replaces_the_window_and_limit_cuts(
    view: ResultsView, client: httpx.AsyncClient
) -> None:
    feed(
        view,
        result("top", T0, {"a": 1, "b": 2}),
        result("top", T0, {"a": 9, "b": 2, "c": 5}, emitted_at=T0 + timedelta(seconds=40)),
    )
    answer = (await client.get("/leaderboards/top", params={"limit": 2})).json()
    assert answer["total_entries"] == 3
    assert [e["key"] for e in answer["entries"]] == ["a", "c"]


async def test_an_older_emission_does_not_overwrite_a_newer_one(view: ResultsView, client: httpx.AsyncClient) -> None:
    feed(view, result("top", T0, {"a": 9}, emitted_at=T0 + timedelta(seconds=50)))
    feed(view, result("top", T0, {"a": 1}, emitted_at=T0 + timedelta(seconds=40)))
    assert (await client.get("/leaderboards/top")).json()["entries"][0]["score"] == 9
    assert view.stats.results_stale == 1


async def test_current_last_and_instant_windows(view: ResultsView, client: httpx.AsyncClient) -> None:
    t1, t2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    feed(view, result("top", T0, {"a": 1}, final=True), result("top", t1, {"b": 2}), result("top", t2, {"c": 3}))

    async def start_of(window: str) -> str:
        response = await client.get("/leaderboards/top", params={"window": window})
        assert response.status_code == 200, response.text
        return str(response.json()["window_start"])

    assert await start_of("current") == iso(t2)
    assert await start_of("last") == iso(T0)  # the newest final one, not merely the previous one
    assert await start_of(iso(t1 + timedelta(seconds=59))) == iso(t1)
    assert await start_of("2026-11-27T08:00:00+00:00") == iso(T0)
    missing = await client.get("/leaderboards/top", params={"window": "2026-11-27T07:00:00Z"})
    assert missing.status_code == 404
    assert "no kept window" in missing.json()["detail"]


async def test_last_without_final_is_the_one_before_current(view: ResultsView, client: httpx.AsyncClient) -> None:
    feed(view, result("top", T0, {"a": 1}))
    assert (await client.get("/leaderboards/top", params={"window": "last"})).status_code == 404
    feed(view, result("top", T0 + timedelta(minutes=1), {"a": 2}))
    answer = (await client.get("/leaderboards/top", params={"window": "last"})).json()
    assert answer["window_start"] == iso(T0)


async def test_list_summarises_each_board(view: ResultsView, client: httpx.AsyncClient) -> None:
    feed(
        view,
        result("b-board", T0, {"x": 1}),
        result("a-board", T0, {"y": 1}),
        result("a-board", T0 + timedelta(minutes=1), {"y": 2}),
    )
    boards = (await client.get("/leaderboards")).json()["leaderboards"]
    assert [(b["name"], b["windows"]) for b in boards] == [("a-board", 2), ("b-board", 1)]
    assert boards[0]["current_window_start"] == iso(T0 + timedelta(minutes=1))


async def test_windows_beyond_capacity_leave_memory(view: ResultsView, client: httpx.AsyncClient) -> None:
    feed(view, *(result("top", T0 + timedelta(minutes=i), {"a": i}) for i in range(20)))
    board = view.board("top")
    assert board is not None
    assert len(board) == 8
    old = await client.get("/leaderboards/top", params={"window": iso(T0)})
    assert old.status_code == 404


async def test_non_leaderboard_results_are_counted_not_served(view: ResultsView, client: httpx.AsyncClient) -> None:
    record = result("etl", T0, {})
    record["rows"] = [{"country": "FR", "views": 3}]
    feed(view, record)
    assert (await client.get("/leaderboards/etl")).status_code == 404
    assert view.stats.results_not_leaderboard == 1


async def test_unknown_names_are_404_and_bad_parameters_422(view: ResultsView, client: httpx.AsyncClient) -> None:
    feed(view, result("top", T0, {"a": 1}))
    unknown = await client.get("/leaderboards/nope")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "no leaderboard named 'nope'; GET /leaderboards lists them"}
    bad_name = await client.get("/leaderboards/bad%20name")
    assert bad_name.status_code == 422
    assert bad_name.json()["detail"][0]["loc"] == ["path", "name"]
    bad_window = await client.get("/leaderboards/top", params={"window": "yesterday"})
    assert bad_window.status_code == 422
    assert bad_window.json()["detail"][0]["loc"] == ["query", "window"]
    bad_limit = await client.get("/leaderboards/top", params={"limit": 0})
    assert bad_limit.status_code == 422


async def test_alerts_newest_first_since_and_limit(view: ResultsView, client: httpx.AsyncClient) -> None:
    for i in range(5):
        view.apply_alert(AlertRecord.model_validate(alert("hot", f"dev-{i}", T0 + timedelta(minutes=i))))
    view.apply_alert(AlertRecord.model_validate(alert("hot", "dev-4", T0 + timedelta(minutes=4))))  # duplicate id
    listed = (await client.get("/alerts")).json()["alerts"]
    assert [a["key"] for a in listed] == ["dev-4", "dev-3", "dev-2", "dev-1", "dev-0"]
    since = iso(T0 + timedelta(minutes=3, seconds=5))  # dev-2 was emitted at exactly this instant
    recent = (await client.get("/alerts", params={"since": since, "limit": 10})).json()["alerts"]
    assert [a["key"] for a in recent] == ["dev-4", "dev-3"]
    assert len((await client.get("/alerts", params={"limit": 2})).json()["alerts"]) == 2
    assert (await client.get("/alerts", params={"since": "not a time"})).status_code == 422


async def test_health_ready_streams_and_metrics_without_services(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["kafka"]["ok"] is False
    assert (await client.get("/streams")).json() == {"kafka_reachable": False, "as_of": None, "streams": []}


async def test_metrics_exposes_the_pipeline_families(view: ResultsView, client: httpx.AsyncClient) -> None:
    feed(view, result("top", T0, {"a": 1}))
    view.record_invalid()
    text = (await client.get("/metrics")).text
    assert "kemu_api_results_applied_total 1.0" in text
    assert "kemu_api_invalid_records_total 1.0" in text
    for family in (
        "kemu_events_in",
        "kemu_events_out",
        "kemu_late_events",
        "kemu_errors",
        "kemu_sink_objects",
        "kemu_sink_bytes",
        "kemu_consumer_lag",
        "kemu_component_restarts",
    ):
        assert f"# TYPE {family}" in text, family


async def test_page_and_docs_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert "EventSource" in (await client.get("/static/app.js")).text
    assert "/static/app.js" in page.text
    assert (await client.get("/docs")).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    assert {
        "/leaderboards",
        "/leaderboards/{name}",
        "/leaderboards/{name}/stream",
        "/alerts",
        "/alerts/stream",
        "/streams",
        "/healthz",
        "/readyz",
        "/metrics",
    } <= schema["paths"].keys()


async def test_fast_path_answers_exactly_what_the_route_answers(view: ResultsView, client: httpx.AsyncClient) -> None:
    """An extra parameter sends a request through FastAPI's route; the plain one is served by the fast path."""
    feed(view, result("top", T0, {"a": 1, "b": 2}, final=True), result("top", T0 + timedelta(minutes=1), {"c": 3}))
    for query in ("", "?limit=1", "?window=last", "?window=current&limit=1000", "?limit=1&window=last"):
        fast = await client.get(f"/leaderboards/top{query}")
        routed = await client.get(f"/leaderboards/top{query}{'&' if query else '?'}via=route")
        assert fast.status_code == routed.status_code == 200
        assert fast.content == routed.content
        assert fast.headers["content-type"] == routed.headers["content-type"] == "application/json"
    for bad in ("?limit=0", "?limit=1001", "?limit=-1", "?window=nope", "?limit=x"):
        assert (await client.get(f"/leaderboards/top{bad}")).status_code == 422, bad


async def test_an_alert_without_a_key_is_served_with_a_null_key(view: ResultsView, client: httpx.AsyncClient) -> None:
    # The engine's own record for a row whose key is NULL (a record without a device, say): null, never "None".
    start_ms = int(T0.timestamp() * 1000)
    emitted = WindowResult("silent", start_ms, start_ms + 60_000, True, start_ms + 60_000, [{"key": None, "n": 3}])
    ((_, value),) = alert_records(emitted, start_ms + 60_000)
    view.apply_alert(AlertRecord.model_validate_json(value))
    (served,) = (await client.get("/alerts")).json()["alerts"]
    assert served["key"] is None
    assert served["message"] == "silent fired"
    assert served["evidence"] == {"key": None, "n": 3}
