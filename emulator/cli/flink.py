"""``kemu analytics export`` and ``kemu analytics run --engine flink``: the query files on Apache Flink."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from emulator.cli.app import console
from emulator.cli.reporting import ConsoleReporter
from emulator.endpoints import kafka_bootstrap
from emulator.exceptions import EmulatorError, reported_as
from emulator.settings import Settings

if TYPE_CHECKING:
    from analytics.flink.job import JobOptions
    from analytics.plan import CompiledQuery


class FlinkCliError(EmulatorError):
    """A query could not be exported to or run on Flink."""


def job_options(settings: Settings, bootstrap: str | None, bounded: bool) -> JobOptions:
    from analytics.flink.job import JobOptions

    config = settings.analytics
    address = bootstrap or kafka_bootstrap(settings, "export the job for", " or give --bootstrap")
    return JobOptions(
        bootstrap=address,
        topics=config.output_topics(),
        start_from=config.start_from,
        bounded=bounded,
    )


def export_job(query: CompiledQuery, options: JobOptions) -> str:
    from analytics import AnalyticsError
    from analytics.flink.job import flink_job

    with reported_as(AnalyticsError, FlinkCliError):
        return flink_job(query, options)


def run_on_flink(settings: Settings, queries: list[CompiledQuery], remote: str | None, bounded: bool) -> None:
    """Provision PyFlink (once), create the output topics, write each query's job and run it: submitted to
    ``remote``, or (one query) in a local mini-cluster until it ends or Ctrl-C."""
    from analytics.topics import ensure_topics
    from emulator.flink.provision import provision_flink
    from emulator.flink.runner import run_job, write_job

    if remote is None and len(queries) != 1:
        raise FlinkCliError("a local Flink mini-cluster runs one query: give one --query (or --flink HOST:PORT)")
    options = job_options(settings, None, bounded)
    jobs = [(query, export_job(query, options)) for query in queries]  # every query translates before any runs
    with ConsoleReporter(console) as reporter:
        runtime = provision_flink(settings.services.cache_dir, reporter)
    topics = {options.topics.errors, options.topics.results, options.topics.alerts}
    topics |= {q.header.output_topic for q in queries if q.header.output_topic}
    asyncio.run(ensure_topics(options.bootstrap, sorted(topics)))
    directory = settings.analytics.checkpoint_dir / "flink"
    for query, _text in jobs:
        job = write_job(query, options, directory)
        log = directory / f"{query.name}.log"
        where = f"the Flink cluster at {remote}" if remote else "a local Flink mini-cluster"
        console.print(f"running {query.name} on {where} (job {job}, log {log})", highlight=False, markup=False)
        code = run_job(runtime, job, remote, log)
        if code != 0:
            raise FlinkCliError(f"the Flink job of {query.name} failed (exit {code}); see {log}")
    console.print("submitted" if remote else "stopped", markup=False)


def write_or_print(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"wrote {output}", highlight=False, markup=False)
