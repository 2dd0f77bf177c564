"""Crawlers: definitions kept in the catalog's topic, runs as tasks of the process that started them.

A run crawls each S3 target into a table of the crawler's database (:func:`emulator.glue.crawl.crawl_path`); its
state (READY, RUNNING, STOPPING), last crawl and metrics are in memory of that process, as a crawl is a job, not a
definition. What changed (tables created or updated, partitions added, columns added or widened, objects left out)
is in GetCrawlerMetrics, in the last crawl's message, and logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from emulator.glue.crawl import CrawlReport, crawl_path
from emulator.glue.errors import (
    AlreadyExistsException,
    CrawlerNotRunningException,
    CrawlerRunningException,
    EntityNotFoundException,
    InvalidInputException,
)
from emulator.glue.model import table_name
from emulator.glue.paging import page
from emulator.glue.service import GlueCatalog
from emulator.glue.store import crawler_key
from emulator.glue.wire import Timestamp
from emulator.lake.objects import Location, LocationError
from foundation.clock import now_ms

log = logging.getLogger(__name__)


@dataclass
class CrawlerRun:
    """The in-memory side of a crawler: its state and what its runs did."""

    state: str = "READY"
    task: asyncio.Task[None] | None = None
    last_status: str | None = None
    last_error: str | None = None
    last_start_ms: int | None = None
    last_message: str | None = None
    runtimes: list[float] = field(default_factory=list)
    reports: list[CrawlReport] = field(default_factory=list)
    tables_created: int = 0
    tables_updated: int = 0


def parse_crawler(body: dict[str, Any]) -> dict[str, Any]:
    """A CreateCrawler request reduced to what kemu uses and echoes back; InvalidInputException when unusable."""
    name = body.get("Name")
    if not isinstance(name, str) or not 1 <= len(name) <= 255 or any(ord(c) < 0x20 for c in name) or "/" in name:
        raise InvalidInputException("Name must be 1 to 255 characters, without '/' or control characters.")
    database = body.get("DatabaseName")
    if not isinstance(database, str):
        raise InvalidInputException("DatabaseName is required: the database the crawler writes its tables to.")
    targets = body.get("Targets")
    s3 = targets.get("S3Targets") if isinstance(targets, dict) else None
    if not isinstance(s3, list) or not s3:
        raise InvalidInputException("Targets.S3Targets must list at least one {'Path': 's3://bucket/prefix/'}.")
    paths = []
    for i, target in enumerate(s3):
        path = target.get("Path") if isinstance(target, dict) else None
        if not isinstance(path, str):
            raise InvalidInputException(f"Targets.S3Targets[{i}].Path must be an S3 path.")
        try:
            paths.append({"Path": Location.parse(path).uri, "Exclusions": []})
        except LocationError as exc:
            raise InvalidInputException(f"Targets.S3Targets[{i}].Path: {exc}.") from None
    other = [k for k, v in targets.items() if k != "S3Targets" and v] if isinstance(targets, dict) else []
    if other:
        raise InvalidInputException(f"kemu crawls S3 targets only; {', '.join(sorted(other))} are not supported.")
    prefix = body.get("TablePrefix", "")
    if not isinstance(prefix, str) or len(prefix) > 128:
        raise InvalidInputException("TablePrefix must be a string of at most 128 characters.")
    policy = body.get("SchemaChangePolicy") or {}
    update = policy.get("UpdateBehavior", "UPDATE_IN_DATABASE") if isinstance(policy, dict) else "UPDATE_IN_DATABASE"
    if update not in ("UPDATE_IN_DATABASE", "LOG"):
        raise InvalidInputException("SchemaChangePolicy.UpdateBehavior must be UPDATE_IN_DATABASE or LOG.")
    role = body.get("Role", "")
    description = body.get("Description", "")
    return {
        "Name": name,
        "Role": role if isinstance(role, str) else "",
        "DatabaseName": table_name(database, "DatabaseName"),
        "Description": description if isinstance(description, str) else "",
        "Targets": {"S3Targets": paths},
        "TablePrefix": prefix,
        "SchemaChangePolicy": {"UpdateBehavior": update, "DeleteBehavior": "LOG"},
        "created_ms": now_ms(),
        "version": 1,
    }


class Crawlers:
    """The crawler operations; runs read S3 through ``filesystem`` (pyarrow's S3 filesystem), or fail saying that
    no S3 is configured when it is None."""

    def __init__(self, catalog: GlueCatalog, filesystem: Any | None) -> None:
        self.catalog = catalog
        self._fs = filesystem
        self._runs: dict[str, CrawlerRun] = {}

    def _definition(self, name: Any) -> dict[str, Any]:
        if not isinstance(name, str):
            raise InvalidInputException("Name must be a string.")
        found: dict[str, Any] | None = self.catalog.store.state.crawlers.get(name)
        if found is None:
            raise EntityNotFoundException(f"Crawler with name {name} does not exist.")
        return found

    def _run(self, name: str) -> CrawlerRun:
        return self._runs.setdefault(name, CrawlerRun())

    async def stop(self) -> None:
        tasks = [r.task for r in self._runs.values() if r.task is not None and not r.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def create_crawler(self, body: dict[str, Any]) -> dict[str, Any]:
        definition = parse_crawler(body)
        if definition["Name"] in self.catalog.store.state.crawlers:
            raise AlreadyExistsException(f"Crawler with name {definition['Name']} already exists.")
        await self.catalog.store.write([(crawler_key(definition["Name"]), definition)])
        return {}

    async def update_crawler(self, body: dict[str, Any]) -> dict[str, Any]:
        current = self._definition(body.get("Name"))
        if self._run(current["Name"]).state != "READY":
            raise CrawlerRunningException(f"Crawler {current['Name']} is running; update it once it is READY.")
        merged = {**_as_request(current), **{k: v for k, v in body.items() if v is not None}}
        definition = parse_crawler(merged)
        definition["created_ms"], definition["version"] = current["created_ms"], current["version"] + 1
        await self.catalog.store.write([(crawler_key(current["Name"]), definition)])
        return {}

    async def delete_crawler(self, name: Any) -> dict[str, Any]:
        definition = self._definition(name)
        if self._run(definition["Name"]).state != "READY":
            raise CrawlerRunningException(f"Crawler {definition['Name']} is running; stop it first.")
        await self.catalog.store.write([(crawler_key(definition["Name"]), None)])
        self._runs.pop(definition["Name"], None)
        return {}

    def render(self, definition: dict[str, Any]) -> dict[str, Any]:
        run = self._run(definition["Name"])
        out: dict[str, Any] = {
            **{k: v for k, v in definition.items() if k not in ("created_ms", "version")},
            "State": run.state,
            "CreationTime": Timestamp(definition["created_ms"]),
            "LastUpdated": Timestamp(definition["created_ms"]),
            "Version": definition["version"],
            "CrawlElapsedTime": 0,
        }
        if run.last_status is not None and run.last_start_ms is not None:
            last: dict[str, Any] = {"Status": run.last_status, "StartTime": Timestamp(run.last_start_ms)}
            if run.last_error:
                last["ErrorMessage"] = run.last_error
            if run.last_message:
                last["MessagePrefix"] = run.last_message[:255]
            out["LastCrawl"] = last
        return out

    async def get_crawler(self, name: Any) -> dict[str, Any]:
        return {"Crawler": self.render(self._definition(name))}

    async def get_crawlers(self, token: str | None, limit: int) -> dict[str, Any]:
        chosen, next_token = page(list(self.catalog.store.state.crawlers.values()), lambda d: d["Name"], token, limit)
        out: dict[str, Any] = {"Crawlers": [self.render(d) for d in chosen]}
        if next_token:
            out["NextToken"] = next_token
        return out

    async def list_crawlers(self, token: str | None, limit: int) -> dict[str, Any]:
        chosen, next_token = page(list(self.catalog.store.state.crawlers), lambda n: n, token, limit)
        out: dict[str, Any] = {"CrawlerNames": chosen}
        if next_token:
            out["NextToken"] = next_token
        return out

    async def get_crawler_metrics(self, names: list[str] | None) -> dict[str, Any]:
        chosen = names if names else sorted(self.catalog.store.state.crawlers)
        metrics = []
        for name in chosen:
            self._definition(name)
            run = self._run(name)
            runtimes = sorted(run.runtimes)
            metrics.append(
                {
                    "CrawlerName": name,
                    "TimeLeftSeconds": 0.0,
                    "StillEstimating": run.state == "RUNNING",
                    "LastRuntimeSeconds": run.runtimes[-1] if run.runtimes else 0.0,
                    "MedianRuntimeSeconds": runtimes[len(runtimes) // 2] if runtimes else 0.0,
                    "TablesCreated": run.tables_created,
                    "TablesUpdated": run.tables_updated,
                    "TablesDeleted": 0,
                }
            )
        return {"CrawlerMetricsList": metrics}

    async def start_crawler(self, name: Any) -> dict[str, Any]:
        definition = self._definition(name)
        run = self._run(definition["Name"])
        if run.state != "READY":
            raise CrawlerRunningException(f"Crawler with name {definition['Name']} has already started.")
        run.state = "RUNNING"
        run.last_start_ms = now_ms()
        run.task = asyncio.create_task(self._crawl(definition, run), name=f"crawler-{definition['Name']}")
        return {}

    async def stop_crawler(self, name: Any) -> dict[str, Any]:
        definition = self._definition(name)
        run = self._run(definition["Name"])
        if run.state != "RUNNING" or run.task is None:
            raise CrawlerNotRunningException(f"Crawler with name {definition['Name']} is not running.")
        run.state = "STOPPING"
        run.task.cancel()
        return {}

    async def run_now(self, definition: dict[str, Any]) -> list[CrawlReport]:
        """Crawl every target of ``definition`` and return the reports (``kemu lake crawl``)."""
        run = self._run(definition["Name"])
        run.state, run.last_start_ms = "RUNNING", now_ms()
        await self._crawl(definition, run)
        if run.last_error:
            raise InvalidInputException(run.last_error)
        return run.reports

    async def _crawl(self, definition: dict[str, Any], run: CrawlerRun) -> None:
        started = time.monotonic()
        run.reports = []
        try:
            if self._fs is None:
                raise InvalidInputException("No S3 is configured for this endpoint, so there is nothing to crawl.")
            self.catalog.database(definition["DatabaseName"])
            for target in definition["Targets"]["S3Targets"]:
                report = await crawl_path(
                    self.catalog, self._fs, definition["DatabaseName"], target["Path"],
                    crawler=definition["Name"], table_prefix=definition["TablePrefix"],
                    update_schema=definition["SchemaChangePolicy"]["UpdateBehavior"] == "UPDATE_IN_DATABASE",
                )  # fmt: skip
                run.reports.append(report)
                if report.created:
                    run.tables_created += 1
                elif report.changed:
                    run.tables_updated += 1
                log.debug("crawler %s: %s", definition["Name"], report.to_json())
            run.last_status, run.last_error = "SUCCEEDED", None
            run.last_message = "; ".join(_summary(r) for r in run.reports)
        except asyncio.CancelledError:
            run.last_status, run.last_error = "CANCELLED", None
        except Exception as exc:
            log.warning("crawler %s failed: %s", definition["Name"], exc)
            run.last_status, run.last_error = "FAILED", str(exc)
        finally:
            run.state = "READY"
            run.runtimes.append(round(time.monotonic() - started, 3))
            run.task = None


def _summary(report: CrawlReport) -> str:
    if report.table is None:
        return f"{report.path}: " + ("; ".join(report.conflicts) or "nothing found")
    verb = "created" if report.created else ("updated" if report.changed else "unchanged")
    return (
        f"{report.table} {verb}: {len(report.partitions_added)} partition(s) added, "
        f"{len(report.columns_added)} column(s) added, {len(report.columns_widened)} widened"
    )


def _as_request(definition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k not in ("created_ms", "version")}
