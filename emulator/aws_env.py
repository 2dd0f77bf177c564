"""The environment that points AWS SDKs and the aws-cli at kemu, as ``kemu services env`` and ``kemu up`` print it.

Current SDKs and the aws-cli read ``AWS_ENDPOINT_URL`` (every service) and ``AWS_ENDPOINT_URL_<SERVICE>`` by
themselves, so unchanged code needs no ``endpoint_url`` and no ``--endpoint-url``. Every service is on the edge
endpoint (Kinesis, Firehose, and S3 forwarded to MinIO), as on LocalStack's 4566. A region and credentials are
needed for a client to sign at all: the user's own are kept (the shell expands ``${VAR:-default}`` when the exports
are evaluated), dummy ones fill in otherwise, since the endpoint accepts any signature unless it checks them.
"""

from __future__ import annotations

import shlex

from emulator.config.kinesis import KinesisSettings

DUMMY_ACCESS_KEY_ID = "test"
DUMMY_SECRET_ACCESS_KEY = "test"  # noqa: S105 - the documented placeholder any SigV4 signature may use here
#: The services on the edge endpoint that have a per-service endpoint variable of their own.
SERVICES = ("KINESIS", "FIREHOSE", "S3")


def edge_url(kinesis: KinesisSettings) -> str:
    """Where clients reach the edge endpoint (a wildcard bind address is reached on the loopback one)."""
    host = "127.0.0.1" if kinesis.host in ("0.0.0.0", "::", "") else kinesis.host  # noqa: S104 - display only
    return f"http://{host}:{kinesis.port}"


def aws_exports(kinesis: KinesisSettings, region: str, reveal_secret: bool = True) -> list[str]:
    """``export`` lines for a POSIX shell; the region and keys default only where the user has none set.

    When the endpoint checks signatures its own key is the one to use; ``reveal_secret=False`` (lines printed on a
    terminal, in logs) names the secret's variable instead of its value.
    """
    url = edge_url(kinesis)
    lines = [f"export AWS_ENDPOINT_URL={shlex.quote(url)}"]
    lines += [f"export AWS_ENDPOINT_URL_{service}={shlex.quote(url)}" for service in SERVICES]
    lines.append(f'export AWS_DEFAULT_REGION="${{AWS_DEFAULT_REGION:-{region}}}"')
    lines.append('export AWS_REGION="${AWS_REGION:-$AWS_DEFAULT_REGION}"')
    if kinesis.verify_signatures and kinesis.access_key_id and kinesis.secret_access_key is not None:
        # The endpoint checks signatures: only its own key gets through, so it is the one to use.
        lines.append(f"export AWS_ACCESS_KEY_ID={shlex.quote(kinesis.access_key_id)}")
        secret = kinesis.secret_access_key.get_secret_value()
        shown = shlex.quote(secret) if reveal_secret else '"$KEMU_KINESIS__SECRET_ACCESS_KEY"'
        lines.append(f"export AWS_SECRET_ACCESS_KEY={shown}")
    else:
        lines.append(f'export AWS_ACCESS_KEY_ID="${{AWS_ACCESS_KEY_ID:-{DUMMY_ACCESS_KEY_ID}}}"')
        lines.append(f'export AWS_SECRET_ACCESS_KEY="${{AWS_SECRET_ACCESS_KEY:-{DUMMY_SECRET_ACCESS_KEY}}}"')
    return lines
