"""Finding the external programs the embedded services are built and run with."""

from __future__ import annotations

import shutil

from emulator.exceptions import MissingToolError

_HOW_TO_GET = {
    "java": "install a JDK or JRE 17 or newer (Debian: apt-get install openjdk-17-jre-headless)",
    "mvn": "install Apache Maven 3.6 or newer (Debian: apt-get install maven)",
    "go": (
        "install Go 1.24 or newer from https://go.dev/dl/ (Debian 12's golang package is Go 1.19, too old to build "
        "MinIO; bookworm-backports has newer golang-1.2x packages, whose go is in /usr/lib/go-1.2x/bin)"
    ),
}

_ALTERNATIVES = (
    "Or run everything in containers with `docker compose up`, or point kemu at existing services with "
    "KEMU_KAFKA__BOOTSTRAP_SERVERS and KEMU_S3__ENDPOINT_URL."
)


def require_tool(name: str, needed_for: str) -> str:
    """Absolute path of ``name`` on PATH, or a :class:`MissingToolError` that says what to do."""
    path = shutil.which(name)
    if path is None:
        raise MissingToolError(
            f"`{name}` is needed {needed_for} but was not found on PATH: {_HOW_TO_GET[name]}. {_ALTERNATIVES}"
        )
    return path
