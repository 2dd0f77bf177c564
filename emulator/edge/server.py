"""Running the edge endpoint (Kinesis, Firehose, S3 and health on one port): in the foreground
(``kemu kinesis serve``) or in a background thread beside other components (``kemu up``, tests), each with its own
event loop. The listening socket is bound before anything else, so a taken port is one clear error.

Every connection speaks HTTP/1.1 or HTTP/2 as the client chooses (:mod:`emulator.edge.protocols`); an optional
second listener serves the same app over TLS (ALPN ``h2`` / ``http/1.1``) with a local certificate
(:mod:`emulator.edge.tls`), under the same server, lifespan and shutdown.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from emulator.aws.admission import InFlightBudget
from emulator.aws.router import AwsRouter
from emulator.aws.sigv4 import SignatureVerifier
from emulator.config.kinesis import KinesisSettings
from emulator.edge.app import EdgeApp
from emulator.edge.lake import lake_services
from emulator.edge.lake_json import AthenaRest, json_service
from emulator.edge.protocols import HttpProtocol
from emulator.edge.s3_proxy import ClientCheck, S3Proxy, S3Store
from emulator.edge.tls import LocalCertificate, local_certificate
from emulator.firehose.api import firehose_service
from emulator.firehose.service import FirehoseService
from emulator.kinesis.api import kinesis_service
from emulator.kinesis.service import KinesisService
from emulator.listen import bind_listener, display_url
from emulator.topics import TopicPolicy
from sinks import S3Connection

#: What a taken port's error message suggests.
PORT_HINT = "--port or KEMU_KINESIS__PORT"
TLS_PORT_HINT = "--tls-port or KEMU_KINESIS__TLS_PORT"


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


@dataclass
class TlsListener:
    """The TLS port: its bound socket and the local certificate it presents."""

    socket: socket.socket
    certificate: LocalCertificate

    @classmethod
    def bind(cls, host: str, port: int, directory: Path) -> TlsListener:
        """Bound on ``host:port`` with the certificate kept in ``directory`` (made there on first use)."""
        sock = bind_listener(host, port, TLS_PORT_HINT)
        try:
            return cls(sock, local_certificate(directory))
        except BaseException:
            sock.close()
            raise

    @property
    def url(self) -> str:
        return display_url(self.socket).replace("http://", "https://", 1)


class _Server(uvicorn.Server):
    """uvicorn's server with the TLS listener beside the plain one: one app, one lifespan, one shutdown."""

    def __init__(self, config: uvicorn.Config, tls: TlsListener | None) -> None:
        super().__init__(config)
        self._tls = tls

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self._tls is None:
            return
        config = self.config
        context = self._tls.certificate.server_context(HttpProtocol.alpn_protocols)

        def protocol() -> asyncio.Protocol:
            return HttpProtocol(config, self.server_state, self.lifespan.state)

        loop = asyncio.get_running_loop()
        self.servers.append(await loop.create_server(protocol, sock=self._tls.socket, ssl=context))


def _server(
    settings: KinesisSettings,
    bootstrap_servers: str,
    loop: str,
    s3: S3Connection | None,
    version: str,
    tls: TlsListener | None = None,
) -> uvicorn.Server:
    config = uvicorn.Config(
        create_edge_app(settings, bootstrap_servers, s3, version),
        log_level="warning",
        lifespan="on",
        http=HttpProtocol,
        loop=loop,
        access_log=False,
    )
    return _Server(config, tls)


def serve_forever(
    settings: KinesisSettings,
    bootstrap_servers: str,
    sock: socket.socket,
    s3: S3Connection | None = None,
    version: str = "unknown",
    tls: TlsListener | None = None,
) -> None:
    """Serve on the bound ``sock`` (and ``tls``) until interrupted (Ctrl-C / SIGTERM), on uvloop."""
    try:
        _server(settings, bootstrap_servers, "uvloop", s3, version, tls).run(sockets=[sock])
    finally:
        sock.close()
        if tls is not None:
            tls.socket.close()


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
        tls: TlsListener | None = None,
    ) -> None:
        self._socket = bind_listener(host or settings.host, settings.port if port is None else port, PORT_HINT)
        self.url = display_url(self._socket)
        self.port: int = self._socket.getsockname()[1]
        self.tls = tls
        self._server = _server(settings, bootstrap_servers, "asyncio", s3, version, tls)
        self._thread = threading.Thread(target=self._run, name=f"edge-{self.port}", daemon=True)

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()
            if self.tls is not None:
                self.tls.socket.close()

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
        if self.tls is not None:
            self.tls.socket.close()
