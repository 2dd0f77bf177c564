"""Kinesis Data Analytics on DuckDB: event-time SQL windows over Kafka topics, incremental and exactly once."""

# The names below are loaded on first use (PEP 562), so importing a light submodule such as ``analytics.config``
# (the emulator's settings do, for every command) does not pull in the whole engine and its native libraries.

from __future__ import annotations

from typing import TYPE_CHECKING

from foundation.exports import lazy_exports

if TYPE_CHECKING:
    from analytics.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
    from analytics.compiler import compile_query
    from analytics.config import AnalyticsConfig, OutputTopics
    from analytics.decode import Decoder
    from analytics.emissions import BadRecord, BatchOutcome, LateEvent, WindowResult
    from analytics.etl import EtlOperator
    from analytics.exceptions import AnalyticsError, CheckpointError, QueryError, SourceError
    from analytics.operator import WindowOperator
    from analytics.outputs import LatestResults, outcome_records
    from analytics.plan import CompiledQuery, EtlPlan, PanePlan, WindowPlan
    from analytics.protocol import Operator, make_operator
    from analytics.query_files import BUILTIN_QUERIES, load_queries, select_queries
    from analytics.replay import ReplayStats, replay, replay_outcomes
    from analytics.runner import AnalyticsEngine, QueryRunner
    from analytics.sources import Source, load_sources
    from analytics.watermarks import WatermarkTracker
    from analytics.windows import WindowSpec, windows_of

_EXPORTS = {
    "AnalyticsConfig": "analytics.config",
    "AnalyticsEngine": "analytics.runner",
    "AnalyticsError": "analytics.exceptions",
    "BUILTIN_QUERIES": "analytics.query_files",
    "BadRecord": "analytics.emissions",
    "BatchOutcome": "analytics.emissions",
    "Checkpoint": "analytics.checkpoint",
    "CheckpointError": "analytics.exceptions",
    "CompiledQuery": "analytics.plan",
    "Decoder": "analytics.decode",
    "EtlOperator": "analytics.etl",
    "EtlPlan": "analytics.plan",
    "LateEvent": "analytics.emissions",
    "LatestResults": "analytics.outputs",
    "Operator": "analytics.protocol",
    "OutputTopics": "analytics.config",
    "PanePlan": "analytics.plan",
    "QueryError": "analytics.exceptions",
    "QueryRunner": "analytics.runner",
    "ReplayStats": "analytics.replay",
    "Source": "analytics.sources",
    "SourceError": "analytics.exceptions",
    "WatermarkTracker": "analytics.watermarks",
    "WindowOperator": "analytics.operator",
    "WindowPlan": "analytics.plan",
    "WindowResult": "analytics.emissions",
    "WindowSpec": "analytics.windows",
    "compile_query": "analytics.compiler",
    "load_queries": "analytics.query_files",
    "load_checkpoint": "analytics.checkpoint",
    "load_sources": "analytics.sources",
    "make_operator": "analytics.protocol",
    "outcome_records": "analytics.outputs",
    "replay": "analytics.replay",
    "replay_outcomes": "analytics.replay",
    "save_checkpoint": "analytics.checkpoint",
    "select_queries": "analytics.query_files",
    "windows_of": "analytics.windows",
}

__all__ = [
    "BUILTIN_QUERIES",
    "AnalyticsConfig",
    "AnalyticsEngine",
    "AnalyticsError",
    "BadRecord",
    "BatchOutcome",
    "Checkpoint",
    "CheckpointError",
    "CompiledQuery",
    "Decoder",
    "EtlOperator",
    "EtlPlan",
    "LateEvent",
    "LatestResults",
    "Operator",
    "OutputTopics",
    "PanePlan",
    "QueryError",
    "QueryRunner",
    "ReplayStats",
    "Source",
    "SourceError",
    "WatermarkTracker",
    "WindowOperator",
    "WindowPlan",
    "WindowResult",
    "WindowSpec",
    "compile_query",
    "load_checkpoint",
    "load_queries",
    "load_sources",
    "make_operator",
    "outcome_records",
    "replay",
    "replay_outcomes",
    "save_checkpoint",
    "select_queries",
    "windows_of",
]


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
