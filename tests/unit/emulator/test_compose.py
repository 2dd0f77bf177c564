"""docker-compose.yml cannot run here (no Docker engine), so it is checked statically: by docker-compose itself
and by the rules the project holds it to."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.settings import KAFKA_VERSION

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_docker_compose_accepts_the_file() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.fail("docker-compose is needed to validate docker-compose.yml: apt-get install docker-compose")
    result = subprocess.run([tool, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_images_are_pinned_and_never_latest(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image")
        if "build" in service:
            continue
        assert image, f"{name} has neither image nor build"
        repo, _, tag = image.rpartition(":")
        assert repo, f"{name}: image {image!r} has no tag"
        assert tag not in ("", "latest"), f"{name}: image {image!r} is not pinned to a tag"
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    # Docker Hub's minio/minio and minio/mc were deleted; only quay.io still serves them.
    assert compose["services"]["minio"]["image"].startswith("quay.io/minio/minio:RELEASE.")
    assert compose["services"]["create-bucket"]["image"].startswith("quay.io/minio/mc:RELEASE.")


def test_published_ports_are_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_services_wait_for_real_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "kafka-broker-api-versions.sh" in " ".join(services["kafka"]["healthcheck"]["test"])
    assert services["minio"]["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    assert services["app"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["app"]["depends_on"]["create-bucket"]["condition"] == "service_completed_successfully"
    assert services["app"]["command"][0] == "kemu"


def test_kafka_has_a_listener_for_containers_and_one_for_the_host(compose: dict[str, Any]) -> None:
    env = compose["services"]["kafka"]["environment"]
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:19092,PLAINTEXT_HOST://127.0.0.1:9092"
    assert compose["services"]["app"]["environment"]["KEMU_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:19092"
