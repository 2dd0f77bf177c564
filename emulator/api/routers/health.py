"""``/healthz`` (the process answers) and ``/readyz`` (Kafka and S3 answer too)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from emulator.api.deps import Resources
from emulator.api.models import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Kafka or S3 does not answer."}},
    summary="Readiness: Kafka and S3 answer",
)
async def readyz(resources: Resources) -> JSONResponse:
    checks = {"kafka": resources.kafka_check(), "s3": await resources.s3_check()}
    answer = Readiness(ready=all(c.ok for c in checks.values()), checks=checks)
    return JSONResponse(answer.model_dump(mode="json"), status_code=200 if answer.ready else 503)
