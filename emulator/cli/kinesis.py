"""``kemu kinesis serve``: the edge endpoint on its own (``kemu up`` serves it with the demo): the Kinesis Data
Streams and Firehose APIs, S3 forwarded to the object store, and a health endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emulator.cli.app import console, settings_of
from emulator.endpoints import kafka_bootstrap, launcher_for, s3_connection
from emulator.listen import bind_listener, display_url
from emulator.logs import quiet_kafka_client
from emulator.settings import Settings
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
    tls_port: Annotated[
        int | None,
        typer.Option(help="Also serve over TLS (HTTP/2 and HTTP/1.1) on this port with a local certificate."),
    ] = None,
) -> None:
    """Serve Kinesis, Firehose and S3 on one endpoint until Ctrl-C (eval "$(kemu services env)" points the AWS SDKs
    and the aws-cli at it)."""
    settings = settings_of(ctx)
    kinesis = kinesis_settings(settings)
    bootstrap = kafka_bootstrap(settings, "serve streams from")
    s3 = s3_connection(settings)
    # Bound first: a taken port is one line, before any banner or server start-up.
    sock = bind_listener(host or kinesis.host, kinesis.port if port is None else port, PORT_HINT)
    from emulator.edge.server import TlsListener, serve_forever  # uvicorn and the API: only when serving

    tls = None
    tls_port = kinesis.tls_port if tls_port is None else tls_port
    if tls_port is not None:
        tls = TlsListener.bind(host or kinesis.host, tls_port, _tls_dir(settings))
    quiet_kafka_client(settings.log_level)
    target = f"S3 {s3.endpoint_url or 'default AWS endpoint'}" if s3 else "no S3 target: Firehose delivery is off"
    console.print(
        f"Kinesis, Firehose and S3 on [bold]{display_url(sock)}[/] (Kafka {bootstrap}; {target}); Ctrl-C stops it",
        highlight=False,
    )
    if tls is not None:
        console.print(
            f"TLS (HTTP/2 and HTTP/1.1) on [bold]{tls.url}[/]; its CA: {tls.certificate.ca} "
            f"(export AWS_CA_BUNDLE={tls.certificate.ca} for the AWS SDKs and the aws-cli)",
            highlight=False,
        )
    serve_forever(kinesis.with_result_bucket(settings.s3.bucket), bootstrap, sock, s3, installed_version(), tls)


def _tls_dir(settings: Settings) -> Path:
    return settings.kinesis.tls_dir or launcher_for(settings).run_dir / "tls"


@kinesis_app.command("ca")
def ca(ctx: typer.Context) -> None:
    """Print the path of the CA that signs the TLS port's certificate (made on first use), for AWS_CA_BUNDLE."""
    from emulator.edge.tls import local_certificate

    print(local_certificate(_tls_dir(settings_of(ctx))).ca)
