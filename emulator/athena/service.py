"""Athena's query executions: queued, run by DuckDB in a worker thread, results kept and written to S3.

A query names catalog tables; :class:`CatalogReader` (wired by the endpoint to the Glue catalog) turns each into
its location, columns and partitions, and :mod:`emulator.athena.engine` makes them views over their files. Results
are written to ``<OutputLocation><id>.csv`` with ``<id>.csv.metadata`` beside (the column info as JSON; Athena's
own metadata file is binary and undocumented), and served by GetQueryResults from memory, or from that file once
the memory budget has moved on to newer results.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from emulator.athena.errors import InvalidRequestException, QueryFailed, TooManyRequestsException
from emulator.athena.results import ColumnInfo, result_page
from emulator.athena.runner import Outcome, QueryRunner
from emulator.athena.statements import Statement
from emulator.athena.wire import Timestamp
from emulator.config.athena import AthenaSettings
from emulator.lake.objects import Location, LocationError
from emulator.lake.tables import ResolvedTable
from foundation.clock import now_ms

log = logging.getLogger(__name__)

#: Rows of results kept in memory over all executions; older results are read back from their CSV file.
ROWS_IN_MEMORY = 2_000_000
DEFAULT_CATALOG = "AwsDataCatalog"
PRIMARY = "primary"


class CatalogReader(Protocol):
    """What Athena needs of the data catalog."""

    def resolve(self, database: str, table: str) -> ResolvedTable | None: ...

    def database_names(self) -> list[str]: ...

    def table_names(self, database: str) -> list[str] | None: ...

    async def register_table(self, table: ResolvedTable, parameters: dict[str, str]) -> None: ...


@dataclass
class Execution:
    id: str
    query: str
    database: str
    catalog: str
    workgroup: str
    output_prefix: str
    submitted_ms: int
    state: str = "QUEUED"
    reason: str | None = None
    category: int | None = None
    statement_type: str = "DML"
    completed_ms: int | None = None
    started_ms: int | None = None
    scanned_bytes: int = 0
    columns: list[ColumnInfo] = field(default_factory=list)
    rows: list[list[str | None]] | None = None
    row_count: int = 0
    manifest: str | None = None
    result_location: str | None = None
    task: asyncio.Task[None] | None = None
    with_header: bool = True


class AthenaService:
    """The query executions of one endpoint."""

    def __init__(self, settings: AthenaSettings, runner: QueryRunner, default_output: str | None) -> None:
        self.settings = settings
        self._runner = runner
        self._default_output = settings.output_location or default_output
        self._executions: OrderedDict[str, Execution] = OrderedDict()
        self._slots = asyncio.Semaphore(settings.concurrent_queries)
        self._tokens: dict[str, str] = {}
        self.created_ms = now_ms()

    async def stop(self) -> None:
        tasks = [e.task for e in self._executions.values() if e.task is not None and not e.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _get(self, execution_id: str) -> Execution:
        found = self._executions.get(execution_id)
        if found is None:
            raise InvalidRequestException(f"QueryExecution {execution_id} was not found")
        return found

    # --- operations ---------------------------------------------------------------------------------------------

    async def start_query_execution(
        self,
        query: str,
        database: str | None,
        catalog: str | None,
        output_location: str | None,
        workgroup: str | None,
        token: str | None,
    ) -> dict[str, Any]:
        if token is not None and token in self._tokens and self._tokens[token] in self._executions:
            return {"QueryExecutionId": self._tokens[token]}
        group = workgroup or PRIMARY
        if group != PRIMARY:
            raise InvalidRequestException(f"WorkGroup {group} is not found (kemu has the work group 'primary').")
        output = output_location or self._default_output
        if output is None:
            raise InvalidRequestException(
                "No output location provided. An output location is required either through the Workgroup result "
                "configuration setting or as an API input."
            )
        try:
            prefix = Location.parse(output).uri
        except LocationError as exc:
            raise InvalidRequestException(f"OutputLocation: {exc}") from None
        queued = sum(1 for e in self._executions.values() if e.state == "QUEUED")
        if queued >= self.settings.queued_queries:
            raise TooManyRequestsException(f"{queued} queries are queued already; retry when some have finished.")
        execution = Execution(
            id=str(uuid.uuid4()), query=query, database=(database or "default").lower(),
            catalog=catalog or DEFAULT_CATALOG, workgroup=group, output_prefix=prefix, submitted_ms=now_ms(),
        )  # fmt: skip
        if token is not None:
            self._tokens[token] = execution.id
        self._executions[execution.id] = execution
        self._forget_old()
        execution.task = asyncio.create_task(self._run(execution), name=f"athena-{execution.id}")
        return {"QueryExecutionId": execution.id}

    async def get_query_execution(self, execution_id: str) -> dict[str, Any]:
        return {"QueryExecution": self.render(self._get(execution_id))}

    async def batch_get_query_execution(self, ids: list[str]) -> dict[str, Any]:
        found = [self.render(self._executions[i]) for i in ids if i in self._executions]
        missing = [
            {"QueryExecutionId": i, "ErrorCode": "INVALID_INPUT", "ErrorMessage": "not found"}
            for i in ids
            if i not in self._executions
        ]
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    async def list_query_executions(self, workgroup: str | None, token: str | None, limit: int) -> dict[str, Any]:
        ids = [e.id for e in reversed(self._executions.values()) if workgroup in (None, e.workgroup)]
        start = 0
        if token is not None:
            if token not in ids:
                raise InvalidRequestException("NextToken is not a token this endpoint gave; start again without it.")
            start = ids.index(token)
        chosen = ids[start : start + limit]
        out: dict[str, Any] = {"QueryExecutionIds": chosen}
        if start + limit < len(ids):
            out["NextToken"] = ids[start + limit]
        return out

    async def stop_query_execution(self, execution_id: str) -> dict[str, Any]:
        execution = self._get(execution_id)
        if execution.state in ("QUEUED", "RUNNING") and execution.task is not None:
            execution.task.cancel()
        return {}

    async def get_query_results(self, execution_id: str, token: str | None, limit: int) -> dict[str, Any]:
        execution = self._get(execution_id)
        if execution.state != "SUCCEEDED":
            reason = f": {execution.reason}" if execution.reason else ""
            raise InvalidRequestException(
                f"Query has not yet finished. Current state: {execution.state}{reason}"
                if execution.state in ("QUEUED", "RUNNING")
                else f"Query did not succeed. Current state: {execution.state}{reason}"
            )
        start = 0
        if token is not None:
            try:
                start = int(token)
            except ValueError:
                raise InvalidRequestException("NextToken is not a token this endpoint gave.") from None
        rows = execution.rows
        if rows is None:
            rows = await self._runner.read_back(execution.result_location or "")
        page, next_start = result_page(execution.columns, rows, start, limit, execution.with_header)
        out: dict[str, Any] = {"UpdateCount": 0, "ResultSet": page}
        if next_start is not None:
            out["NextToken"] = str(next_start)
        return out

    def render(self, execution: Execution) -> dict[str, Any]:
        status: dict[str, Any] = {"State": execution.state, "SubmissionDateTime": Timestamp(execution.submitted_ms)}
        if execution.completed_ms is not None:
            status["CompletionDateTime"] = Timestamp(execution.completed_ms)
        if execution.reason is not None:
            status["StateChangeReason"] = execution.reason
            status["AthenaError"] = {
                "ErrorCategory": execution.category or 2,
                "ErrorType": 1000 if (execution.category or 2) == 2 else 401,
                "Retryable": False,
                "ErrorMessage": execution.reason,
            }
        engine = (execution.completed_ms or now_ms()) - execution.started_ms if execution.started_ms is not None else 0
        total = (execution.completed_ms or now_ms()) - execution.submitted_ms
        statistics: dict[str, Any] = {
            "EngineExecutionTimeInMillis": engine,
            "DataScannedInBytes": execution.scanned_bytes,
            "TotalExecutionTimeInMillis": total,
            "QueryQueueTimeInMillis": max(0, total - engine),
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": 0,
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        }
        if execution.manifest is not None:
            statistics["DataManifestLocation"] = execution.manifest
        result: dict[str, Any] = {
            "OutputLocation": execution.result_location or f"{execution.output_prefix}{execution.id}.csv"
        }
        return {
            "QueryExecutionId": execution.id,
            "Query": execution.query,
            "StatementType": execution.statement_type,
            "ResultConfiguration": result,
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": {"Database": execution.database, "Catalog": execution.catalog},
            "Status": status,
            "Statistics": statistics,
            "WorkGroup": execution.workgroup,
            "EngineVersion": {
                "SelectedEngineVersion": "AUTO",
                "EffectiveEngineVersion": "Athena engine version 3",
            },
            "SubstatementType": "SELECT" if execution.statement_type == "DML" else execution.statement_type,
        }

    async def get_work_group(self, name: str) -> dict[str, Any]:
        if name != PRIMARY:
            raise InvalidRequestException(f"WorkGroup {name} is not found.")
        configuration: dict[str, Any] = {
            "EnforceWorkGroupConfiguration": False,
            "PublishCloudWatchMetricsEnabled": False,
            "RequesterPaysEnabled": False,
            "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"},
        }
        if self._default_output is not None:
            configuration["ResultConfiguration"] = {"OutputLocation": self._default_output}
        return {
            "WorkGroup": {
                "Name": PRIMARY,
                "State": "ENABLED",
                "Configuration": configuration,
                "Description": "kemu's only work group",
                "CreationTime": Timestamp(self.created_ms),
            }
        }

    async def list_work_groups(self) -> dict[str, Any]:
        return {
            "WorkGroups": [
                {
                    "Name": PRIMARY,
                    "State": "ENABLED",
                    "Description": "kemu's only work group",
                    "CreationTime": Timestamp(self.created_ms),
                }
            ]
        }

    # --- running ------------------------------------------------------------------------------------------------

    async def _run(self, execution: Execution) -> None:
        try:
            async with self._slots:
                execution.state, execution.started_ms = "RUNNING", now_ms()
                outcome = await asyncio.wait_for(
                    self._runner.run(execution.id, execution.query, execution.database, execution.output_prefix),
                    timeout=self.settings.timeout_s,
                )
            self._finish(execution, outcome)
        except asyncio.CancelledError:
            execution.state, execution.reason = "CANCELLED", "Query was cancelled by the user"
            execution.category = 2
        except TimeoutError:
            execution.state, execution.category = "FAILED", 1
            execution.reason = f"Query exhausted resources at this scale factor: it ran longer than " \
                f"{self.settings.timeout_s:.0f} s"  # fmt: skip
        except QueryFailed as exc:
            execution.state, execution.reason, execution.category = "FAILED", exc.message, exc.category
        except Exception as exc:
            log.exception("query %s failed unexpectedly", execution.id)
            execution.state, execution.reason, execution.category = "FAILED", f"Internal error: {exc}", 1
        finally:
            execution.completed_ms = now_ms()

    def _finish(self, execution: Execution, outcome: Outcome) -> None:
        execution.columns = outcome.columns
        execution.rows = outcome.rows
        execution.row_count = len(outcome.rows)
        execution.scanned_bytes = outcome.scanned_bytes
        execution.statement_type = outcome.statement_type
        execution.manifest = outcome.manifest
        execution.result_location = outcome.result_location
        execution.with_header = outcome.with_header
        execution.state = "SUCCEEDED"
        self._trim_memory()

    def _trim_memory(self) -> None:
        kept = 0
        for execution in reversed(self._executions.values()):
            if execution.rows is None:
                continue
            kept += len(execution.rows)
            if kept > ROWS_IN_MEMORY and execution.result_location is not None:
                execution.rows = None

    def _forget_old(self) -> None:
        while len(self._executions) > self.settings.history:
            oldest_id, oldest = next(iter(self._executions.items()))
            if oldest.state in ("QUEUED", "RUNNING"):
                break
            del self._executions[oldest_id]


def statement_summary(statement: Statement) -> str:
    return orjson.dumps({"kind": statement.kind, "database": statement.database, "table": statement.table}).decode()
