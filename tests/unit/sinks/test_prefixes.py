"""The prefix language against the examples of Firehose's "Custom Prefixes for Amazon S3 Objects" page.

The page evaluates its examples "at 10:30 AM UTC on Aug 27, 2018"; two of its rows show other dates
(``…/anyMonth/10`` for ``dd``, and ``month=07/day=06/hour=23`` for an hour-by-hour prefix), which contradict that
instant, so those rows are checked with the values the stated instant gives.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sinks.exceptions import PrefixError
from sinks.prefixes import KeyLayout, check_partition_value, format_instant, parse_date_pattern

AT = datetime(2018, 8, 27, 10, 30, tzinfo=UTC)
RANDOM = "5abf82daaa5"


def render(prefix: str, error_prefix: str | None) -> tuple[str, str]:
    layout = KeyLayout.from_prefixes(prefix, error_prefix)
    return layout.render_data(AT, RANDOM), layout.render_error(AT, RANDOM, "processing-failed")


def test_unspecified_prefix_gets_the_default_time_folders() -> None:
    assert render("", "myFirehoseFailures/!{firehose:error-output-type}/") == (
        "2018/08/27/10/",
        "myFirehoseFailures/processing-failed/",
    )


def test_error_prefix_cannot_be_null_when_the_prefix_has_expressions() -> None:
    with pytest.raises(PrefixError, match="can't be null"):
        KeyLayout.from_prefixes("!{timestamp:yyyy/MM/dd}", None)


def test_random_string_and_timestamps() -> None:
    assert render(
        "myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}",
        "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}",
    ) == (
        "myFirehose/DeliveredYear=2018/anyMonth/rand=5abf82daaa5",
        "myFirehoseFailures/processing-failed/2018/anyMonth/27",
    )


def test_hive_style_prefix() -> None:
    assert render(
        "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
        "myErrorPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
        "!{firehose:error-output-type}",
    ) == (
        "myPrefix/year=2018/month=08/day=27/hour=10/",
        "myErrorPrefix/year=2018/month=08/day=27/hour=10/processing-failed",
    )


def test_literal_prefix_without_error_prefix() -> None:
    assert render("myFirehosePrefix", None) == (
        "myFirehosePrefix/2018/08/27/10/",
        "myFirehosePrefix/processing-failed/2018/08/27/10/",
    )


def test_quoted_text_is_literal_and_every_timestamp_is_the_same_instant() -> None:
    assert render("dt=!{timestamp:yyyy'-'MM'-'dd}/h=!{timestamp:HH}/", "e/!{firehose:error-output-type}/")[0] == (
        "dt=2018-08-27/h=10/"
    )
    assert format_instant(parse_date_pattern("yyyy-MM-dd'T'HH:mm:ss.SSS 'o''clock' D E MMM a yy"), AT) == (
        "2018-08-27T10:30:00.000 o'clock 239 Mon Aug AM 18"
    )


def test_dynamic_partitioning_keys() -> None:
    layout = KeyLayout.from_prefixes(
        "events/dt=!{timestamp:yyyy-MM-dd}/country=!{partitionKeyFromQuery:country}/",
        "errors/!{firehose:error-output-type}/",
    )
    assert layout.partition_keys == ("country",)
    assert layout.render_data(AT, RANDOM, {"country": "DE"}) == "events/dt=2018-08-27/country=DE/"


def test_prefix_with_only_partition_keys_still_gets_time_folders() -> None:
    layout = KeyLayout.from_prefixes("c=!{partitionKeyFromQuery:country}", "e/!{firehose:error-output-type}")
    assert layout.render_data(AT, RANDOM, {"country": "FR"}) == "c=FR/2018/08/27/10/"


@pytest.mark.parametrize(
    ("prefix", "error_prefix", "message"),
    [
        ("a/!{firehose:error-output-type}/", "e/!{firehose:error-output-type}", "Prefix can't contain"),
        ("a/!{timestamp:yyyy}/", "e/!{timestamp:yyyy}/", "must contain !{firehose:error-output-type}"),
        ("a/!{timestamp:yyyy", "e/", "unterminated"),
        ("a/!{nope:x}/", "e/!{firehose:error-output-type}", "unknown namespace"),
        ("a/!{firehose:uuid}/", "e/!{firehose:error-output-type}", "unknown firehose value"),
        ("a/!{timestamp:yyyy-QQ}/", "e/!{firehose:error-output-type}", "unsupported letter"),
        ("a/!{partitionKeyFromLambda:x}/", "e/!{firehose:error-output-type}", "not supported"),
        ("a/!{partitionKeyFromQuery:a.b}/", "e/!{firehose:error-output-type}", "field name"),
        ("a/!{timestamp}/", "e/!{firehose:error-output-type}", "namespace:value"),
        ("a/", "e/!{partitionKeyFromQuery:x}/!{firehose:error-output-type}", "failed records have no key"),
    ],
)
def test_invalid_prefixes_are_refused_with_the_rule(prefix: str, error_prefix: str, message: str) -> None:
    with pytest.raises(PrefixError, match=message):
        KeyLayout.from_prefixes(prefix, error_prefix)


def test_evaluated_prefix_is_limited_to_512_characters() -> None:
    layout = KeyLayout.from_prefixes("!{partitionKeyFromQuery:k}/", "e/!{firehose:error-output-type}")
    with pytest.raises(PrefixError, match="512"):
        layout.render_data(AT, RANDOM, {"k": "x" * 600})


@pytest.mark.parametrize("value", [None, "a/b", "..", "", "tab\there", {"x": 1}, "../../etc"])
def test_unsafe_partition_values_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="partition key"):
        check_partition_value("k", value)


@pytest.mark.parametrize(("value", "text"), [("DE", "DE"), (7, "7"), (True, "true"), ("2026-11-27", "2026-11-27")])
def test_safe_partition_values(value: object, text: str) -> None:
    assert check_partition_value("k", value) == text
