"""``kemu kinesis serve``: the Kinesis Data Streams HTTP API on its own (``kemu up`` serves it with the demo)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from emulator.cli.app import console, settings_of
from emulator.exceptions import ServicesNotRunningError
from emulator.kinesis.server import serve_forever
from emulator.services import LocalServices
from emulator.settings import Settings

kinesis_app = typer.Typer(
    help="The Kinesis Data Streams API (boto3, aws-cli, Java SDK) on Kafka.", no_args_is_help=True
)


def kafka_bootstrap(settings: Settings) -> str:
    """The configured Kafka cluster, or the running embedded broker of ``kemu services up``."""
    if settings.kafka.bootstrap_servers:
        return settings.kafka.bootstrap_servers
    state = LocalServices(settings.services, bucket=settings.s3.bucket).running_state()
    if state is None:
        raise ServicesNotRunningError(
            "no Kafka to serve streams from: set KEMU_KAFKA__BOOTSTRAP_SERVERS or start `kemu services up` first"
        )
    return state.kafka.bootstrap_servers


@kinesis_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to bind (default from settings: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 4566).")] = None,
) -> None:
    """Serve the Kinesis API until Ctrl-C. Point clients at it with ``--endpoint-url http://127.0.0.1:4566``."""
    settings = settings_of(ctx)
    kinesis = settings.kinesis
    bootstrap = kafka_bootstrap(settings)
    bind_host = host or kinesis.host
    bind_port = kinesis.port if port is None else port
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)  # it logs every assignment change at INFO
    console.print(
        f"Kinesis API on [bold]http://{bind_host}:{bind_port}[/] (Kafka {bootstrap}); Ctrl-C stops it", highlight=False
    )
    serve_forever(kinesis, bootstrap, bind_host, bind_port)
