"""Athena's REST-JSON binding (pure): which operation a method and path are, and the members they carry.

botocore's current model of Athena is REST-JSON (``POST /query-executions``, ``GET /query-executions/{id}``...),
while older SDKs send the same operations as JSON 1.1 with ``X-Amz-Target: AmazonAthena.<Operation>``; kemu serves
both, and both end in the same operation methods with the same members.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote

_ID = r"(?P<QueryExecutionId>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"/query-executions"), "StartQueryExecution"),
    ("GET", re.compile(r"/query-executions"), "ListQueryExecutions"),
    ("GET", re.compile(rf"/query-executions/{_ID}"), "GetQueryExecution"),
    ("GET", re.compile(rf"/query-executions/{_ID}/results"), "GetQueryResults"),
    ("POST", re.compile(rf"/query-executions/{_ID}/stop"), "StopQueryExecution"),
    ("POST", re.compile(r"/batch-get-query-executions"), "BatchGetQueryExecution"),
    ("GET", re.compile(r"/workgroups"), "ListWorkGroups"),
    ("GET", re.compile(r"/workgroups/(?P<WorkGroup>[^/]+)"), "GetWorkGroup"),
]
#: Query-string members and their types.
_QUERY = {"NextToken": str, "MaxResults": int, "WorkGroup": str, "QueryResultType": str}


def rest_operation(method: str, path: str, query: str) -> tuple[str, dict[str, Any]] | None:
    """The operation of a REST-JSON request and the members its path and query string carry, or None."""
    for verb, pattern, operation in _ROUTES:
        match = pattern.fullmatch(path.rstrip("/") or "/")
        if verb == method and match is not None:
            members: dict[str, Any] = {k: unquote(v) for k, v in match.groupdict().items()}
            for key, value in parse_qsl(query, keep_blank_values=False):
                kind = _QUERY.get(key)
                if kind is int:
                    members[key] = int(value) if value.isdigit() else value
                elif kind is str:
                    members[key] = value
            return operation, members
    return None
