"""``/pipeline``: the pipeline as it runs (what the live page draws), from the supervisor and the inspector."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from emulator.api.deps import Resources
from emulator.api.models import StreamsAnswer
from emulator.api.pipeline import PipelineAnswer, assemble

router = APIRouter(prefix="/pipeline", tags=["pipeline"])


@router.get("", response_model=PipelineAnswer, summary="Producers, streams, queries, delivery streams and their rates")
async def pipeline(resources: Resources) -> PipelineAnswer:
    supervisor = resources.supervisor
    states = {status.name: status.state.value for status in supervisor.statuses()}
    streams = (
        resources.inspector.answer
        if resources.inspector is not None
        else StreamsAnswer(kafka_reachable=False, as_of=None, streams=[])
    )
    return assemble(
        states,
        supervisor.component_stats(),
        supervisor.component_info(),
        streams,
        resources.config.internal_topics,
        resources.rates,
        datetime.now(UTC),
    )
