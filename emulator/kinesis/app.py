"""The HTTP endpoint: a minimal ASGI app with one route, ``POST /``, dispatching on ``X-Amz-Target``.

Kept below any web framework on purpose: every PutRecords call goes through here, and a framework's routing and
validation would only add work on the hottest path. The app owns the :class:`KinesisService` and the
:class:`FirehoseService` (``Firehose_20150804.*`` targets, same endpoint as on AWS's SDKs when pointed at one URL)
through the ASGI lifespan (``start()`` on startup, ``stop()`` on shutdown).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from emulator.firehose.lake import TableCatalog
from emulator.firehose.service import OPERATIONS as FIREHOSE_OPERATIONS
from emulator.firehose.service import UNSUPPORTED as FIREHOSE_UNSUPPORTED
from emulator.firehose.service import FirehoseService
from emulator.kinesis.admission import InFlightBudget
from emulator.kinesis.config import KinesisSettings
from emulator.kinesis.errors import (
    InternalFailure,
    KinesisError,
    SerializationException,
    UnknownOperationException,
    UnsupportedOperationException,
)
from emulator.kinesis.protocol import JSON, Codec, codec_for
from emulator.kinesis.service import KinesisService
from emulator.kinesis.shapes import (
    AddTagsInput,
    CreateStreamInput,
    DescribeStreamInput,
    GetRecordsInput,
    GetShardIteratorInput,
    ListShardsInput,
    ListStreamsInput,
    ListTagsInput,
    PutRecordInput,
    PutRecordsInput,
    RemoveTagsInput,
    RetentionInput,
    StreamInput,
)
from emulator.kinesis.sigv4 import SignatureVerifier
from emulator.topic_policy import TopicPolicy
from sinks import S3Connection

log = logging.getLogger(__name__)

KINESIS_PREFIX = "Kinesis_20131202."
FIREHOSE_PREFIX = "Firehose_20150804."
#: A 5 MiB PutRecords in base64 JSON plus its envelope; larger bodies are refused before parsing.
MAX_BODY_BYTES = 8 * 1024 * 1024

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

#: Operation → (request shape, service method name).
OPERATIONS: dict[str, tuple[Any, str]] = {
    "CreateStream": (CreateStreamInput, "create_stream"),
    "DeleteStream": (StreamInput, "delete_stream"),
    "DescribeStream": (DescribeStreamInput, "describe_stream"),
    "DescribeStreamSummary": (StreamInput, "describe_stream_summary"),
    "ListStreams": (ListStreamsInput, "list_streams"),
    "ListShards": (ListShardsInput, "list_shards"),
    "PutRecord": (PutRecordInput, "put_record"),
    "PutRecords": (PutRecordsInput, "put_records"),
    "GetShardIterator": (GetShardIteratorInput, "get_shard_iterator"),
    "GetRecords": (GetRecordsInput, "get_records"),
    "IncreaseStreamRetentionPeriod": (RetentionInput, "increase_stream_retention_period"),
    "DecreaseStreamRetentionPeriod": (RetentionInput, "decrease_stream_retention_period"),
    "AddTagsToStream": (AddTagsInput, "add_tags_to_stream"),
    "ListTagsForStream": (ListTagsInput, "list_tags_for_stream"),
    "RemoveTagsFromStream": (RemoveTagsInput, "remove_tags_from_stream"),
}

#: Real Kinesis operations answered with UnsupportedOperationException (so callers learn it is us, not them).
UNSUPPORTED = frozenset(
    {
        "DeleteResourcePolicy",
        "DeregisterStreamConsumer",
        "DescribeLimits",
        "DescribeStreamConsumer",
        "DisableEnhancedMonitoring",
        "EnableEnhancedMonitoring",
        "GetResourcePolicy",
        "ListStreamConsumers",
        "ListTagsForResource",
        "MergeShards",
        "PutResourcePolicy",
        "RegisterStreamConsumer",
        "SplitShard",
        "StartStreamEncryption",
        "StopStreamEncryption",
        "SubscribeToShard",
        "TagResource",
        "UntagResource",
        "UpdateShardCount",
        "UpdateStreamMode",
        "DescribeAccountSettings",
        "UpdateAccountSettings",
        "UpdateMaxRecordSize",
        "UpdateStreamWarmThroughput",
    }
)


class JsonService(Protocol):
    """Another AWS JSON 1.1 API served on this endpoint (Glue, Athena): its ``X-Amz-Target`` prefix, its SigV4
    service name, its operations, and one call per request with the decoded body."""

    prefix: str
    signing_name: str

    def operations(self) -> frozenset[str]: ...

    def rest_operation(self, method: str, path: str, query: str) -> tuple[str, dict[str, Any]] | None:
        """The operation and path/query members of a REST-JSON request, or None when it is not this service's."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]: ...


