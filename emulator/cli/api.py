"""``kemu api serve``: the API and live page alone, against configured or already running services."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import typer

from emulator.cli.app import app, console, settings_of
from emulator.cli.demo import PortOption, print_event, print_urls
from emulator.endpoints import configured_endpoints, embedded_endpoints, launcher_for
from emulator.logs import quiet_kafka_client

if TYPE_CHECKING:
    from emulator.runtime.demo import Demo

api_app = typer.Typer(help="The leaderboard API and live page.", no_args_is_help=True)


@api_app.command("serve")
def serve(ctx: typer.Context, port: PortOption = None) -> None:
    """Serve the API (no pipeline components) until Ctrl-C; needs Kafka and S3 configured or `kemu services up`."""
    settings = settings_of(ctx)
    quiet_kafka_client(settings.log_level)
    context = configured_endpoints(settings) or embedded_endpoints(settings, launcher_for(settings), start=False)

    async def main() -> None:
        from emulator.runtime.demo import Demo

        demo = Demo(context, factories=(), on_event=print_event, port=port)
        demo.install_signal_handlers()
        await demo.run(on_ready=on_ready)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def on_ready(demo: Demo) -> None:
    console.print("[green]serving[/]; press Ctrl-C to stop", highlight=False)
    print_urls(demo, edge=False)


app.add_typer(api_app, name="api")
