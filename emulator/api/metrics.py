"""``/metrics``: the pipeline's figures in Prometheus' text format, gathered when scraped (nothing to keep in sync).

Sources: the results view (what the API applied), the streams inspector (rates and consumer lag), and the
supervisor (component state, failures, restarts, and each component's own ``stats()``).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from emulator.api.resources import ApiResources
from emulator.supervision import State

#: ``stats()`` keys with a metric of their own: (metric name, help, is a counter).
KNOWN_STATS: dict[str, tuple[str, str, bool]] = {
    "events_in": ("kemu_events_in", "Events a component read.", True),
    "events_out": ("kemu_events_out", "Events a component wrote.", True),
    "late_events": ("kemu_late_events", "Events that arrived after their window closed.", True),
    "errors": ("kemu_errors", "Records or operations a component could not process.", True),
    "sink_objects": ("kemu_sink_objects", "Objects a sink wrote to S3.", True),
    "sink_bytes": ("kemu_sink_bytes", "Bytes a sink wrote to S3.", True),
    "lag": ("kemu_component_lag", "Records a component has yet to read.", False),
}


class PipelineCollector(Collector):
    def __init__(self, resources: ApiResources) -> None:
        self._r = resources

    def collect(self) -> Iterator[Metric]:
        yield from self._view_metrics()
        yield from self._stream_metrics()
        yield from self._component_metrics()

    def _view_metrics(self) -> Iterator[Metric]:
        stats = self._r.view.stats
        for name, doc, value in (
            ("kemu_api_results_applied", "Results records that changed a board.", stats.results_applied),
            ("kemu_api_results_stale", "Results records older than the stored emission.", stats.results_stale),
            (
                "kemu_api_results_other",
                "Results records of queries that are not leaderboards.",
                stats.results_not_leaderboard,
            ),
            ("kemu_api_alerts", "Alert records applied.", stats.alerts_applied),
            (
                "kemu_api_invalid_records",
                "Records of the analytics topics that broke the contract.",
                stats.invalid_records,
            ),
            ("kemu_api_sse_dropped", "Server-sent events dropped for slow clients.", stats.subscriber_drops),
        ):
            counter = CounterMetricFamily(name, doc)
            counter.add_metric([], value)
            yield counter
        subscribers = GaugeMetricFamily("kemu_api_sse_subscribers", "Open server-sent-event streams.")
        subscribers.add_metric([], self._r.view.subscriber_count)
        yield subscribers
        watermark = GaugeMetricFamily(
            "kemu_leaderboard_watermark_seconds", "Newest watermark of each board (Unix time).", labels=["board"]
        )
        for board in self._r.view.boards():
            watermark.add_metric([board.name], board.summary().watermark.timestamp())
        yield watermark

    def _stream_metrics(self) -> Iterator[Metric]:
        rate = GaugeMetricFamily("kemu_stream_records_per_second", "Write rate of each stream.", labels=["stream"])
        ends = GaugeMetricFamily("kemu_stream_end_offset", "End offset of each shard.", labels=["stream", "shard"])
        lag = GaugeMetricFamily(
            "kemu_consumer_lag", "Records of a stream a consumer group has not committed.", labels=["stream", "group"]
        )
        if self._r.inspector is not None:
            for stream in self._r.inspector.answer.streams:
                rate.add_metric([stream.name], stream.records_per_s)
                for shard in stream.shards:
                    ends.add_metric([stream.name, shard.shard_id], shard.end_offset)
                for consumer in stream.consumers:
                    lag.add_metric([stream.name, consumer.group_id], consumer.lag)
        yield from (rate, ends, lag)

    def _component_metrics(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("kemu_component_up", "1 while a component runs.", labels=["component"])
        failures = CounterMetricFamily("kemu_component_failures", "Failures of a component.", labels=["component"])
        restarts = CounterMetricFamily("kemu_component_restarts", "Restarts of a component.", labels=["component"])
        for status in self._r.supervisor.statuses():
            up.add_metric([status.name], 1.0 if status.state is State.RUNNING else 0.0)
            failures.add_metric([status.name], status.failures)
            restarts.add_metric([status.name], status.restarts)
        yield from (up, failures, restarts)
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {
            key: (CounterMetricFamily if counter else GaugeMetricFamily)(name, doc, labels=["component"])
            for key, (name, doc, counter) in KNOWN_STATS.items()
        }
        other = GaugeMetricFamily("kemu_component_stat", "Other figures of a component.", labels=["component", "stat"])
        for component, stats in self._r.supervisor.component_stats().items():
            for key, value in stats.items():
                family = families.get(key)
                if family is not None:
                    family.add_metric([component], float(value))
                else:
                    other.add_metric([component, key], float(value))
        yield from families.values()
        yield other


def registry_for(resources: ApiResources) -> CollectorRegistry:
    """A registry of this app's own (never the global one: two apps in one process must not mix)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineCollector(resources))
    return registry
