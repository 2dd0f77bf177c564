"""EnableEnhancedMonitoring / DisableEnhancedMonitoring (Terraform's ``shard_level_metrics``): accepted, recorded and
shown in AWS's shapes; kemu publishes no CloudWatch metrics (issue 16, item 5)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.kinesis.conftest import StreamFactory

ALL = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
]


def shown(kinesis: Any, name: str) -> list[str]:
    described = kinesis.describe_stream(StreamName=name)["StreamDescription"]["EnhancedMonitoring"]
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["EnhancedMonitoring"]
    assert described == summary
    metrics: list[str] = described[0]["ShardLevelMetrics"]
    return metrics


def test_metrics_are_enabled_and_disabled_in_aws_shapes(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream()
    assert shown(kinesis, name) == []
    enabled = kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["OutgoingBytes", "IncomingBytes"])
    assert enabled["StreamName"] == name
    assert enabled["StreamARN"].endswith(f":stream/{name}")
    assert enabled["CurrentShardLevelMetrics"] == []
    assert enabled["DesiredShardLevelMetrics"] == ["IncomingBytes", "OutgoingBytes"]
    assert shown(kinesis, name) == ["IncomingBytes", "OutgoingBytes"]
    everything = kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
    assert everything["CurrentShardLevelMetrics"] == ["IncomingBytes", "OutgoingBytes"]
    assert everything["DesiredShardLevelMetrics"] == ALL
    disabled = kinesis.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes"])
    assert disabled["DesiredShardLevelMetrics"] == ALL[1:]
    kinesis.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
    assert shown(kinesis, name) == []


def test_unknown_metrics_and_streams_are_refused(kinesis: Any) -> None:
    with pytest.raises(ClientError) as caught:
        kinesis.enable_enhanced_monitoring(StreamName="no-such-stream-kemu", ShardLevelMetrics=["IncomingBytes"])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        kinesis.enable_enhanced_monitoring(StreamName="no-such-stream-kemu", ShardLevelMetrics=["Bytes"])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
