"""A delivery stream's delivery: its :class:`sinks.DeliveryStream` run as a supervised component
(:mod:`emulator.supervision`), restarted after a pause when it fails, the failure shown by DescribeDeliveryStream until
an attempt writes again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from emulator.firehose.store import DeliveryStreamState
from sinks import DeliveryStream, DeliveryStreamConfig, FieldType, S3Connection, StopRequested
from sinks.delivery import OnWrite

log = logging.getLogger(__name__)


class Delivery:
    """The component of one delivery stream (named after it): a new sink per (re)start, since a sink is single-use
    (its write worker stops with it). A stop writes what the sink has buffered before the component returns."""

    def __init__(
        self,
        stream: DeliveryStreamState,
        config: DeliveryStreamConfig,
        bootstrap_servers: str,
        s3: S3Connection,
        poll_timeout_ms: int,
        catalog_hooks: Callable[[], tuple[dict[str, FieldType], OnWrite | None]] | None = None,
    ) -> None:
        """``catalog_hooks`` gives, at each (re)start, the columns of the stream's SchemaConfiguration table and the
        callback that registers its objects (the catalog is read again, so a table changed since applies)."""
        self.name = stream.name
        self._stream = stream
        self._config = config
        self._bootstrap = bootstrap_servers
        self._s3 = s3
        self._poll_timeout_ms = poll_timeout_ms
        self._catalog_hooks = catalog_hooks
        #: The sink of the current attempt (None before the first).
        self.sink: DeliveryStream | None = None

    async def run(self) -> None:
        self._stream.status = "ACTIVE"
        config, on_write = self._config, None
        if self._catalog_hooks is not None:
            try:
                fields, on_write = self._catalog_hooks()
            except ValueError as exc:  # the catalog cannot give the table: shown by Describe, tried again
                log.warning("delivery of %s failed, retrying: %s", self.name, exc)
                self._stream.failure = f"delivery failed, retrying: {exc}"
                raise
            if fields:
                config = config.model_copy(update={"schema_fields": fields})
        sink = DeliveryStream(
            config, self._bootstrap, self._s3, poll_timeout_ms=self._poll_timeout_ms, on_write=on_write
        )
        self.sink = sink
        stop = asyncio.Event()
        task = asyncio.create_task(sink.run(stop))
        try:
            await asyncio.shield(task)
            self._stream.failure = None
        except asyncio.CancelledError:
            stop.set()
            with contextlib.suppress(StopRequested):
                await task
            raise
        except StopRequested:
            return
        except Exception as exc:
            log.warning("delivery of %s failed, retrying: %s", self.name, exc)
            self._stream.failure = f"delivery failed, retrying: {exc}"
            raise

    def healthy_again(self) -> bool:
        """Whether the current attempt has written since it started (a failure before it is then past)."""
        return self.sink is not None and self.sink.stats.flushes > 0
