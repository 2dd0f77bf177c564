"""The Glue API on the endpoint: ``AWSGlue.<Operation>`` targets, each request body read into the arguments of one
:class:`GlueCatalog` or :class:`Crawlers` method."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from emulator.config.glue import GlueSettings
from emulator.glue.crawlers import Crawlers
from emulator.glue.errors import InvalidInputException
from emulator.glue.service import GlueCatalog
from emulator.glue.store import CatalogStore
from emulator.glue.wire import opt_int, opt_list, opt_map, opt_str, req_str
from emulator.lake.objects import arrow_s3
from sinks import S3Connection

log = logging.getLogger(__name__)

PREFIX = "AWSGlue."
SIGNING_NAME = "glue"
DEFAULT_PAGE = 100

Handler = Callable[["GlueApi", dict[str, Any]], Awaitable[dict[str, Any]]]


def _db(body: dict[str, Any]) -> str:
    return req_str(body, "DatabaseName", max_len=255)


def _table(body: dict[str, Any], key: str = "TableName") -> str:
    return req_str(body, key, max_len=255)


def _limit(body: dict[str, Any], high: int = 1000) -> int:
    return opt_int(body, "MaxResults", low=1, high=high) or DEFAULT_PAGE


def _token(body: dict[str, Any]) -> str | None:
    return opt_str(body, "NextToken", min_len=0, max_len=4096) or None


def _segment(body: dict[str, Any]) -> tuple[int, int] | None:
    segment = opt_map(body, "Segment")
    if segment is None:
        return None
    total = opt_int(segment, "TotalSegments", low=1, high=10) or 1
    number = opt_int(segment, "SegmentNumber", low=0) or 0
    if number >= total:
        raise InvalidInputException("Segment.SegmentNumber must be below Segment.TotalSegments.")
    return number, total


OPERATIONS: dict[str, Handler] = {
    "CreateDatabase": lambda a, b: a.catalog.create_database(b.get("DatabaseInput")),
    "GetDatabase": lambda a, b: a.catalog.get_database(req_str(b, "Name", max_len=255)),
    "GetDatabases": lambda a, b: a.catalog.get_databases(_token(b), _limit(b)),
    "UpdateDatabase": lambda a, b: a.catalog.update_database(req_str(b, "Name", max_len=255), b.get("DatabaseInput")),
    "DeleteDatabase": lambda a, b: a.catalog.delete_database(req_str(b, "Name", max_len=255)),
    "CreateTable": lambda a, b: a.catalog.create_table(_db(b), b.get("TableInput")),
    "GetTable": lambda a, b: a.catalog.get_table(_db(b), _table(b, "Name")),
    "GetTables": lambda a, b: a.catalog.get_tables(
        _db(b), opt_str(b, "Expression", min_len=0, max_len=2048), _token(b), _limit(b)
    ),
    "UpdateTable": lambda a, b: a.catalog.update_table(_db(b), b.get("TableInput")),
    "DeleteTable": lambda a, b: a.catalog.delete_table(_db(b), _table(b, "Name")),
    "BatchDeleteTable": lambda a, b: a.catalog.batch_delete_table(_db(b), _strings(b, "TablesToDelete")),
    "CreatePartition": lambda a, b: a.catalog.create_partition(_db(b), _table(b), b.get("PartitionInput")),
    "BatchCreatePartition": lambda a, b: a.catalog.batch_create_partition(
        _db(b), _table(b), opt_list(b, "PartitionInputList") or []
    ),
    "GetPartition": lambda a, b: a.catalog.get_partition(_db(b), _table(b), b.get("PartitionValues")),
    "GetPartitions": lambda a, b: a.catalog.get_partitions(
        _db(b),
        _table(b),
        opt_str(b, "Expression", min_len=0, max_len=2048),
        _token(b),
        _limit(b),
        _segment(b),
        b.get("ExcludeColumnSchema") is True,
    ),
    "BatchGetPartition": lambda a, b: a.catalog.batch_get_partition(
        _db(b), _table(b), opt_list(b, "PartitionsToGet") or []
    ),
    "UpdatePartition": lambda a, b: a.catalog.update_partition(
        _db(b), _table(b), b.get("PartitionValueList"), b.get("PartitionInput")
    ),
    "DeletePartition": lambda a, b: a.catalog.delete_partition(_db(b), _table(b), b.get("PartitionValues")),
    "BatchDeletePartition": lambda a, b: a.catalog.batch_delete_partition(
        _db(b), _table(b), opt_list(b, "PartitionsToDelete") or []
    ),
    "CreateCrawler": lambda a, b: a.crawlers.create_crawler(b),
    "UpdateCrawler": lambda a, b: a.crawlers.update_crawler(b),
    "DeleteCrawler": lambda a, b: a.crawlers.delete_crawler(b.get("Name")),
    "GetCrawler": lambda a, b: a.crawlers.get_crawler(b.get("Name")),
    "GetCrawlers": lambda a, b: a.crawlers.get_crawlers(_token(b), _limit(b)),
    "ListCrawlers": lambda a, b: a.crawlers.list_crawlers(_token(b), _limit(b)),
    "GetCrawlerMetrics": lambda a, b: a.crawlers.get_crawler_metrics(_strings(b, "CrawlerNameList") or None),
    "StartCrawler": lambda a, b: a.crawlers.start_crawler(b.get("Name")),
    "StopCrawler": lambda a, b: a.crawlers.stop_crawler(b.get("Name")),
}


def _strings(body: dict[str, Any], key: str) -> list[str]:
    values = opt_list(body, key) or []
    if not all(isinstance(v, str) for v in values):
        raise InvalidInputException(f"{key} must be a list of strings.")
    return values


class GlueApi:
    """The Glue Data Catalog of one endpoint: its store, the catalog operations and the crawlers."""

    prefix = PREFIX
    signing_name = SIGNING_NAME
    name = "glue"
    catalog: GlueCatalog
    crawlers: Crawlers

    def __init__(
        self, settings: GlueSettings, bootstrap_servers: str, s3: S3Connection | None, account_id: str
    ) -> None:
        self.store = CatalogStore(bootstrap_servers, settings.catalog_topic)
        self.catalog = GlueCatalog(self.store, account_id)
        self.crawlers = Crawlers(self.catalog, arrow_s3(s3) if s3 is not None and s3.endpoint_url else None)

    def operations(self) -> frozenset[str]:
        return frozenset(OPERATIONS)

    def rest_operation(self, method: str, path: str, query: str) -> tuple[str, dict[str, Any]] | None:
        """Glue speaks JSON 1.1 only."""
        return None

    async def start(self) -> None:
        await self.store.start()

    async def stop(self) -> None:
        await self.crawlers.stop()
        await self.store.stop()

    async def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """Serve ``operation`` (a name from :meth:`operations`) with ``body``."""
        return await OPERATIONS[operation](self, body)
