"""A crawl's report as JSON (what a crawler logs of each run): every member, in declared order, with its values."""

from __future__ import annotations

import json

from emulator.glue.crawl import CrawlReport


def test_to_json_has_every_member_in_order() -> None:
    report = CrawlReport(
        "s3://kemu/x/",
        table="x",
        created=True,
        objects=3,
        records=9,
        columns_added=["a"],
        columns_widened=["b"],
        partitions_added=[["2026-01-01", "0"]],
        partitions_total=4,
        left_out={"x/bad.parquet": "not Parquet"},
        conflicts=["c"],
    )
    document = report.to_json()
    assert list(document) == [
        "path",
        "table",
        "created",
        "objects",
        "records",
        "columns_added",
        "columns_widened",
        "partitions_added",
        "partitions_total",
        "left_out",
        "conflicts",
    ]
    assert document["partitions_added"] == [["2026-01-01", "0"]]
    assert document["left_out"] == {"x/bad.parquet": "not Parquet"}
    assert json.loads(json.dumps(document)) == document
