from __future__ import annotations

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.aws.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
)
from emulator.aws.sigv4 import SignatureVerifier
from emulator.kinesis.throttle import ShardThrottle


def test_throttle_admits_one_second_of_records_then_refills() -> None:
    throttle = ShardThrottle(records_per_second=3, bytes_per_second=1000)
    assert [throttle.admit("s", 0, 10, now_s=0.0) for _ in range(4)] == [True, True, True, False]
    assert throttle.admit("s", 1, 10, now_s=0.0)  # shards are independent
    assert throttle.admit("s", 0, 10, now_s=0.34)
    assert not throttle.admit("s", 0, 10, now_s=0.34)


def test_throttle_counts_bytes() -> None:
    throttle = ShardThrottle(records_per_second=100, bytes_per_second=1000)
    assert throttle.admit("s", 0, 900, now_s=0.0)
    assert not throttle.admit("s", 0, 200, now_s=0.0)
    assert throttle.admit("s", 0, 100, now_s=0.0)


def signed(secret: str) -> tuple[dict[str, str], bytes]:
    body = b'{"Limit": 1}'
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:4566/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.ListStreams"},
    )
    SigV4Auth(Credentials("AKID", secret), "kinesis", "us-east-1").add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    headers["host"] = "127.0.0.1:4566"
    return headers, body


def test_sigv4_accepts_a_botocore_signature_and_rejects_a_wrong_secret() -> None:
    verifier = SignatureVerifier("AKID", "right")
    headers, body = signed("right")
    verifier.verify("POST", "/", "", headers, body, "kinesis")
    headers, body = signed("wrong")
    with pytest.raises(InvalidSignatureException):
        verifier.verify("POST", "/", "", headers, body, "kinesis")
    with pytest.raises(MissingAuthenticationTokenException):
        verifier.verify("POST", "/", "", {}, body, "kinesis")


def test_sigv4_malformed_authorization_is_an_incomplete_signature() -> None:
    verifier = SignatureVerifier("AKID", "right")
    headers = {"authorization": "AWS4-HMAC-SHA256 Credential=AKID", "x-amz-date": "20261127T000000Z"}
    with pytest.raises(IncompleteSignatureException):
        verifier.verify("POST", "/", "", headers, b"{}", "kinesis")
