"""Settings of the Athena API served on the edge endpoint (``Settings.kinesis.athena``; env
``KEMU_KINESIS__ATHENA__*``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AthenaSettings(BaseModel):
    """How queries run: how many at once, with how much memory, and where results go by default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Where results go when neither the request nor the work group says (``s3://<bucket>/athena-results/`` of the
    #: configured bucket when empty).
    output_location: str | None = Field(default=None, pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
    #: Queries running at once; more wait QUEUED.
    concurrent_queries: int = Field(default=2, ge=1, le=16)
    #: Queries waiting, at most; beyond, StartQueryExecution answers TooManyRequestsException.
    queued_queries: int = Field(default=100, ge=1)
    #: DuckDB's memory limit and threads per query.
    memory_limit: str = Field(default="2GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$")
    threads: int = Field(default=2, ge=1, le=64)
    #: A query running longer is cancelled (Athena's default is 30 minutes).
    timeout_s: float = Field(default=1800.0, gt=0)
    #: Executions remembered for GetQueryExecution / ListQueryExecutions (oldest forgotten first).
    history: int = Field(default=1000, ge=10)
