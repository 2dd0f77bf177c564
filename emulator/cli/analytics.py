"""``kemu analytics run | replay | list``: the windowed-SQL engine from the command line."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from emulator.cli.app import console, settings_of
from emulator.endpoints import kafka_bootstrap
from emulator.exceptions import ConfigurationError, EmulatorError, reported_as
from emulator.settings import Settings

if TYPE_CHECKING:
    from analytics.plan import CompiledQuery
    from analytics.replay import ReplayStats

analytics_app = typer.Typer(
    help="Event-time SQL windows over the streams (Kinesis Data Analytics).", no_args_is_help=True
)

QueryDirs = Annotated[
    list[Path] | None, typer.Option("--queries", help="A directory of query files (repeatable), after the built-ins.")
]


class AnalyticsCliError(EmulatorError):
    """An analytics command could not run (bad query, unknown name, unreadable file)."""


def _catalog(settings: Settings, extra_dirs: list[Path] | None) -> dict[str, CompiledQuery]:
    # The engine (DuckDB, Arrow) is imported by the commands that use it, so other `kemu` commands start light.
    from analytics import AnalyticsError, load_queries

    config = settings.analytics
    with reported_as(AnalyticsError, AnalyticsCliError):
        return load_queries([*config.query_dirs, *(extra_dirs or [])], builtins=config.builtin_queries)


def _select(catalog: dict[str, CompiledQuery], names: list[str]) -> list[CompiledQuery]:
    from analytics import select_queries

    try:
        return select_queries(catalog, names)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--query") from exc


@analytics_app.command("list")
def list_queries(ctx: typer.Context, queries: QueryDirs = None) -> None:
    """Load and check every query (file, line and reason on error) and list them."""
    for query in _catalog(settings_of(ctx), queries).values():
        window = f"{query.window.kind} {query.window.size_ms} ms" if query.window else "stateless"
        typer.echo(
            f"{query.name:32} source={query.source.name:16} {window:24} emit={query.header.emit:8} "
            f"output={query.header.output_topic or query.header.output}"
        )


Engine = Annotated[
    Literal["kemu", "flink"],
    typer.Option("--engine", help="kemu's own engine, or Apache Flink (a cluster with --flink, else a local one)."),
]
Bounded = Annotated[
    bool,
    typer.Option("--bounded", help="Flink: read the source up to its current end, close every window, and stop."),
]


@analytics_app.command("run")
def run(
    ctx: typer.Context,
    query: Annotated[
        list[str] | None, typer.Option("--query", "-q", help="Run only these queries (repeatable).")
    ] = None,
    queries: QueryDirs = None,
    engine: Engine = "kemu",
    flink: Annotated[
        str | None, typer.Option("--flink", help="HOST:PORT of a Flink cluster's REST endpoint (--engine flink).")
    ] = None,
    bounded: Bounded = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Scale one query out: N worker processes, and its merge stage here (0: the merge stage alone).",
        ),
    ] = None,
    group_member: Annotated[
        bool, typer.Option("--group-member", help="Run one worker of the query's consumer group (see --workers).")
    ] = False,
) -> None:
    """Run queries live on Kafka until Ctrl-C or SIGTERM (a clean stop writes a last checkpoint)."""
    from analytics import AnalyticsEngine, AnalyticsError

    settings = settings_of(ctx)
    selected = _select(_catalog(settings, queries), query or [])
    if workers is not None or group_member:
        _run_scaled(ctx, settings, selected, workers, group_member, queries or [])
        return
    if engine == "flink":
        from emulator.cli.flink import run_on_flink

        run_on_flink(settings, selected, flink, bounded)
        return
    if flink is not None or bounded:
        raise typer.BadParameter("--flink and --bounded go with --engine flink", param_hint="--engine")
    runner = AnalyticsEngine(selected, kafka_bootstrap(settings, "read"), settings.analytics)
    console.print(f"running {', '.join(q.name for q in selected)}; Ctrl-C stops", highlight=False, markup=False)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await runner.run(stop)

    with reported_as(AnalyticsError, AnalyticsCliError):
        asyncio.run(main())
    console.print("stopped; checkpoints written", markup=False)


def _run_scaled(
    ctx: typer.Context,
    settings: Settings,
    selected: list[CompiledQuery],
    workers: int | None,
    group_member: bool,
    query_dirs: list[Path],
) -> None:
    from analytics import AnalyticsError
    from analytics.scaleout import refusal
    from emulator.cli.scaleout import member_argv, run_group_member, run_scaled

    if len(selected) != 1 or (workers is not None and group_member):
        raise typer.BadParameter("scale-out runs one --query, with either --workers N or --group-member")
    why = refusal(selected[0])
    if why is not None:
        raise AnalyticsCliError(why)  # before any connection: no broker is needed to say so
    bootstrap = kafka_bootstrap(settings, "read")
    with reported_as(AnalyticsError, AnalyticsCliError):
        if group_member:
            run_group_member(selected[0], bootstrap, settings.analytics)
        else:
            argv = member_argv(selected[0].name, query_dirs, ctx.find_root().params.get("config"))
            run_scaled(selected[0], bootstrap, settings.analytics, workers or 0, argv)


@analytics_app.command("export")
def export(
    ctx: typer.Context,
    query: Annotated[str, typer.Option("--query", "-q", help="The query to export.")],
    engine: Annotated[Literal["flink"], typer.Option("--engine", help="The engine to write a job for.")] = "flink",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the job here (default: stdout).")] = None,
    bootstrap: Annotated[
        str | None, typer.Option("--bootstrap", help="Kafka as the Flink cluster reaches it (default: kemu's).")
    ] = None,
    bounded: Bounded = False,
    queries: QueryDirs = None,
) -> None:
    """Write a query as a self-contained Flink SQL job (source, translated query, sinks in kemu's contract)."""
    from emulator.cli.flink import export_job, job_options, write_or_print

    settings = settings_of(ctx)
    selected = _select(_catalog(settings, queries), [query])[0]
    write_or_print(export_job(selected, job_options(settings, bootstrap, bounded)), output)


@analytics_app.command("replay")
def replay_command(
    ctx: typer.Context,
    query: Annotated[str, typer.Option("--query", "-q", help="The query to run.")],
    input_path: Annotated[Path, typer.Option("--input", help="Events, one JSON object per line.")],
    output_path: Annotated[Path, typer.Option("--output", help="Where to write the produced records (JSONL).")],
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Events per micro-batch.")] = 1000,
    queries: QueryDirs = None,
) -> None:
    """Run one query over a recorded file, deterministically, with the live engine's watermark semantics."""
    if not input_path.is_file():
        raise ConfigurationError(f"input file {input_path} does not exist")
    from analytics import AnalyticsError, replay

    catalog = _catalog(settings_of(ctx), queries)
    selected = _select(catalog, [query])[0]
    with reported_as(AnalyticsError, AnalyticsCliError):
        stats = replay(selected, input_path, output_path, batch_size)
    console.print(
        f"{stats.events} events → {stats.records} records ({stats.results} window results, {stats.rows} rows, "
        f"{stats.late} late, {stats.errors} errors) in {output_path}",
        highlight=False,
        markup=False,
    )
    absent = stats.absent(selected)
    if absent and stats.events:
        mismatch = _mismatch(selected, stats, absent, input_path, catalog)
        # Nothing found and nothing to find it in: the file is of another stream, not a quiet stretch of this one.
        # A script must see that (exit 1); with rows found, the column may just be optional, so only a warning.
        if stats.rows == 0:
            raise AnalyticsCliError(mismatch)
        console.print(f"warning: {mismatch}", highlight=False, markup=False, soft_wrap=True)


def _mismatch(
    query: CompiledQuery, stats: ReplayStats, absent: list[str], input_path: Path, catalog: dict[str, CompiledQuery]
) -> str:
    """What a replay's input lacks for ``query``, what it looks like instead, and what would match it."""
    from producers import StreamKind

    missing = " or ".join(", ".join(absent).rsplit(", ", 1))
    source = query.source
    text = (
        f"none of the {stats.events} events in {input_path} has {missing}, which query {query.name} reads "
        f"(source {source.name!r}, stream {source.topic})"
    )
    if stats.fields:
        text += f"; its events have the fields {', '.join(stats.fields)}"
    fields = set(stats.fields)
    if fields:
        # The source whose columns are most like the file's fields (Jaccard), and its queries that find all the
        # columns they read: a query of another source may read only the generic ones (event_type) and fit by chance.
        sources = {q.source.name: set(q.source.column_names()) for q in catalog.values()}
        best = max(sorted(sources), key=lambda name: len(sources[name] & fields) / len(sources[name] | fields))
        fitting = sorted(q.name for q in catalog.values() if q.source.name == best and set(q.reads) <= fields)
        if fitting and best != source.name:
            text += f". They look like events of source {best!r}, which these queries read: {', '.join(fitting)}"
    kinds = [kind.value for kind in StreamKind if kind.default_stream == source.topic]
    if kinds:
        text += f". To record events of source {source.name!r}: kemu produce {kinds[0]} --count N --to FILE"
    return text
