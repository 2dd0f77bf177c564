"""HTTP/2 on the edge port beside HTTP/1.1 (h2c with prior knowledge and by upgrade), and the optional TLS port
(ALPN h2 and http/1.1, a local CA), with real clients: httpx over h2, hyper-h2 for the upgrade, boto3 over https."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import ssl
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import httpx
import orjson
import pytest

from emulator.edge.server import EdgeServer, TlsListener
from emulator.kinesis import KinesisSettings
from tests.support.kinesis_server import kinesis_client, wait_active

TARGET = "Kinesis_20131202."
JSON = "application/x-amz-json-1.1"


@pytest.fixture(scope="module")
def edge(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    tls = TlsListener.bind("127.0.0.1", 0, tmp_path_factory.mktemp("run") / "tls")
    server = EdgeServer(KinesisSettings(), kafka_bootstrap, host="127.0.0.1", port=0, tls=tls).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stream(edge: EdgeServer) -> Iterator[str]:
    client = kinesis_client(edge.url)
    name = f"h2-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=name, ShardCount=2)
    wait_active(client, name)
    yield name
    client.delete_stream(StreamName=name)


def call(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "content": orjson.dumps(body),
        "headers": {"X-Amz-Target": TARGET + operation, "Content-Type": JSON},
    }


def read_all(client: Any, name: str) -> list[bytes]:
    records: list[bytes] = []
    for shard in client.list_shards(StreamName=name)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            page = client.get_records(ShardIterator=iterator)
            records += [record["Data"] for record in page["Records"]]
            iterator = page["NextShardIterator"]
            if not page["Records"] and page["MillisBehindLatest"] == 0:
                break
    return records


def test_httpx_prior_knowledge_h2_multiplexes_puts_that_boto3_reads_back_over_http1(
    edge: EdgeServer, stream: str
) -> None:
    sent = [bytes([0xFF, i]) + os.urandom(30) for i in range(40)]

    async def put_all() -> set[str]:
        async with httpx.AsyncClient(http1=False, http2=True, base_url=edge.url) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        "/",
                        **call(
                            "PutRecord",
                            {"StreamName": stream, "Data": base64.b64encode(data).decode(), "PartitionKey": f"k{i}"},
                        ),
                    )
                    for i, data in enumerate(sent)
                )
            )
        assert all(response.status_code == 200 for response in responses), [r.text for r in responses]
        return {response.http_version for response in responses}

    assert asyncio.run(put_all()) == {"HTTP/2"}
    assert sorted(read_all(kinesis_client(edge.url), stream)) == sorted(sent)


@pytest.mark.parametrize("piece", [None, 997], ids=["whole", "in-pieces"])
def test_an_h2c_upgrade_with_a_body_is_answered_101_then_served_as_stream_1(
    edge: EdgeServer, stream: str, piece: int | None
) -> None:
    port = int(edge.url.rsplit(":", 1)[1])
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    settings = client.initiate_upgrade_connection()  # the HTTP2-Settings header's value, base64url already
    record = b"\x00upgraded\xff" + bytes(range(256)) * 400  # about 100 KB: many reads before the 101
    body = orjson.dumps({"StreamName": stream, "Data": base64.b64encode(record).decode(), "PartitionKey": "u"})
    request = (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
        b"HTTP2-Settings: " + settings + b"\r\nX-Amz-Target: " + (TARGET + "PutRecord").encode() + b"\r\n"
        b"Content-Type: " + JSON.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        if piece is None:
            sock.sendall(request)
        else:  # the head, then the body, in pieces that never line up with either
            for start in range(0, len(request), piece):
                sock.sendall(request[start : start + piece])
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        head, _, rest = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 "), head
        sock.sendall(client.data_to_send())
        status, data, events = None, b"", client.receive_data(rest) if rest else []
        while True:
            for event in events:
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == 1:
                    status = dict(event.headers)[b":status"]
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == 1:
                    data += event.data
                    client.acknowledge_received_data(event.flow_controlled_length, 1)
            if any(isinstance(event, h2.events.StreamEnded) and event.stream_id == 1 for event in events):
                break
            sock.sendall(client.data_to_send())
            events = client.receive_data(sock.recv(65536))
    assert status == b"200", data
    assert orjson.loads(data)["ShardId"].startswith("shardId-")
    assert read_all(kinesis_client(edge.url), stream) == [record]


def test_the_tls_port_negotiates_h2_and_http1_with_the_local_ca(edge: EdgeServer) -> None:
    assert edge.tls is not None
    ca = ssl.create_default_context(cafile=edge.tls.certificate.ca)
    for http2, version in ((True, "HTTP/2"), (False, "HTTP/1.1")):
        with httpx.Client(http2=http2, verify=ca) as client:
            response = client.post(edge.tls.url + "/", **call("ListStreams", {}))
        assert (response.status_code, response.http_version) == (200, version)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"), httpx.Client() as client:
        client.post(edge.tls.url + "/", **call("ListStreams", {}))


def test_boto3_over_https_trusts_the_endpoint_through_aws_ca_bundle(
    edge: EdgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert edge.tls is not None
    monkeypatch.setenv("AWS_CA_BUNDLE", str(edge.tls.certificate.ca))
    client = kinesis_client(edge.tls.url)  # no verify=: botocore reads AWS_CA_BUNDLE
    name = f"tls-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=name, ShardCount=2)
    try:
        wait_active(client, name)
        client.put_records(
            StreamName=name, Records=[{"Data": bytes([i, 0xFE]), "PartitionKey": str(i)} for i in range(20)]
        )
        assert sorted(read_all(client, name)) == sorted(bytes([i, 0xFE]) for i in range(20))
    finally:
        client.delete_stream(StreamName=name)


def test_the_certificate_is_private_and_kept_across_restarts(edge: EdgeServer, kafka_bootstrap: str) -> None:
    assert edge.tls is not None
    cert = edge.tls.certificate
    for path in (cert.ca, cert.chain, cert.key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(cert.ca.parent.stat().st_mode) == 0o700
    before = {path: path.read_bytes() for path in (cert.ca, cert.chain, cert.key)}
    again = TlsListener.bind("127.0.0.1", 0, Path(cert.ca.parent))
    again.socket.close()
    assert {
        path: path.read_bytes() for path in (again.certificate.ca, again.certificate.chain, again.certificate.key)
    } == before
