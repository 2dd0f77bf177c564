"""The Firehose benchmark still runs: a tiny run, checking the shape of its JSON only (never a speed)."""

from __future__ import annotations

from tests.support.bench import run_benchmark
from tests.support.endpoints import Endpoints


async def test_firehose_benchmark_prints_its_json(endpoints: Endpoints) -> None:
    result = await run_benchmark("firehose_put.py", "--records", "1000", env=endpoints.settings_env())
    assert result["benchmark"] == "firehose_put"
    assert result["records"] == 1000
    assert set(result["kinesis_put_records"]) == {"seconds", "records_per_s"}
    assert set(result["firehose_put_record_batch"]) == {"seconds", "records_per_s"}
    assert "ratio_to_kinesis" in result
    assert result["delivery"]["rows"] == 1000
    assert result["delivery"]["exactly_once"] is True
