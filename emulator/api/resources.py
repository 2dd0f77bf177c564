"""What the API needs at run time, built in its lifespan and kept on ``app.state.resources``."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from emulator.api.consumer import ResultsConsumer
from emulator.api.lake import LakeConfig, LakePanel
from emulator.api.models import CheckResult
from emulator.api.pipeline import RateTracker
from emulator.api.streams import StreamsInspector
from emulator.api.view import ResultsView
from emulator.config.api import ServingSettings
from emulator.endpoints import S3Target
from emulator.supervision import Supervisor
from sinks import make_s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class ApiConfig:
    """Resolved addresses and settings for one API instance; ``None`` endpoints leave those parts out (unit
    tests run the app with results injected into its view and no broker at all)."""

    serving: ServingSettings = field(default_factory=ServingSettings)
    kafka_bootstrap: str | None = None
    s3: S3Target | None = None
    #: kemu's own topics (metadata, analytics outputs): shown apart from the user's streams.
    internal_topics: frozenset[str] = frozenset()
    #: The Lake panel's catalog and query limits; the panel runs when this, Kafka and S3 are all given.
    lake: LakeConfig | None = None


class S3Probe:
    """``HEAD bucket`` in a worker thread, remembered for a moment so a busy ``/readyz`` does not hammer S3."""

    def __init__(self, target: S3Target, cache_s: float = 2.0) -> None:
        self._target = target
        self._cache_s = cache_s
        self._client: S3Client | None = None
        self._last: tuple[float, CheckResult] | None = None

    def _head(self) -> CheckResult:
        if self._client is None:
            self._client = make_s3_client(self._target.connection())
        try:
            self._client.head_bucket(Bucket=self._target.bucket)
        except (BotoCoreError, ClientError) as exc:
            return CheckResult(ok=False, detail=f"{self._target.endpoint_url}: {exc}"[:300])
        return CheckResult(ok=True, detail=f"bucket {self._target.bucket} at {self._target.endpoint_url}")

    async def check(self) -> CheckResult:
        now = time.monotonic()
        if self._last is not None and now - self._last[0] < self._cache_s:
            return self._last[1]
        try:
            result = await asyncio.wait_for(asyncio.to_thread(self._head), 5.0)
        except TimeoutError:
            result = CheckResult(ok=False, detail=f"{self._target.endpoint_url}: no answer within 5 s")
        self._last = (now, result)
        return result


@dataclass
class ApiResources:
    """Everything the routers use. ``consumer`` and ``inspector`` exist only when a broker is configured."""

    config: ApiConfig
    view: ResultsView
    supervisor: Supervisor
    consumer: ResultsConsumer | None = None
    inspector: StreamsInspector | None = None
    s3_probe: S3Probe | None = None
    lake: LakePanel | None = None
    started_at: float = field(default_factory=time.monotonic)
    rates: RateTracker = field(default_factory=RateTracker)

    def kafka_check(self) -> CheckResult:
        """Kafka answers when the inspector heard from it recently (it asks every ``streams_poll_s``)."""
        if self.inspector is None:
            return CheckResult(ok=False, detail="no Kafka bootstrap configured")
        last = self.inspector.last_contact
        limit = 3 * self.config.serving.streams_poll_s + 5.0
        if last is None or time.monotonic() - last > limit:
            return CheckResult(ok=False, detail=f"{self.config.kafka_bootstrap}: no answer in the last {limit:.0f} s")
        return CheckResult(ok=True, detail=f"brokers at {self.config.kafka_bootstrap}")

    async def s3_check(self) -> CheckResult:
        if self.s3_probe is None:
            return CheckResult(ok=False, detail="no S3 endpoint configured")
        return await self.s3_probe.check()
