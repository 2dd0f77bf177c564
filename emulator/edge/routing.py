"""Which service a request on the edge port is for, decided from the request line and headers alone (pure).

AWS SDKs pointed at one endpoint (``AWS_ENDPOINT_URL``) send every service there. The AWS JSON protocols (Kinesis,
Firehose) always carry ``X-Amz-Target`` and POST to ``/``; S3 is REST, addressed by path, and its signature's
credential scope names ``s3``. Anything else that POSTs to ``/`` stays with the JSON protocols, so malformed calls
there keep getting their AWS-shaped JSON errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from urllib.parse import parse_qsl

#: ``/_localstack/health`` is what CI scripts and compose health checks written for LocalStack already poll.
HEALTH_PATHS = frozenset({"/_kemu/health", "/_localstack/health"})

_SCOPE_SERVICE = re.compile(r"Credential=[^/,\s]*/\d{8}/[^/,\s]+/(?P<service>[^/,\s]+)/aws4_request")


class Route(Enum):
    HEALTH = "health"
    S3 = "s3"
    AWS_JSON = "aws-json"


def signing_service(headers: Mapping[str, str], query: str) -> str | None:
    """The service named in the request's SigV4 credential scope (header or presigned query), if signed."""
    authorization = headers.get("authorization", "")
    match = _SCOPE_SERVICE.search(authorization)
    if match is not None:
        return match["service"]
    if "X-Amz-Credential" in query:
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key == "X-Amz-Credential":
                parts = value.split("/")
                return parts[3] if len(parts) == 5 else None
    return None


def route_of(method: str, path: str, headers: Mapping[str, str], query: str) -> Route:
    """Where a request goes; ``headers`` have lower-case names."""
    if path in HEALTH_PATHS and method in ("GET", "HEAD"):
        return Route.HEALTH
    if "x-amz-target" in headers:
        return Route.AWS_JSON
    if method == "OPTIONS" and "x-amz-target" in headers.get("access-control-request-headers", "").lower():
        return Route.AWS_JSON  # a browser's preflight of a JSON-protocol call (it names the header it will send)
    service = signing_service(headers, query)
    if service == "s3":
        return Route.S3
    if service is not None or (method == "POST" and path == "/"):
        return Route.AWS_JSON
    return Route.S3
