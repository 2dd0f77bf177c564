"""``kemu services env`` / ``kemu up``'s AWS exports, evaluated by a real shell: every SDK endpoint variable on the
edge, a region and keys where the user has none, and the user's own left alone."""

from __future__ import annotations

import subprocess

from pydantic import SecretStr

from emulator.aws_env import aws_exports
from emulator.kinesis import KinesisSettings

NAMES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_KINESIS",
    "AWS_ENDPOINT_URL_FIREHOSE",
    "AWS_ENDPOINT_URL_S3",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)


def evaluated(lines: list[str], env: dict[str, str]) -> dict[str, str]:
    script = "\n".join([*lines, *(f'printf "%s=%s\\n" {n} "${n}"' for n in NAMES)])
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, check=True)
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def test_a_fresh_shell_gets_the_edge_a_region_and_dummy_keys() -> None:
    values = evaluated(aws_exports(KinesisSettings(port=4566), "us-east-1"), {"PATH": "/usr/bin:/bin"})
    assert values == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:4566",
        "AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:4566",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:4566",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }


def test_the_user_s_own_region_and_keys_are_kept() -> None:
    own = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIAMINE"}
    own["AWS_SECRET_ACCESS_KEY"] = "mine $(not run) `nor this`"  # noqa: S105 - a test value with shell syntax
    wildcard = KinesisSettings(host="0.0.0.0", port=4600)  # noqa: S104 - only printed, never bound
    values = evaluated(aws_exports(wildcard, "us-east-1"), own)
    assert values["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4600"
    assert values["AWS_DEFAULT_REGION"] == values["AWS_REGION"] == "eu-west-1"
    assert values["AWS_ACCESS_KEY_ID"] == "AKIAMINE"
    assert values["AWS_SECRET_ACCESS_KEY"] == own["AWS_SECRET_ACCESS_KEY"]


def test_an_endpoint_that_checks_signatures_gets_its_own_key() -> None:
    settings = KinesisSettings(verify_signatures=True, access_key_id="AKIDEDGE", secret_access_key=SecretStr("s3cr'et"))
    values = evaluated(aws_exports(settings, "us-east-1"), {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "other"})
    assert values["AWS_ACCESS_KEY_ID"] == "AKIDEDGE"
    assert values["AWS_SECRET_ACCESS_KEY"] == "s3cr'et"  # noqa: S105 - the test's own secret
    printed = "\n".join(aws_exports(settings, "us-east-1", reveal_secret=False))
    assert "s3cr" not in printed
    assert "KEMU_KINESIS__SECRET_ACCESS_KEY" in printed
