"""Deleted streams stay deleted: the brokers kemu runs never create a topic because a client asked about it.

With ``auto.create.topics.enable=true`` (Kafka's default) every aiokafka client re-creates a deleted topic the next
time it refreshes its metadata (every 5 minutes, or at once after an error): aiokafka asks for the topics it has
used with ``allow_auto_topic_creation`` set. A deleted 2-shard stream came back as a 1-shard stream.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from emulator.services.kafka import render_server_properties

ROOT = Path(__file__).resolve().parents[3]


def test_the_embedded_broker_does_not_create_topics_automatically(tmp_path: Path) -> None:
    lines = render_server_properties(9092, 9093, tmp_path).splitlines()
    assert "auto.create.topics.enable=false" in lines
    assert not [line for line in lines if line.startswith("auto.create.topics.enable=") and line.endswith("true")]


def test_the_compose_broker_does_not_create_topics_automatically() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    environment = compose["services"]["kafka"]["environment"]
    assert str(environment.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).lower() == "false"
