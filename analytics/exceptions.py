"""Errors of the ``analytics`` package.

AnalyticsError
├── QueryError           a query file that cannot work (names the file, the line and the reason)
├── QueryDirectoryError  a query directory that is missing or not a directory
├── SourceError          a source definition (sources.toml) that cannot work
├── CheckpointError      a checkpoint that cannot be read back or does not match its query
└── QueryFailed          a query fails on its data in a way no single record explains (it stops)
"""

from __future__ import annotations

from pathlib import Path


class AnalyticsError(Exception):
    """Base of every error the analytics engine reports to its user."""


class QueryError(AnalyticsError):
    """A query file is invalid; raised at load time, before any event is read."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}")


class QueryDirectoryError(AnalyticsError):
    """A directory of query files that was asked for does not exist or is not a directory."""


class SourceError(AnalyticsError):
    """A source in ``sources.toml`` is missing or malformed."""


class CheckpointError(AnalyticsError):
    """A checkpoint file is unreadable or belongs to a different version of the query."""


class QueryFailed(AnalyticsError):
    """A query's SQL failed on a micro-batch, and isolating the records it fails on did not explain the failure
    (an aggregate that overflows only in total, or a query that fails on most records)."""
