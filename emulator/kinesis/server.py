"""Running the Kinesis API: in the foreground (``kemu kinesis serve``) or in a background thread beside other
components (``kemu up``, tests), each with its own event loop."""

from __future__ import annotations

import threading
import time

import uvicorn

from emulator.kinesis.app import create_app
from emulator.kinesis.config import KinesisSettings
from sinks import S3Connection


def _config(
    settings: KinesisSettings, bootstrap_servers: str, host: str, port: int, loop: str, s3: S3Connection | None
) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(settings, bootstrap_servers, s3),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        http="httptools",
        loop=loop,
        access_log=False,
    )


def serve_forever(
    settings: KinesisSettings, bootstrap_servers: str, host: str, port: int, s3: S3Connection | None = None
) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM), on uvloop."""
    uvicorn.Server(_config(settings, bootstrap_servers, host, port, "uvloop", s3)).run()


class KinesisServer:
    """The API in a daemon thread: ``start()`` returns once it accepts requests, ``stop()`` shuts it down."""

    def __init__(
        self,
        settings: KinesisSettings,
        bootstrap_servers: str,
        host: str | None = None,
        port: int | None = None,
        s3: S3Connection | None = None,
    ) -> None:
        self.host = host or settings.host
        self.port = settings.port if port is None else port
        self._server = uvicorn.Server(_config(settings, bootstrap_servers, self.host, self.port, "asyncio", s3))
        self._thread = threading.Thread(target=self._server.run, name=f"kinesis-api-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 30.0) -> KinesisServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Kinesis API did not start on {self.url} (port taken, or Kafka unreachable)")
            time.sleep(0.05)
        return self

    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=30)
