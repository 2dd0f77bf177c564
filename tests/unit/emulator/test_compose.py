"""docker-compose.yml checked statically, by docker-compose itself and by the rules the project holds it to; it runs
for real in tests/docker/test_compose_e2e.py (which needs a Docker engine)."""

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
    app_check = " ".join(services["app"]["healthcheck"]["test"])
    assert "/readyz" in app_check
    assert "4566" in app_check


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "kafka-data:/var/lib/kafka/data" in services["kafka"]["volumes"]
    assert services["kafka"]["environment"]["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    assert "minio-data:/data" in services["minio"]["volumes"]
    assert "app-state:/home/kemu/.cache/kemu" in services["app"]["volumes"]
    assert set(compose["volumes"]) == {"kafka-data", "minio-data", "app-state"}


def test_the_images_are_those_the_stand_in_script_builds(compose: dict[str, Any]) -> None:
    from tests.support.containers import KAFKA_IMAGE, MINIO_IMAGE

    built = subprocess.run(
        ["bash", str(ROOT / "tests" / "docker" / "build-standins.sh"), "--list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    pulled = {service["image"] for service in compose["services"].values() if "build" not in service}
    base = (ROOT / "Dockerfile").read_text().split("FROM ", 1)[1].split()[0]
    assert pulled | {KAFKA_IMAGE, MINIO_IMAGE, base} == set(built)


def test_kafka_has_a_listener_for_containers_and_one_for_the_host(compose: dict[str, Any]) -> None:
    env = compose["services"]["kafka"]["environment"]
    # The host port is a variable (defaults to 9092) so a test can run the file beside a running kemu.
    assert (
        env["KAFKA_ADVERTISED_LISTENERS"]
        == "PLAINTEXT://kafka:19092,PLAINTEXT_HOST://127.0.0.1:${KEMU_KAFKA_PORT:-9092}"
    )
    assert "127.0.0.1:${KEMU_KAFKA_PORT:-9092}:9092" in compose["services"]["kafka"]["ports"]
    assert compose["services"]["app"]["environment"]["KEMU_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:19092"
