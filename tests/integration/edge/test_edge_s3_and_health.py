"""S3 and health on the edge port, with unchanged clients: boto3 and the aws-cli configured only through the
environment (``AWS_ENDPOINT_URL``, dummy keys, a region), against the real MinIO behind the edge.

Multipart uploads, streamed downloads, presigned URLs and the aws-cli's ``s3 cp`` / ``s3 ls`` are the habits users
bring from LocalStack; MinIO's own APIs and root-level STS calls must stay out of reach."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from emulator.kinesis import KinesisSettings
from sinks import S3Connection
from tests.support.endpoints import Endpoints
from tests.support.kinesis_server import serve_kinesis

AWS_CLI = Path(sys.executable).parent / "aws"
EDGE_KEY, EDGE_SECRET = "AKIDEDGE", "edge-secret"
DUMMY = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def edge_url(endpoints: Endpoints) -> Iterator[str]:
    s3 = S3Connection(
        endpoint_url=endpoints.s3_endpoint,
        access_key_id=endpoints.s3_access_key,
        secret_access_key=endpoints.s3_secret_key,
        region=endpoints.s3_region,
    )
    with serve_kinesis(KinesisSettings(), endpoints.kafka_bootstrap, s3=s3) as url:
        yield url


@pytest.fixture
def aws_env(edge_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What ``eval "$(kemu services env)"`` gives a shell: the edge for every service, dummy keys, a region."""
    env = {**DUMMY, "AWS_ENDPOINT_URL": edge_url}
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    return env


def test_boto3_without_endpoint_url_puts_lists_and_streams_objects(
    aws_env: dict[str, str], bucket: str, bucket_prefix: str
) -> None:
    s3: Any = boto3.client("s3")  # no endpoint_url, no region, no keys: all from the environment
    key = f"{bucket_prefix}hello.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"hello edge")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=bucket_prefix)
    assert [o["Key"] for o in listed["Contents"]] == [key]
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    assert b"".join(body.iter_chunks(chunk_size=4)) == b"hello edge"
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 10
    # Keys with characters that SigV4 encodes must survive both signatures (the client's and the edge's).
    odd = f"{bucket_prefix}dir with space/ü+plus=eq&amp;~tilde.txt"
    s3.put_object(Bucket=bucket, Key=odd, Body=b"odd")
    assert s3.get_object(Bucket=bucket, Key=odd)["Body"].read() == b"odd"
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key}, {"Key": odd}]})
    assert s3.list_objects_v2(Bucket=bucket, Prefix=bucket_prefix)["KeyCount"] == 0


def test_boto3_multipart_upload_and_ranged_download(aws_env: dict[str, str], bucket: str, bucket_prefix: str) -> None:
    from boto3.s3.transfer import TransferConfig

    s3: Any = boto3.client("s3")
    data = os.urandom(17 * 1024 * 1024 + 123)  # four parts of 5 MiB and a remainder
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    key = f"{bucket_prefix}big.bin"
    import io

    s3.upload_fileobj(io.BytesIO(data), bucket, key, Config=config)
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-4")  # really a multipart object
    ranged = s3.get_object(Bucket=bucket, Key=key, Range="bytes=1000-1999")["Body"].read()
    assert ranged == data[1000:2000]
    out = io.BytesIO()
    s3.download_fileobj(bucket, key, out, Config=config)
    assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()
    s3.delete_object(Bucket=bucket, Key=key)


def test_presigned_urls_work_and_expire(aws_env: dict[str, str], bucket: str, bucket_prefix: str) -> None:
    s3: Any = boto3.client("s3")
    key = f"{bucket_prefix}shared.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"shared")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60)
    assert httpx.get(url).content == b"shared"
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key + ".2"}, ExpiresIn=60)
    assert httpx.put(put_url, content=b"via presigned put").status_code == 200
    assert s3.get_object(Bucket=bucket, Key=key + ".2")["Body"].read() == b"via presigned put"
    # boto3 presigns S3 with signature version 2 at a custom endpoint unless told otherwise: both must work.
    from botocore.config import Config

    v4: Any = boto3.client("s3", config=Config(signature_version="s3v4"))
    v4_url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60)
    assert "X-Amz-Signature=" in v4_url
    assert httpx.get(v4_url).content == b"shared"
    # An expired link stays expired: the store never sees the client's presign parameters.
    for expired in (
        v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=-10),
        s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=-10),
    ):
        answer = httpx.get(expired)
        assert answer.status_code == 403, expired
        assert b"Request has expired" in answer.content


