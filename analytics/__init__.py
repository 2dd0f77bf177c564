"""Kinesis Data Analytics on DuckDB: event-time SQL windows over Kafka topics, incremental and exactly once."""

from analytics.catalog import BUILTIN_QUERIES, load_catalog, make_operator, select_queries
from analytics.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from analytics.compiler import CompiledQuery, compile_query
from analytics.config import AnalyticsConfig
from analytics.decode import Decoder
from analytics.emissions import BadRecord, BatchOutcome, LateEvent, WindowResult
from analytics.etl import EtlOperator
from analytics.exceptions import AnalyticsError, CheckpointError, QueryError, SourceError
from analytics.operator import WindowOperator
from analytics.outputs import LatestResults, OutputTopics, outcome_records
from analytics.replay import ReplayStats, replay, replay_outcomes
from analytics.runner import AnalyticsEngine, QueryRunner
from analytics.sources import Source, load_sources
from analytics.watermarks import WatermarkTracker
from analytics.windows import WindowSpec, windows_of

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
    "LateEvent",
    "LatestResults",
    "OutputTopics",
    "QueryError",
    "QueryRunner",
    "ReplayStats",
    "Source",
    "SourceError",
    "WatermarkTracker",
    "WindowOperator",
    "WindowResult",
    "WindowSpec",
    "compile_query",
    "load_catalog",
    "load_checkpoint",
    "load_sources",
    "make_operator",
    "outcome_records",
    "replay",
    "replay_outcomes",
    "save_checkpoint",
    "select_queries",
    "windows_of",
]
