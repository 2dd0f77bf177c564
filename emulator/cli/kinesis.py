"""``kemu kinesis serve``: the edge endpoint on its own (``kemu up`` serves it with the demo): the Kinesis Data
Streams and Firehose APIs, S3 forwarded to the object store, and a health endpoint."""

from __future__ import annotations

from typing import Annotated

import typer

from emulator.cli.app import console, settings_of
from emulator.endpoints import kafka_bootstrap, s3_connection
from emulator.listen import bind_listener, display_url
from emulator.logs import quiet_kafka_client
from emulator.topics import kinesis_settings
from emulator.version import installed_version

#: What a taken port's error suggests.
PORT_HINT = "--port or KEMU_KINESIS__PORT"

kinesis_app = typer.Typer(
    help="The Kinesis Data Streams API (boto3, aws-cli, Java SDK) on Kafka.", no_args_is_help=True
)


@kinesis_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to bind (default from settings: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 4566; 0 picks a free one).")] = None,
) -> None:
    """Serve Kinesis, Firehose and S3 on one endpoint until Ctrl-C (eval "$(kemu services env)" points the AWS SDKs
    and the aws-cli at it)."""
    settings = settings_of(ctx)
    kinesis = kinesis_settings(settings)
    bootstrap = kafka_bootstrap(settings, "serve streams from")
    s3 = s3_connection(settings)
    # Bound first: a taken port is one line, before any banner or server start-up.
    sock = bind_listener(host or kinesis.host, kinesis.port if port is None else port, PORT_HINT)
    quiet_kafka_client(settings.log_level)
    target = f"S3 {s3.endpoint_url or 'default AWS endpoint'}" if s3 else "no S3 target: Firehose delivery is off"
    console.print(
        f"Kinesis, Firehose and S3 on [bold]{display_url(sock)}[/] (Kafka {bootstrap}; {target}); Ctrl-C stops it",
        highlight=False,
    )
    from emulator.edge.server import serve_forever  # uvicorn and the API: only when serving

    serve_forever(kinesis.with_result_bucket(settings.s3.bucket), bootstrap, sock, s3, installed_version())
