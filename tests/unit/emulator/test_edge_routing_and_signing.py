"""The edge's pure parts: which service a request is for, and SigV4 for S3, checked against botocore's own signer
as the oracle (what boto3 signs, the edge must verify; what the edge signs, botocore's verifier logic must agree)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.edge.routing import Route, route_of
from emulator.edge.s3_proxy import refused_path, virtual_host_bucket
from emulator.edge.s3_signing import (
    SignatureMismatch,
    canonical_query,
    canonical_uri,
    presign_expired,
    sign_for_store,
    strip_query,
    verify_client,
)

S3_AUTH = "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + "0" * 64
KINESIS_AUTH = S3_AUTH.replace("/s3/", "/kinesis/")


@pytest.mark.parametrize(
    ("method", "path", "headers", "query", "route"),
    [
        ("GET", "/_kemu/health", {}, "", Route.HEALTH),
        ("GET", "/_localstack/health", {}, "", Route.HEALTH),
        ("POST", "/", {"x-amz-target": "Kinesis_20131202.ListStreams"}, "", Route.AWS_JSON),
        ("POST", "/", {"x-amz-target": "Firehose_20150804.ListDeliveryStreams"}, "", Route.AWS_JSON),
        ("POST", "/", {}, "", Route.AWS_JSON),  # junk at the JSON endpoint keeps its JSON error
        ("POST", "/", {"authorization": KINESIS_AUTH}, "", Route.AWS_JSON),
        ("GET", "/", {"authorization": S3_AUTH}, "", Route.S3),  # ListBuckets
        ("POST", "/bucket", {"authorization": S3_AUTH}, "delete", Route.S3),  # DeleteObjects
        ("PUT", "/bucket/key", {}, "", Route.S3),
        ("GET", "/bucket/key", {}, "X-Amz-Credential=k%2F20260101%2Fus-east-1%2Fs3%2Faws4_request", Route.S3),
        ("GET", "/bucket/key", {}, "X-Amz-Credential=k%2F20260101%2Fus-east-1%2Fsts%2Faws4_request", Route.AWS_JSON),
        # A browser SDK's preflight names the X-Amz-Target header it will send; S3's preflights do not.
        ("OPTIONS", "/", {"access-control-request-headers": "content-type,X-Amz-Target"}, "", Route.AWS_JSON),
        ("OPTIONS", "/bucket/key", {"access-control-request-headers": "content-type"}, "", Route.S3),
    ],
)
def test_routes(method: str, path: str, headers: dict[str, str], query: str, route: Route) -> None:
    assert route_of(method, path, headers, query) is route


def test_canonical_forms_follow_s3_rules() -> None:
    assert (
        canonical_uri("/b/dir%20with%20space/%C3%BC+plus=eq&~t.txt")
        == "/b/dir%20with%20space/%C3%BC%2Bplus%3Deq%26~t.txt"
    )
    assert canonical_uri("/b/a//b/../c") == "/b/a//b/../c"  # S3 keys are not normalised
    assert canonical_query("uploads") == "uploads="
    assert canonical_query("prefix=a+b&list-type=2&delimiter=%2F") == "delimiter=%2F&list-type=2&prefix=a%20b"
    assert strip_query("a=1&X-Amz-Signature=x&b=%2F", ["X-Amz-Signature"]) == "a=1&b=%2F"


def _botocore_signed(url: str) -> AWSRequest:
    request = AWSRequest(method="PUT", url=url, data=b"data", headers={"Content-Type": "text/plain"})
    S3SigV4Auth(Credentials("AKID", "SECRET"), "s3", "eu-west-1").add_auth(request)
    return request


def _lower(request: AWSRequest) -> list[tuple[str, str]]:
    parts = urlsplit(request.url)
    return [("host", parts.netloc)] + [(k.lower(), v) for k, v in request.headers.items()]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:4566/bucket/plain.txt",
        "http://127.0.0.1:4566/bucket/dir%20with%20space/%C3%BC%2Bplus%3Deq%26~t.txt",
        "http://127.0.0.1:4566/bucket/key?partNumber=2&uploadId=abc%2Fdef",
    ],
)
def test_what_botocore_signs_the_edge_verifies(url: str) -> None:
    request = _botocore_signed(url)
    parts = urlsplit(request.url)
    now = datetime.now(UTC)
    verify_client("PUT", parts.path, parts.query, _lower(request), "AKID", "SECRET", now)
    with pytest.raises(SignatureMismatch) as wrong_secret:
        verify_client("PUT", parts.path, parts.query, _lower(request), "AKID", "OTHER", now)
    assert wrong_secret.value.code == "SignatureDoesNotMatch"
    with pytest.raises(SignatureMismatch) as wrong_key:
        verify_client("PUT", parts.path, parts.query, _lower(request), "SOMEONE", "SECRET", now)
    assert wrong_key.value.code == "InvalidAccessKeyId"
    with pytest.raises(SignatureMismatch) as replayed:  # a signed request kept and sent again an hour later
        verify_client("PUT", parts.path, parts.query, _lower(request), "AKID", "SECRET", now + timedelta(hours=1))
    assert replayed.value.code == "RequestTimeTooSkewed"
    tampered = [(k, "text/html" if k == "content-type" else v) for k, v in _lower(request)]
    with pytest.raises(SignatureMismatch):
        verify_client("PUT", parts.path, parts.query, tampered, "AKID", "SECRET", now)


def test_presigned_urls_verify_and_expire() -> None:
    request = AWSRequest(method="GET", url="http://127.0.0.1:4566/bucket/a%20b.txt")
    S3SigV4QueryAuth(Credentials("AKID", "SECRET"), "s3", "us-east-1", expires=60).add_auth(request)
    parts = urlsplit(request.url)
    headers = [("host", parts.netloc)]
    now = datetime.now(UTC)
    verify_client("GET", parts.path, parts.query, headers, "AKID", "SECRET", now)
    assert not presign_expired(parts.query, now)
    later = now + timedelta(seconds=120)
    assert presign_expired(parts.query, later)
    with pytest.raises(SignatureMismatch, match="expired"):
        verify_client("GET", parts.path, parts.query, headers, "AKID", "SECRET", later)


def test_what_the_edge_signs_botocore_would_sign_the_same() -> None:
    """The edge's signature for the store equals botocore's for the same canonical request: the store, which follows
    the same rules, accepts it."""
    client = _botocore_signed("http://127.0.0.1:4566/bucket/dir%20x/k%2By?uploadId=a%2Fb&partNumber=1")
    parts = urlsplit(client.url)
    now = datetime(2026, 11, 27, 8, 0, 0, tzinfo=UTC)
    signed = sign_for_store(
        "PUT", parts.path, parts.query, _lower(client), "127.0.0.1:9000", "MINIO", "MINIOSECRET", "us-east-1", now
    )
    headers = dict(signed.headers)
    assert "authorization" in headers
    assert headers["host"] == "127.0.0.1:9000"
    assert headers["x-amz-date"] == "20261127T080000Z"
    assert "x-amz-security-token" not in headers
    oracle = AWSRequest(
        method="PUT",
        url=f"http://127.0.0.1:9000{parts.path}?{signed.query}",
        headers={k: v for k, v in signed.headers if k != "authorization"},
    )
    oracle.context["timestamp"] = "20261127T080000Z"
    auth = S3SigV4Auth(Credentials("MINIO", "MINIOSECRET"), "s3", "us-east-1")
    expected = auth.signature(auth.string_to_sign(oracle, auth.canonical_request(oracle)), oracle)
    assert headers["authorization"].endswith(f"Signature={expected}")


def test_the_client_s_session_token_and_presign_parameters_never_reach_the_store() -> None:
    now = datetime.now(UTC)
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Date=b&X-Amz-Expires=1&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=c&versionId=7"
    )
    signed = sign_for_store(
        "GET", "/b/k", query, [("x-amz-security-token", "t"), ("host", "edge")], "s:1", "K", "S", "us-east-1", now
    )
    assert signed.query == "versionId=7"
    assert all(k != "x-amz-security-token" for k, _ in signed.headers)
    v2 = sign_for_store("GET", "/b/k", "AWSAccessKeyId=a&Signature=s&Expires=9", [], "s:1", "K", "S", "us-east-1", now)
    assert v2.query == ""


@pytest.mark.parametrize(
    ("method", "path", "query", "refused"),
    [
        ("GET", "/minio/admin/v3/info", "", True),
        ("GET", "//minio/health/live", "", True),
        ("GET", "/minio", "", True),
        ("GET", "/", "Action=AssumeRole", True),
        ("POST", "/", "", True),
        ("GET", "/", "", False),
        ("GET", "/minio-data/key", "", False),
        ("GET", "/bucket/minio/admin", "", False),
    ],
)
def test_refused_paths(method: str, path: str, query: str, refused: bool) -> None:
    assert (refused_path(method, path, query) is not None) is refused


def test_virtual_hosted_buckets_on_localhost() -> None:
    assert virtual_host_bucket("my-bucket.localhost:4566") == "my-bucket"
    assert virtual_host_bucket("localhost:4566") is None
    assert virtual_host_bucket("127.0.0.1:4566") is None
