"""`docker compose up` as a user runs it: the README's demo, built from the Dockerfile, checked through its
published ports, restarted with its data, and removed with `down -v`."""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
import httpx
import pytest

from tests.docker.support import ComposeProject, compose_project, run
from tests.support.kinesis_server import wait_active
from tests.support.s3 import s3_client

T = TypeVar("T")
PASSWORD = secrets.token_urlsafe(18)


def eventually(check: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """Poll ``check`` until it returns a value; the bound is a failure message, not a speed requirement."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value is not None:
                return value
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        time.sleep(3)
    raise AssertionError(f"{what}: nothing within {timeout_s:.0f} s (last error: {last})")


@pytest.fixture(scope="module")
def project() -> Iterator[ComposeProject]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEMU_", "AWS_", "MINIO_"))}
    with compose_project(env, PASSWORD) as started:
        started("up", "-d", "--build", timeout_s=1500)
        started.wait_healthy("app", timeout_s=300)
        yield started


def kinesis_client(project: ComposeProject) -> Any:
    return boto3.client(
        "kinesis",
        endpoint_url=f"http://127.0.0.1:{project.ports['kinesis']}",
        region_name="us-east-1",
        aws_access_key_id="any",
        aws_secret_access_key="any",  # noqa: S106 - the emulator accepts any key
    )


def minio(project: ComposeProject) -> Any:
    return s3_client(f"http://127.0.0.1:{project.ports['minio']}", "kemu-e2e", PASSWORD)


def test_the_live_page_and_health_answer(project: ComposeProject) -> None:
    api = f"http://127.0.0.1:{project.ports['api']}"
    page = httpx.get(f"{api}/", timeout=10)
    assert page.status_code == 200
    assert "<html" in page.text.lower()
    assert httpx.get(f"{api}/readyz", timeout=10).json()["ready"] is True


def test_a_leaderboard_fills_from_the_real_pipeline(project: ComposeProject) -> None:
    api = f"http://127.0.0.1:{project.ports['api']}"

    def filled() -> dict[str, Any] | None:
        for board in httpx.get(f"{api}/leaderboards", timeout=10).json()["leaderboards"]:
            window = httpx.get(f"{api}/leaderboards/{board['name']}", timeout=10).json()
            if window["entries"]:
                return dict(window)
        return None

    window = eventually(filled, 300, "a leaderboard with entries")
    assert window["total_entries"] >= len(window["entries"]) > 0
    assert all(entry["player_id"].startswith("player-") for entry in window["entries"] if "player_id" in entry)


def test_boto3_round_trips_a_record_through_the_kinesis_port(project: ComposeProject) -> None:
    kinesis = kinesis_client(project)
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    wait_active(kinesis, name)
    put = kinesis.put_record(StreamName=name, Data=b'{"id": 1}', PartitionKey="customer-7")
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [(r["Data"], r["PartitionKey"], r["SequenceNumber"]) for r in records] == [
        (b'{"id": 1}', "customer-7", put["SequenceNumber"])
    ]


def test_parquet_objects_land_in_minio(project: ComposeProject) -> None:
    s3 = minio(project)

    def parquet() -> list[str] | None:
        listed = s3.list_objects_v2(Bucket="kemu", Prefix="firehose/")
        keys = [o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".parquet")]
        return keys or None

    keys = eventually(parquet, 300, "Parquet objects under s3://kemu/firehose/")
    body = s3.get_object(Bucket="kemu", Key=keys[0])["Body"].read()
    assert body[:4] == b"PAR1"
    assert body[-4:] == b"PAR1"


def test_the_installed_package_runs_from_another_directory_in_the_app_container(project: ComposeProject) -> None:
    app = project.container("app")
    listed = run(["docker", "exec", "-w", "/", app, "kemu", "analytics", "list"], 120, project.env)
    assert listed.returncode == 0, listed.stderr
    assert "leaderboard_1m" in listed.stdout
    where = run(
        ["docker", "exec", app, "python", "-c", "import analytics; print(*analytics.__path__)"], 60, project.env
    )
    assert "site-packages" in where.stdout, where.stdout + where.stderr
    cwd = run(["docker", "exec", app, "pwd"], 30, project.env).stdout.strip()
    assert cwd == "/home/kemu"


def test_down_and_up_keep_the_data_and_down_v_removes_it(project: ComposeProject) -> None:
    kinesis = kinesis_client(project)
    name = f"kept-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    wait_active(kinesis, name)
    kinesis.put_record(StreamName=name, Data=b"kept", PartitionKey="k")
    s3 = minio(project)
    s3.put_object(Bucket="kemu", Key="e2e/kept.txt", Body=b"kept")
    assert len(project.volumes()) == 3

    project("down", "--timeout", "30")
    project("up", "-d", timeout_s=600)
    project.wait_healthy("app", timeout_s=300)

    kinesis = kinesis_client(project)
    assert name in kinesis.list_streams(Limit=10_000)["StreamNames"]
    shard = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]] == [b"kept"]
    assert minio(project).get_object(Bucket="kemu", Key="e2e/kept.txt")["Body"].read() == b"kept"

    project("down", "-v", "--timeout", "30")
    assert project.volumes() == []
