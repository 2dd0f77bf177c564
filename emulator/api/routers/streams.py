"""``/streams``: the Kinesis-style streams (Kafka topics) with their shards, write rates and consumer lag."""

from __future__ import annotations

from fastapi import APIRouter

from emulator.api.deps import Resources
from emulator.api.models import StreamsAnswer

router = APIRouter(prefix="/streams", tags=["streams"])


@router.get("", response_model=StreamsAnswer, summary="Streams, shards, rates and consumer lag")
async def list_streams(resources: Resources) -> StreamsAnswer:
    if resources.inspector is None:
        return StreamsAnswer(kafka_reachable=False, as_of=None, streams=[])
    return resources.inspector.answer
