"""The Athena API on the endpoint: ``AmazonAthena.<Operation>`` targets, each request body read into the
arguments of one :class:`AthenaService` method."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from emulator.athena.errors import InvalidRequestException
from emulator.athena.rest import rest_operation
from emulator.athena.runner import QueryRunner
from emulator.athena.service import AthenaService, CatalogReader
from emulator.athena.statements import MAX_QUERY_CHARS
from emulator.athena.wire import opt_int, opt_list, opt_map, opt_str, req_str
from emulator.config.athena import AthenaSettings

PREFIX = "AmazonAthena."
SIGNING_NAME = "athena"

Handler = Callable[["AthenaApi", dict[str, Any]], Awaitable[dict[str, Any]]]


def _start(api: AthenaApi, body: dict[str, Any]) -> Awaitable[dict[str, Any]]:
    context = opt_map(body, "QueryExecutionContext") or {}
    result = opt_map(body, "ResultConfiguration") or {}
    if opt_list(body, "ExecutionParameters"):
        raise InvalidRequestException("ExecutionParameters are not supported: put the values in the query.")
    return api.service.start_query_execution(
        req_str(body, "QueryString", max_len=MAX_QUERY_CHARS),
        opt_str(context, "Database", max_len=255),
        opt_str(context, "Catalog", max_len=256),
        opt_str(result, "OutputLocation", max_len=1024),
        opt_str(body, "WorkGroup", max_len=128),
        opt_str(body, "ClientRequestToken", min_len=32, max_len=128),
    )


def _id(body: dict[str, Any]) -> str:
    return req_str(body, "QueryExecutionId", max_len=128)


def _ids(body: dict[str, Any]) -> list[str]:
    ids = opt_list(body, "QueryExecutionIds") or []
    if not all(isinstance(i, str) for i in ids) or not 1 <= len(ids) <= 50:
        raise InvalidRequestException("QueryExecutionIds must list 1 to 50 ids.")
    return ids


OPERATIONS: dict[str, Handler] = {
    "StartQueryExecution": _start,
    "GetQueryExecution": lambda a, b: a.service.get_query_execution(_id(b)),
    "BatchGetQueryExecution": lambda a, b: a.service.batch_get_query_execution(_ids(b)),
    "GetQueryResults": lambda a, b: a.service.get_query_results(
        _id(b), opt_str(b, "NextToken", max_len=1024), opt_int(b, "MaxResults", low=1, high=1000) or 1000
    ),
    "ListQueryExecutions": lambda a, b: a.service.list_query_executions(
        opt_str(b, "WorkGroup", max_len=128),
        opt_str(b, "NextToken", max_len=1024),
        opt_int(b, "MaxResults", low=0, high=50) or 50,
    ),
    "StopQueryExecution": lambda a, b: a.service.stop_query_execution(_id(b)),
    "GetWorkGroup": lambda a, b: a.service.get_work_group(req_str(b, "WorkGroup", max_len=128)),
    "ListWorkGroups": lambda a, b: a.service.list_work_groups(),
}


class AthenaApi:
    """Athena on one endpoint, reading tables through ``catalog`` and S3 through ``s3`` (pyarrow's filesystem)."""

    prefix = PREFIX
    signing_name = SIGNING_NAME
    name = "athena"
    service: AthenaService

    def __init__(
        self, settings: AthenaSettings, catalog: CatalogReader, s3: Any | None, default_output: str | None
    ) -> None:
        runner = QueryRunner(catalog, s3, settings.memory_limit, settings.threads)
        self.service = AthenaService(settings, runner, default_output)

    def operations(self) -> frozenset[str]:
        return frozenset(OPERATIONS)

    def rest_operation(self, method: str, path: str, query: str) -> tuple[str, dict[str, Any]] | None:
        """The operation of a REST-JSON request (botocore's current Athena binding), or None."""
        return rest_operation(method, path, query)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.service.stop()

    async def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        return await OPERATIONS[operation](self, body)
