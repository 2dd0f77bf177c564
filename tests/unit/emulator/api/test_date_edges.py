"""Instants at the edges of the calendar in ``/alerts?since=`` and ``/leaderboards/{name}?window=``: every valid
RFC 3339 instant is answered, every invalid one is a 422 that says what was wrong; never a 500.

``0001-01-01T00:00:00+23:59`` is a valid instant whose UTC form is in year 0, which Python cannot hold
(``OverflowError: date value out of range`` became a 500); so is ``9999-12-31T23:59:59-23:59`` in year 10000.
The date-time strategy below is registered with schemathesis for the whole session: what the schema calls a
date-time, the API must take.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from emulator.api import ResultsView, create_app
from emulator.api.models import AlertRecord, ResultRecord
from tests.support.results import T0, alert, result

#: Valid RFC 3339 instants at the ends of the calendar, in UTC and beyond it.
VALID_EDGES = [
    "0001-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00+00:01",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00-23:59",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59-00:01",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:60Z",
    "9999-12-31T23:59:59+23:59",
]
#: Strings shaped like instants that name none.
INVALID = ["2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T08:00:00+24:00"]


def _rfc3339(moment: dt.datetime, offset_minutes: int, fraction: bool) -> str:
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    zone = "Z" if offset_minutes == 0 and not fraction else f"{sign}{hours:02d}:{minutes:02d}"
    text = moment.replace(microsecond=0).isoformat()
    return f"{text}{f'.{moment.microsecond:06d}' if fraction else ''}{zone}"


#: RFC 3339 date-times over the whole calendar and every offset a string can hold, the edges above included.
DATE_TIMES = st.one_of(
    st.sampled_from(VALID_EDGES),
    st.builds(
        _rfc3339,
        st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)),
        st.integers(-(23 * 60 + 59), 23 * 60 + 59),
        st.booleans(),
    ),
)
schemathesis.openapi.format("date-time", DATE_TIMES)


def injected_view() -> ResultsView:
    view = ResultsView(windows_per_board=8, alerts_capacity=50)
    for minute in range(3):
        start = T0 + timedelta(minutes=minute)
        view.apply_result(ResultRecord.model_validate(result("top-players", start, {"p1": minute}, final=minute < 2)))
        view.apply_alert(AlertRecord.model_validate(alert("overheating", f"dev-{minute}", start)))
    return view


@pytest.fixture
def view() -> ResultsView:
    """The view the conftest's app (and ``client``) serve."""
    return injected_view()


@pytest.mark.parametrize("instant", VALID_EDGES)
async def test_valid_edge_instants_are_answered(client: httpx.AsyncClient, instant: str) -> None:
    alerts = await client.get("/alerts", params={"since": instant})
    board = await client.get("/leaderboards/top-players", params={"window": instant})
    assert alerts.status_code == 200, alerts.text
    # Every alert is after an instant in year 1 or 0, none after one in 9999 or 10000.
    assert len(alerts.json()["alerts"]) == (3 if instant.startswith("000") else 0)
    assert board.status_code == 404, board.text  # no window of 2026 holds it


@pytest.mark.parametrize("instant", INVALID)
async def test_invalid_instants_are_422_naming_the_parameter(client: httpx.AsyncClient, instant: str) -> None:
    for path, parameter in (("/alerts", "since"), ("/leaderboards/top-players", "window")):
        response = await client.get(path, params={parameter: instant})
        assert response.status_code == 422, response.text
        [detail] = response.json()["detail"]
        assert (detail["loc"], detail["input"]) == (["query", parameter], instant)


schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(view=injected_view())).include(
    path_regex="^/(alerts|leaderboards/\\{name\\})$", method="GET"
)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_dates_never_cause_a_server_error(case: schemathesis.Case) -> None:
    if case.path_parameters is not None and "name" in case.path_parameters:
        case.path_parameters["name"] = "top-players"  # a board that exists, so `window` is read
    response = case.call()
    assert response.status_code < 500, (case.query, response.text)
