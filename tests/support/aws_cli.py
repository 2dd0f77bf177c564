"""The aws-cli (PyPI ``awscli``, installed beside this interpreter), unchanged, against an endpoint of the test's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

AWS = str(Path(sys.executable).with_name("aws"))


def aws_cli(url: str, service: str, *args: str, check: bool = True) -> Any:
    """``aws <service> <args> --endpoint-url <url> --output json`` with test credentials and no user configuration.

    With ``check`` the command must succeed and its parsed output is returned (``{}`` for none); without, the
    finished process, for a test that expects an error."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(Path.home())),
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "whatever",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    done = subprocess.run(
        [AWS, service, *args, "--endpoint-url", url, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}
    return done
