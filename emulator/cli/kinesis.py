"""``kemu kinesis serve``: the Kinesis Data Streams HTTP API on its own (``kemu up`` serves it with the demo)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from emulator.cli.app import console, settings_of
from emulator.cli.services import kafka_bootstrap, s3_target
from emulator.settings import Settings
from sinks import S3Connection

kinesis_app = typer.Typer(
    help="The Kinesis Data Streams API (boto3, aws-cli, Java SDK) on Kafka.", no_args_is_help=True
)


def s3_connection(settings: Settings) -> S3Connection | None:
    """Where Firehose delivery streams write: the configured S3, else the running embedded MinIO, else none (then
    CreateDeliveryStream answers that no S3 target is configured)."""
    target = s3_target(settings)
    return None if target is None else target.connection()


@kinesis_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to bind (default from settings: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 4566).")] = None,
) -> None:
    """Serve the Kinesis API until Ctrl-C. Point clients at it with ``--endpoint-url http://127.0.0.1:4566``."""
    settings = settings_of(ctx)
    kinesis = settings.kinesis
    bootstrap = kafka_bootstrap(settings, "serve streams from")
    s3 = s3_connection(settings)
    bind_host = host or kinesis.host
    bind_port = kinesis.port if port is None else port
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)  # it logs every assignment change at INFO
    target = f"S3 {s3.endpoint_url or 'default AWS endpoint'}" if s3 else "no S3 target: Firehose delivery is off"
    console.print(
        f"Kinesis and Firehose API on [bold]http://{bind_host}:{bind_port}[/] (Kafka {bootstrap}; {target}); "
        "Ctrl-C stops it",
        highlight=False,
    )
    from emulator.kinesis.server import serve_forever  # uvicorn and the API: only when serving

    serve_forever(kinesis, bootstrap, bind_host, bind_port, s3)