def test_aws_cli_without_endpoint_or_region(
    aws_env: dict[str, str], bucket: str, bucket_prefix: str, tmp_path: Path
) -> None:
    env = {**os.environ, **aws_env}
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # above the aws-cli's 8 MiB multipart threshold

    def aws(*args: str) -> str:
        done = subprocess.run([str(AWS_CLI), *args], capture_output=True, text=True, env=env, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    aws("s3", "cp", str(big), f"s3://{bucket}/{bucket_prefix}big.bin")
    assert f"{bucket_prefix}big.bin" in aws("s3", "ls", f"s3://{bucket}/{bucket_prefix}", "--recursive")
    aws("s3", "cp", f"s3://{bucket}/{bucket_prefix}big.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()
    assert "StreamNames" in aws("kinesis", "list-streams")  # the same endpoint serves Kinesis
    aws("s3", "rm", f"s3://{bucket}/{bucket_prefix}", "--recursive")


def test_the_store_s_own_apis_are_not_reachable(edge_url: str) -> None:
    for path in ("/minio/admin/v3/info", "/minio/health/live", "//minio/admin/v3/info", "/%6Dinio/admin/v3/info"):
        answer = httpx.get(edge_url + path)
        assert answer.status_code == 403, path
        assert b"AccessDenied" in answer.content
    sts = httpx.post(edge_url + "/?Action=AssumeRole&Version=2011-06-15", headers={"authorization": _s3_scope()})
    assert sts.status_code == 403


def test_health_lists_the_services_and_their_state(edge_url: str) -> None:
    for path in ("/_kemu/health", "/_localstack/health"):
        answer = httpx.get(edge_url + path)
        assert answer.status_code == 200
        body = answer.json()
        assert body["services"] == {
            "kinesis": "running",
            "firehose": "running",
            "glue": "running",
            "athena": "running",
            "s3": "running",
        }
        assert body["edition"] == "kemu"


def test_with_signature_checks_only_the_endpoint_s_key_gets_through(
    endpoints: Endpoints, bucket: str, bucket_prefix: str
) -> None:
    s3 = S3Connection(
        endpoint_url=endpoints.s3_endpoint,
        access_key_id=endpoints.s3_access_key,
        secret_access_key=endpoints.s3_secret_key,
    )
    settings = KinesisSettings(verify_signatures=True, access_key_id=EDGE_KEY, secret_access_key=EDGE_SECRET)
    with serve_kinesis(settings, endpoints.kafka_bootstrap, s3=s3) as url:
        good: Any = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=EDGE_KEY,
            aws_secret_access_key=EDGE_SECRET,
        )
        good.put_object(Bucket=bucket, Key=f"{bucket_prefix}k", Body=b"checked")
        assert good.get_object(Bucket=bucket, Key=f"{bucket_prefix}k")["Body"].read() == b"checked"
        bad: Any = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=EDGE_KEY,
            aws_secret_access_key=EDGE_SECRET + "x",
        )
        from botocore.exceptions import ClientError

        with pytest.raises(ClientError) as refused:
            bad.get_object(Bucket=bucket, Key=f"{bucket_prefix}k")
        assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        assert httpx.get(f"{url}/{bucket}/{bucket_prefix}k").status_code == 403  # anonymous
        good.delete_object(Bucket=bucket, Key=f"{bucket_prefix}k")


def test_health_says_when_the_object_store_is_down(endpoints: Endpoints) -> None:
    dead = S3Connection(endpoint_url="http://127.0.0.1:9", access_key_id="x", secret_access_key=EDGE_SECRET)
    with serve_kinesis(KinesisSettings(), endpoints.kafka_bootstrap, s3=dead) as url:
        answer = httpx.get(url + "/_kemu/health")
        assert answer.status_code == 503
        assert answer.json()["services"]["s3"] == "error"
        failed = httpx.get(url + "/kemu/some-key")
        assert failed.status_code == 503
        assert b"does not answer" in failed.content


def _s3_scope() -> str:
    return (
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + "0" * 64
    )
