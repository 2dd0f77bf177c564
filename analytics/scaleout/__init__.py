"""Scale-out of kemu's own engine: N workers over one query share its source partitions through a Kafka consumer
group, and a merge stage combines their per-partition partials into results equal to one worker's."""

from analytics.scaleout.merge import MergeStage, MergeState
from analytics.scaleout.partials import (
    Partial,
    Progress,
    ScaleOutError,
    group_name,
    partials_topic,
    refusal,
)
from analytics.scaleout.partition_operator import PartitionOperator
from analytics.scaleout.worker import GroupWorker
from analytics.topics import describe_source

__all__ = [
    "GroupWorker",
    "MergeStage",
    "MergeState",
    "Partial",
    "PartitionOperator",
    "Progress",
    "ScaleOutError",
    "describe_source",
    "group_name",
    "partials_topic",
    "refusal",
]
