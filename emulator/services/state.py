"""What ``kemu services up`` leaves behind for the other commands: addresses, pids, credentials."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from emulator.services.process import ProcessRef


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ServiceProcess(_Frozen):
    """One process ``kemu services up`` started: who it is, the port it serves and where it logs."""

    process: ProcessRef
    port: int
    log_file: Path


class KafkaState(ServiceProcess):
    controller_port: int

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"


class MinioState(ServiceProcess):
    console_port: int

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"


class Credentials(_Frozen):
    access_key_id: str
    secret_access_key: SecretStr


class ServicesState(_Frozen):
    kafka: KafkaState
    minio: MinioState
    bucket: str


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (0700): created so, or tightened if it exists (a run
    directory made by an older kemu was 0755, which let other local users read stream data)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def _write_private(path: Path, text: str) -> None:
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.replace(path)


def save_state(path: Path, state: ServicesState) -> None:
    _write_private(path, state.model_dump_json(indent=2))


def load_state(path: Path) -> ServicesState | None:
    if not path.is_file():
        return None
    return ServicesState.model_validate_json(path.read_text())


def load_or_create_credentials(path: Path) -> Credentials:
    """MinIO's root credentials: random on first use, kept private (0600) so restarts keep the same ones."""
    if path.is_file():
        return Credentials.model_validate_json(path.read_text())
    access_key, secret_key = "kemu-" + secrets.token_hex(4), secrets.token_urlsafe(24)
    # SecretStr masks itself in model_dump_json, so the file is written from the plain values.
    _write_private(path, json.dumps({"access_key_id": access_key, "secret_access_key": secret_key}))
    return Credentials(access_key_id=access_key, secret_access_key=SecretStr(secret_key))
