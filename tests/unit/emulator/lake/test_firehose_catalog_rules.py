"""Pure rules of Firehose on the catalog: the table a tag names, a prefix's location, the Glue types a delivery
stream writes, and which partition an object registers in."""

from __future__ import annotations

import pytest

from emulator.firehose.lake import CatalogUnavailable, TableRef, location_prefix, registration_target
from emulator.glue.crawl_rules import partition_layout, partition_of
from emulator.lake.types import sink_type

pytestmark = pytest.mark.unit


def test_the_tag_names_a_table_in_lower_case() -> None:
    assert registration_target({"kemu:catalog-table": "Lake.Events_1"}) == TableRef("lake", "events_1")
    assert registration_target({"other": "x"}) is None


@pytest.mark.parametrize("value", ["events", "a.b.c", ".t", "db.", "db.t; drop", "db/x.t", ""])
def test_a_tag_that_names_no_table_is_refused_with_the_form_it_needs(value: str) -> None:
    with pytest.raises(CatalogUnavailable, match=r"DATABASE\.TABLE"):
        registration_target({"kemu:catalog-table": value})


@pytest.mark.parametrize(
    ("prefix", "location"),
    [
        ("", ""),
        ("events", "events/"),
        ("events/", "events/"),
        ("lake/dt=!{timestamp:yyyy-MM-dd}/", "lake/"),
        ("lake/x!{timestamp:yyyy}/", "lake/"),
        ("!{partitionKeyFromQuery:k}/", ""),
    ],
)
def test_the_location_is_the_prefix_up_to_its_first_expression(prefix: str, location: str) -> None:
    assert location_prefix(prefix) == location


@pytest.mark.parametrize(
    ("glue", "sink"),
    [
        ("string", "string"),
        ("VARCHAR(20)", "string"),
        ("int", "bigint"),
        ("float", "double"),
        ("timestamp", "timestamp"),
    ],
)
def test_glue_types_the_sink_writes(glue: str, sink: str) -> None:
    assert sink_type(glue) == sink


@pytest.mark.parametrize(
    "glue", ["date", "decimal(10,2)", "binary", "array<string>", "struct<a:int>", "map<string,int>"]
)
def test_glue_types_the_sink_cannot_write_from_json(glue: str) -> None:
    assert sink_type(glue) is None


def test_an_object_registers_in_the_partition_the_crawler_would_give_it() -> None:
    keys = ["kind=a/2026/01/02/03/x.parquet", "kind=b/2026/01/02/04/y.parquet"]
    layout = partition_layout(keys)
    assert layout.keys == ["kind", "partition_1", "partition_2", "partition_3", "partition_4"]
    for key in keys:
        assert partition_of(key, layout.keys) == layout.values[key]


@pytest.mark.parametrize(
    "key",
    ["2026/01/02/x.parquet", "kind=a/2026/01/02/03/04/x.parquet", "other=a/2026/01/02/03/x.parquet"],
)
def test_an_object_that_does_not_fit_the_keys_has_no_partition(key: str) -> None:
    assert partition_of(key, ["kind", "partition_1", "partition_2", "partition_3", "partition_4"]) is None


def test_sink_settings_name_a_table_per_configured_stream() -> None:
    from emulator.config.sinks import SinksSettings

    settings = SinksSettings(catalog_tables={"game-events-to-s3": "Kemu.Game_Events"})
    assert settings.catalog_table("game-events-to-s3") == "Kemu.Game_Events"
    assert TableRef.parse("Kemu.Game_Events") == TableRef("kemu", "game_events")
    assert settings.catalog_table("clickstream-to-s3") is None


@pytest.mark.parametrize(
    ("tables", "message"),
    [({"nope": "kemu.t"}, "not a delivery stream"), ({"game-events-to-s3": "kemu"}, r"DATABASE\.TABLE")],
)
def test_sink_settings_refuse_a_table_they_cannot_use(tables: dict[str, str], message: str) -> None:
    from pydantic import ValidationError

    from emulator.config.sinks import SinksSettings

    with pytest.raises(ValidationError, match=message):
        SinksSettings(catalog_tables=tables)
