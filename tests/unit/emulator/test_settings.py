from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from emulator.settings import Settings


def test_defaults_bind_loopback_and_use_the_embedded_services(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("KEMU_KAFKA__BOOTSTRAP_SERVERS", "KEMU_S3__ENDPOINT_URL", "KEMU_API__HOST"):
        monkeypatch.delenv(key, raising=False)
    settings = Settings.load()
    assert settings.api.host == "127.0.0.1"
    assert settings.kafka.bootstrap_servers is None
    assert settings.s3.endpoint_url is None
    assert settings.services.cache_dir == Path.home() / ".cache" / "kemu"


def test_environment_wins_over_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "kemu.toml"
    config.write_text('[kafka]\nbootstrap_servers = "file:9092"\n[s3]\nbucket = "from-file"\n[api]\nport = 9000\n')
    monkeypatch.setenv("KEMU_KAFKA__BOOTSTRAP_SERVERS", "env:9092")
    settings = Settings.load(config)
    assert settings.kafka.bootstrap_servers == "env:9092"
    assert settings.s3.bucket == "from-file"
    assert settings.api.port == 9000


def test_keyword_overrides_win_over_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEMU_LOG_LEVEL", "DEBUG")
    assert Settings.load(log_level="ERROR").log_level == "ERROR"


def test_secrets_are_masked_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEMU_S3__SECRET_ACCESS_KEY", "hunter2-very-secret")
    settings = Settings.load()
    assert "hunter2" not in repr(settings)
    assert settings.s3.secret_access_key is not None
    assert settings.s3.secret_access_key.get_secret_value() == "hunter2-very-secret"


@pytest.mark.parametrize(("key", "value"), [("KEMU_S3__BUCKET", "Bad_Bucket"), ("KEMU_API__PORT", "70000")])
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError):
        Settings.load()


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Settings.load(tmp_path / "nope.toml")
