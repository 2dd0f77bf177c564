from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from emulator.cli import app
from emulator.exceptions import ServicesNotRunningError


def test_serve_without_kafka_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEMU_KAFKA__BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("KEMU_SERVICES__RUN_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["kinesis", "serve", "--port", "0"])
    assert isinstance(result.exception, ServicesNotRunningError)
    assert "kemu services up" in str(result.exception)


def test_kinesis_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.settings import Settings

    monkeypatch.setenv("KEMU_KINESIS__PORT", "4599")
    monkeypatch.setenv("KEMU_KINESIS__SHARD_WRITE_LIMIT__RECORDS_PER_SECOND", "10")
    settings = Settings.load()
    assert settings.kinesis.port == 4599
    assert settings.kinesis.host == "127.0.0.1"
    assert settings.kinesis.shard_write_limit is not None
    assert settings.kinesis.shard_write_limit.records_per_second == 10