class KinesisApp:
    """ASGI application serving the Kinesis Data Streams API from one :class:`KinesisService`."""

    def __init__(
        self,
        settings: KinesisSettings,
        bootstrap_servers: str,
        s3: S3Connection | None = None,
        services: Sequence[JsonService] = (),
        tables: TableCatalog | None = None,
    ) -> None:
        self._settings = settings
        self._services = tuple(services)
        self._tables = tables
        self._bootstrap = bootstrap_servers
        self._s3 = s3
        self._service: KinesisService | None = None
        self._firehose: FirehoseService | None = None
        # One rule for both APIs: each also seals the other's metadata topic.
        self._policy = TopicPolicy.of(
            settings.metadata_topic, settings.firehose.metadata_topic, settings.glue.catalog_topic
        )
        # One budget for both: together they load the same broker.
        self._budget = InFlightBudget(settings.in_flight.records, settings.in_flight.bytes)
        verify = settings.verify_signatures
        if verify and not (settings.access_key_id and settings.secret_access_key):
            raise ValueError("verify_signatures needs access_key_id and secret_access_key")
        self._verifier = (
            SignatureVerifier(settings.access_key_id or "", settings.secret_access_key.get_secret_value())
            if verify and settings.secret_access_key is not None
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        codec: Codec = codec_for(headers.get("content-type", "")) or JSON
        status, body = await self._handle(scope, receive, headers, codec)
        request_id = str(uuid.uuid4())
        response_headers = [
            (b"content-type", codec.content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-amzn-requestid", request_id.encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: Scope, receive: Receive, headers: dict[str, str], codec: Codec) -> tuple[int, bytes]:
        try:
            if "x-amz-target" not in headers:
                for rest_service in self._services:
                    query = scope.get("query_string", b"").decode("latin-1")
                    found = rest_service.rest_operation(scope["method"], scope["path"], query)
                    if found is not None:
                        return await self._rest(scope, receive, headers, rest_service, *found)
            if scope["method"] != "POST":
                raise UnknownOperationException("Only POST requests are served; the operation is in X-Amz-Target.")
            if codec_for(headers.get("content-type", "")) is None:
                raise SerializationException(
                    "Content-Type must be application/x-amz-json-1.1 or application/x-amz-cbor-1.1."
                )
            body = await _read_body(receive)
            target = headers.get("x-amz-target", "")
            other = next((s for s in self._services if target.startswith(s.prefix)), None)
            if self._verifier is not None:
                query = scope.get("query_string", b"").decode("latin-1")
                path = scope.get("raw_path", b"/").decode("latin-1").split("?")[0]
                service = "firehose" if target.startswith(FIREHOSE_PREFIX) else "kinesis"
                self._verifier.verify("POST", path, query, headers, body, other.signing_name if other else service)
            if other is not None:
                operation = target[len(other.prefix) :]
                if operation not in other.operations():
                    raise UnknownOperationException(f"Unknown operation {target!r}.")
                return 200, codec.encode(await other.call(operation, codec.decode(body)))
            shape, service, method = self._route(target)
            request = shape.parse(codec.decode(body), codec)
            response = await getattr(service, method)(request)
            return 200, codec.encode(response)
        except KinesisError as error:
            return error.status, codec.encode(error.body())
        except Exception:
            log.exception("unexpected error serving %s", headers.get("x-amz-target"))
            return 500, codec.encode(InternalFailure("Internal service failure.").body())

    async def _rest(
        self,
        scope: Scope,
        receive: Receive,
        headers: dict[str, str],
        service: JsonService,
        operation: str,
        members: dict[str, Any],
    ) -> tuple[int, bytes]:
        """A REST-JSON request of ``service`` (Athena's current binding): path and query members over the body's."""
        body = await _read_body(receive)
        if self._verifier is not None:
            query = scope.get("query_string", b"").decode("latin-1")
            path = scope.get("raw_path", b"/").decode("latin-1").split("?")[0]
            self._verifier.verify(scope["method"], path, query, headers, body, service.signing_name)
        return 200, JSON.encode(await service.call(operation, {**JSON.decode(body), **members}))

    @property
    def service(self) -> KinesisService:
        """The service, created on ASGI startup (aiokafka clients must be made inside the running loop)."""
        if self._service is None:
            raise InternalFailure("The Kinesis API is not started.")
        return self._service

    @property
    def firehose(self) -> FirehoseService:
        """The Firehose service, created on ASGI startup beside the Kinesis one."""
        if self._firehose is None:
            raise InternalFailure("The Firehose API is not started.")
        return self._firehose

    def _route(self, target: str) -> tuple[Any, Any, str]:
        if target.startswith(KINESIS_PREFIX):
            operation = target[len(KINESIS_PREFIX) :]
            if operation in OPERATIONS:
                shape, method = OPERATIONS[operation]
                return shape, self.service, method
            if operation in UNSUPPORTED:
                raise UnsupportedOperationException(
                    f"Kinesis operation {operation} is not supported by this emulator (kemu). Supported: "
                    f"{', '.join(sorted(OPERATIONS))}."
                )
        if target.startswith(FIREHOSE_PREFIX):
            operation = target[len(FIREHOSE_PREFIX) :]
            if operation in FIREHOSE_OPERATIONS:
                shape, method = FIREHOSE_OPERATIONS[operation]
                return shape, self.firehose, method
            if operation in FIREHOSE_UNSUPPORTED:
                raise UnsupportedOperationException(
                    f"Firehose operation {operation} is not supported by this emulator (kemu). Supported: "
                    f"{', '.join(sorted(FIREHOSE_OPERATIONS))}."
                )
        raise UnknownOperationException(f"Unknown operation {target!r}.")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self._service = KinesisService(
                        self._settings, self._bootstrap, policy=self._policy, budget=self._budget
                    )
                    await self._service.start()
                    for other in self._services:
                        await other.start()
                    self._firehose = FirehoseService(
                        self._settings.firehose,
                        self._bootstrap,
                        self._s3,
                        region=self._settings.region,
                        account_id=self._settings.account_id,
                        policy=self._policy,
                        budget=self._budget,
                        tables=self._tables,
                    )
                    await self._firehose.start()
                except Exception as exc:
                    log.exception("the Kinesis API could not connect to Kafka")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Firehose first: its last writes register their objects in the catalog.
                if self._firehose is not None:
                    await self._firehose.stop()
                for other in reversed(self._services):
                    await other.stop()
                if self._service is not None:
                    await self._service.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise SerializationException(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def create_app(
    settings: KinesisSettings,
    bootstrap_servers: str,
    s3: S3Connection | None = None,
    services: Sequence[JsonService] = (),
    tables: TableCatalog | None = None,
) -> KinesisApp:
    """The ASGI app for ``settings``, talking to the Kafka cluster at ``bootstrap_servers``; Firehose delivery
    streams write to ``s3`` (without it, CreateDeliveryStream says that no S3 target is configured); ``services``
    are the other JSON APIs of the endpoint (Glue, Athena), started before Firehose (which reads ``tables``, the
    catalog, as it starts delivering) and stopped after it."""
    return KinesisApp(settings, bootstrap_servers, s3, services, tables)
