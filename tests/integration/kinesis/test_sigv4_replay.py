"""With signature checks on, a correctly signed request is refused when its date is more than 5 minutes from the
server's clock or its credential scope names another service: before, one dated 2001 and one scoped to ``s3`` were
served (a captured request could be replayed forever)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from emulator.kinesis import KinesisSettings
from tests.support.kinesis_server import ACCESS_KEY, SECRET_KEY, firehose_client, kinesis_client, serve_kinesis
from tests.support.sigv4 import signed_headers


@pytest.fixture(scope="module")
def url(kafka_bootstrap: str) -> Iterator[str]:
    settings = KinesisSettings(
        verify_signatures=True, access_key_id=ACCESS_KEY, secret_access_key=SecretStr(SECRET_KEY)
    )
    with serve_kinesis(settings, kafka_bootstrap) as served:
        yield served


def send(url: str, target: str, at: dt.datetime, service: str) -> httpx.Response:
    body = b"{}"
    headers = signed_headers(url + "/", target, body, at, access_key=ACCESS_KEY, secret_key=SECRET_KEY, service=service)
    return httpx.post(url + "/", content=body, headers=headers, timeout=30)


def test_sdk_clients_of_both_services_are_served(url: str) -> None:
    assert isinstance(kinesis_client(url).list_streams()["StreamNames"], list)
    assert isinstance(firehose_client(url).list_delivery_streams()["DeliveryStreamNames"], list)
    now = dt.datetime.now(dt.UTC)
    assert send(url, "Kinesis_20131202.ListStreams", now, "kinesis").status_code == 200
    assert send(url, "Firehose_20150804.ListDeliveryStreams", now, "firehose").status_code == 200


@pytest.mark.parametrize(
    ("at", "service", "words"),
    [
        (dt.datetime(2001, 1, 1, tzinfo=dt.UTC), "kinesis", "Signature expired"),
        (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), "kinesis", "Signature not yet current"),
        (dt.datetime.now(dt.UTC), "s3", "Credential should be scoped to correct service: 'kinesis'"),
        (dt.datetime.now(dt.UTC), "firehose", "Credential should be scoped to correct service: 'kinesis'"),
    ],
)
def test_a_correct_signature_from_another_time_or_service_is_refused(
    url: str, at: dt.datetime, service: str, words: str
) -> None:
    response = send(url, "Kinesis_20131202.ListStreams", at, service)
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == "InvalidSignatureException"
    assert words in response.json()["message"]


def test_a_kinesis_scoped_signature_does_not_call_firehose(url: str) -> None:
    response = send(url, "Firehose_20150804.ListDeliveryStreams", dt.datetime.now(dt.UTC), "kinesis")
    assert (response.status_code, response.json()["__type"]) == (400, "InvalidSignatureException")
    assert "'firehose'" in response.json()["message"]
