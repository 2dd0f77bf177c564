"""SigV4 checks beyond the signature itself, as AWS makes them: the request's date within 5 minutes of the server's
clock (a correct signature dated 2001 was replayable forever), the credential scope's date equal to the request's,
and the scope naming the service that is called (one scoped to ``s3`` was accepted by the Kinesis API)."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator.aws.errors import IncompleteSignatureException, InvalidSignatureException
from emulator.aws.sigv4 import SignatureVerifier
from tests.support.sigv4 import signed_headers

BODY = b'{"Limit": 1}'
NOW = dt.datetime(2026, 11, 27, 8, 0, 0, tzinfo=dt.UTC)


def signed(at: dt.datetime, service: str = "kinesis", scope_date: str | None = None) -> dict[str, str]:
    """Headers of a request signed correctly by botocore's signer at ``at`` (any date: a replayed request)."""
    return signed_headers(
        "http://127.0.0.1:4566/",
        "Kinesis_20131202.ListStreams",
        BODY,
        at,
        access_key="AKID",
        secret_key="right",  # noqa: S106 - a test credential
        service=service,
        scope_date=scope_date,
    )


def verifier() -> SignatureVerifier:
    return SignatureVerifier("AKID", "right", clock_s=NOW.timestamp)


def test_a_signature_of_now_for_the_called_service_is_accepted() -> None:
    verifier().verify("POST", "/", "", signed(NOW), BODY, "kinesis")
    for skew in (dt.timedelta(minutes=4, seconds=59), -dt.timedelta(minutes=4, seconds=59)):
        verifier().verify("POST", "/", "", signed(NOW + skew), BODY, "kinesis")
    verifier().verify("POST", "/", "", signed(NOW, service="firehose"), BODY, "firehose")


@pytest.mark.parametrize(
    ("at", "words"),
    [
        (dt.datetime(2001, 1, 1, tzinfo=dt.UTC), "Signature expired: 20010101T000000Z is now earlier than"),
        (NOW - dt.timedelta(minutes=5, seconds=1), "Signature expired"),
        (NOW + dt.timedelta(minutes=5, seconds=1), "Signature not yet current"),
        (dt.datetime(2099, 1, 1, tzinfo=dt.UTC), "Signature not yet current"),
    ],
)
def test_a_correct_signature_more_than_5_minutes_away_is_refused(at: dt.datetime, words: str) -> None:
    with pytest.raises(InvalidSignatureException, match=words):
        verifier().verify("POST", "/", "", signed(at), BODY, "kinesis")


@pytest.mark.parametrize(("scoped", "called"), [("s3", "kinesis"), ("kinesis", "firehose"), ("firehose", "kinesis")])
def test_a_correct_signature_scoped_to_another_service_is_refused(scoped: str, called: str) -> None:
    with pytest.raises(InvalidSignatureException, match=f"Credential should be scoped to correct service: '{called}'"):
        verifier().verify("POST", "/", "", signed(NOW, service=scoped), BODY, called)


def test_the_scope_date_must_be_the_request_date() -> None:
    with pytest.raises(InvalidSignatureException, match="Date in Credential scope does not match"):
        verifier().verify("POST", "/", "", signed(NOW, scope_date="20261126"), BODY, "kinesis")


@pytest.mark.parametrize("amz_date", ["2026-11-27T08:00:00Z", "20261127", "20261399T000000Z", "x" * 100])
def test_an_x_amz_date_that_is_no_date_is_an_incomplete_signature(amz_date: str) -> None:
    headers = signed(NOW)
    headers["x-amz-date"] = amz_date
    with pytest.raises(IncompleteSignatureException, match="X-Amz-Date"):
        verifier().verify("POST", "/", "", headers, BODY, "kinesis")
