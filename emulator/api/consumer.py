"""Feeds a :class:`ResultsView` from the analytics output topics of Kafka.

It reads without a consumer group, from the start of retention, every time it starts: the view is memory only, so a
restarted API rebuilds the same boards from the topics (a results record is the complete state of its window, so
replaying them in order ends on the latest state).
"""

from __future__ import annotations

import asyncio
import logging

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from emulator.api.models import AlertRecord, ResultRecord
from emulator.api.view import ResultsView

log = logging.getLogger(__name__)


class ResultsConsumer:
    """A supervised component (``run()``) that applies every results and alerts record to ``view``.

    A record that is not valid JSON or breaks the contract is logged with its position and counted
    (``kemu_api_invalid_records_total``); the feed goes on with the next one.
    """

    name = "api-results-consumer"

    def __init__(self, bootstrap_servers: str, results_topic: str, alerts_topic: str, view: ResultsView) -> None:
        self._bootstrap = bootstrap_servers
        self._results_topic = results_topic
        self._alerts_topic = alerts_topic
        self._view = view
        #: Set once every record that was in the topics when this run started has been applied.
        self.caught_up = asyncio.Event()
        self.records_in = 0

    def stats(self) -> dict[str, float]:
        """Figures for ``/metrics`` (see :class:`emulator.runtime.ReportsStats`)."""
        return {"events_in": self.records_in, "errors": self._view.stats.invalid_records}

    async def run(self) -> None:
        """Consume until cancelled."""
        self.caught_up.clear()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="kemu-api",
        )
        await consumer.start()
        try:
            partitions = await self._assign_all(consumer)
            targets = await consumer.end_offsets(partitions) if partitions else {}
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=5_000)
                for tp, messages in batches.items():
                    for message in messages:
                        self._apply(tp.topic, message.value, tp.partition, message.offset)
                if not self.caught_up.is_set() and await _reached(consumer, targets):
                    self.caught_up.set()
                if not partitions:  # topics did not exist yet: look again
                    partitions = await self._assign_all(consumer)
        finally:
            await consumer.stop()

    async def _assign_all(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        """Every partition of both topics, assigned by hand: no group, no rebalance, each API reads everything."""
        await consumer.topics()  # refreshes metadata
        partitions = [
            TopicPartition(topic, p)
            for topic in (self._results_topic, self._alerts_topic)
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if partitions:
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
        else:
            await asyncio.sleep(1.0)
        return partitions

    def _apply(self, topic: str, value: bytes | None, partition: int, offset: int) -> None:
        self.records_in += 1
        try:
            if value is None:
                raise ValueError("empty record value")
            data = orjson.loads(value)
            if topic == self._results_topic:
                self._view.apply_result(ResultRecord.model_validate(data))
            else:
                self._view.apply_alert(AlertRecord.model_validate(data))
        except (ValueError, ValidationError) as exc:  # orjson.JSONDecodeError is a ValueError
            self._view.record_invalid()
            log.warning("skipping invalid record at %s[%d]@%d: %s", topic, partition, offset, str(exc)[:300])


async def _reached(consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> bool:
    for tp, end in targets.items():
        if await consumer.position(tp) < end:
            return False
    return True
