"""Running the edge endpoint (Kinesis, Firehose, S3 and health on one port): in the foreground
(``kemu kinesis serve``) or in a background thread beside other components (``kemu up``, tests), each with its own
event loop. The listening socket is bound before anything else, so a taken port is one clear error."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from emulator.aws.admission import InFlightBudget
from emulator.aws.router import AwsRouter
from emulator.aws.sigv4 import SignatureVerifier
from emulator.config.kinesis import KinesisSettings
from emulator.edge.app import EdgeApp
from emulator.edge.lake import lake_services
from emulator.edge.lake_json import AthenaRest, json_service
from emulator.edge.s3_proxy import ClientCheck, S3Proxy, S3Store
from emulator.firehose.api import firehose_service
from emulator.firehose.service import FirehoseService
from emulator.kinesis.api import kinesis_service
from emulator.kinesis.service import KinesisService
from emulator.listen import bind_listener, display_url
from emulator.topics import TopicPolicy
from sinks import S3Connection

#: What a taken port's error message suggests.
PORT_HINT = "--port or KEMU_KINESIS__PORT"


def aws_apis(settings: KinesisSettings, bootstrap_servers: str, s3: S3Connection | None = None) -> AthenaRest:
    """The AWS JSON services of the endpoint on one router: Kinesis on ``bootstrap_servers``; Glue and Athena (the
    lake); and Firehose, whose delivery streams write to ``s3`` (without it, CreateDeliveryStream says that no S3
    target is configured) and use Glue's catalog. Athena's REST-JSON binding is answered in front of the router."""
    if settings.verify_signatures and not (settings.access_key_id and settings.secret_access_key):
        raise ValueError("verify_signatures needs access_key_id and secret_access_key")
    verifier = (
        SignatureVerifier(settings.access_key_id or "", settings.secret_access_key.get_secret_value())
        if settings.verify_signatures and settings.secret_access_key is not None
        else None
    )
    # One rule for the APIs: each also seals the others' metadata topics.
    policy = TopicPolicy.of(settings.metadata_topic, settings.firehose.metadata_topic, settings.glue.catalog_topic)
    # One budget for both: together they load the same broker.
    budget = InFlightBudget(settings.in_flight.records, settings.in_flight.bytes)
    glue, athena, tables = lake_services(settings.glue, settings.athena, bootstrap_servers, s3, settings.account_id)
    router = AwsRouter(
        [
            kinesis_service(lambda: KinesisService(settings, bootstrap_servers, policy=policy, budget=budget)),
            # Before Firehose, which reads the catalog as it starts its delivery streams (and after which it stops).
            json_service("Glue", glue),
            json_service("Athena", athena),
            firehose_service(
                lambda: FirehoseService(
                    settings.firehose,
                    bootstrap_servers,
                    s3,
                    region=settings.region,
                    account_id=settings.account_id,
                    policy=policy,
                    budget=budget,
                    tables=tables,
                )
            ),
        ],
        verifier,
    )
    return AthenaRest(router, athena, verifier)


def create_edge_app(
    settings: KinesisSettings, bootstrap_servers: str, s3: S3Connection | None = None, version: str = "unknown"
) -> EdgeApp:
    """The Kinesis, Firehose, Glue and Athena APIs on ``bootstrap_servers``, S3 forwarded to ``s3`` (when it has an
    endpoint and keys), and the health endpoint."""
    proxy = None
    if s3 is not None and s3.endpoint_url and s3.access_key_id and s3.secret_access_key is not None:
        store = S3Store(s3.endpoint_url, s3.access_key_id, s3.secret_access_key.get_secret_value(), s3.region)
        check = (
            ClientCheck(settings.access_key_id, settings.secret_access_key.get_secret_value())
            if settings.verify_signatures and settings.access_key_id and settings.secret_access_key is not None
            else None
        )
        proxy = S3Proxy(store, check)
    return EdgeApp(aws_apis(settings, bootstrap_servers, s3), proxy, version)


def _server(
    settings: KinesisSettings, bootstrap_servers: str, loop: str, s3: S3Connection | None, version: str
) -> uvicorn.Server:
    config = uvicorn.Config(
        create_edge_app(settings, bootstrap_servers, s3, version),
        log_level="warning",
        lifespan="on",
        http="httptools",
        loop=loop,
        access_log=False,
    )
    return uvicorn.Server(config)


def serve_forever(
    settings: KinesisSettings,
    bootstrap_servers: str,
    sock: socket.socket,
    s3: S3Connection | None = None,
    version: str = "unknown",
) -> None:
    """Serve on the bound ``sock`` until interrupted (Ctrl-C / SIGTERM), on uvloop."""
    try:
        _server(settings, bootstrap_servers, "uvloop", s3, version).run(sockets=[sock])
    finally:
        sock.close()


class EdgeServer:
    """The endpoint in a daemon thread: ``start()`` returns once it accepts requests, ``stop()`` shuts it down."""

    def __init__(
        self,
        settings: KinesisSettings,
        bootstrap_servers: str,
        host: str | None = None,
        port: int | None = None,
        s3: S3Connection | None = None,
        version: str = "unknown",
    ) -> None:
        self._socket = bind_listener(host or settings.host, settings.port if port is None else port, PORT_HINT)
        self.url = display_url(self._socket)
        self.port: int = self._socket.getsockname()[1]
        self._server = _server(settings, bootstrap_servers, "asyncio", s3, version)
        self._thread = threading.Thread(target=self._run, name=f"edge-{self.port}", daemon=True)

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()

    def start(self, timeout_s: float = 30.0) -> EdgeServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Kinesis API did not start on {self.url} (Kafka unreachable?)")
            time.sleep(0.05)
        return self

    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._socket.close()
