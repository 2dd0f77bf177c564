"""How the integration tests choose their Kafka and S3 (``KEMU_TEST_SERVICES``), without starting any."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.services.kafka import render_server_properties
from emulator.settings import Settings
from tests.support.containers import kafka_environment
from tests.support.endpoints import ServicesUnavailable, Source, acquire, planned_source, requested_source

ENV_ADDRESSES = {
    "KEMU_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
    "KEMU_S3__ENDPOINT_URL": "http://127.0.0.1:2",
    "KEMU_S3__ACCESS_KEY_ID": "a",
    "KEMU_S3__SECRET_ACCESS_KEY": "b",
}


@pytest.fixture
def no_addresses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_ADDRESSES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Source.AUTO),
        ("", Source.AUTO),
        ("env", Source.ENV),
        (" Docker ", Source.DOCKER),
        ("embedded", Source.EMBEDDED),
    ],
)
def test_the_variable_names_a_source(value: str | None, expected: Source) -> None:
    environ = {} if value is None else {"KEMU_TEST_SERVICES": value}
    assert requested_source(environ) is expected


def test_an_unknown_source_is_refused_with_the_choices() -> None:
    with pytest.raises(
        ServicesUnavailable, match=r"KEMU_TEST_SERVICES='podman' is not one of auto\|env\|docker\|embedded"
    ):
        requested_source({"KEMU_TEST_SERVICES": "podman"})


def test_auto_prefers_addresses_from_the_environment(monkeypatch: pytest.MonkeyPatch, no_addresses: None) -> None:
    for name, value in ENV_ADDRESSES.items():
        monkeypatch.setenv(name, value)
    assert planned_source(Source.AUTO, Settings.load()) is Source.ENV


def test_auto_without_addresses_or_engine_uses_the_embedded_launcher(no_addresses: None) -> None:
    assert planned_source(Source.AUTO, Settings.load()) is Source.EMBEDDED


def test_a_named_source_is_used_even_when_another_is_there(monkeypatch: pytest.MonkeyPatch, no_addresses: None) -> None:
    for name, value in ENV_ADDRESSES.items():
        monkeypatch.setenv(name, value)
    assert planned_source(Source.EMBEDDED, Settings.load()) is Source.EMBEDDED


def test_env_requested_without_addresses_says_which_are_missing(no_addresses: None, tmp_path: Path) -> None:
    with (
        pytest.raises(ServicesUnavailable, match="KEMU_TEST_SERVICES=env, but KEMU_KAFKA__BOOTSTRAP_SERVERS"),
        acquire(Settings.load(), tmp_path, Source.ENV),
    ):
        pass


def test_docker_requested_without_an_engine_fails_instead_of_falling_back(no_addresses: None, tmp_path: Path) -> None:
    with (
        pytest.raises(
            ServicesUnavailable,
            match=r"KEMU_TEST_SERVICES=docker, but no Docker engine answers at DOCKER_HOST=unix://.*no-engine\.sock",
        ),
        acquire(Settings.load(), tmp_path, Source.DOCKER),
    ):
        pass


def test_the_container_broker_is_configured_as_the_embedded_one() -> None:
    env = kafka_environment(host_port=40000)
    embedded = dict(
        line.split("=", 1) for line in render_server_properties(9092, 9093, Path("/data")).splitlines() if line
    )
    assert env["KAFKA_MESSAGE_MAX_BYTES"] == embedded["message.max.bytes"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == embedded["auto.create.topics.enable"]
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR"] == "1"
    # Listeners are the container's own: the host reaches it on the published loopback port.
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://localhost:19092,PLAINTEXT_HOST://127.0.0.1:40000"
    assert "KAFKA_LOG_DIRS" not in env
