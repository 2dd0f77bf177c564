"""``/lake``: the Lake panel's data: the catalog's tables with objects, rows and freshness, and read-only SQL."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from emulator.api.deps import Resources
from emulator.api.lake import LakeQuery, LakeQueryAnswer, LakeQueryError, LakeTablesAnswer
from emulator.api.models import ErrorMessage

router = APIRouter(prefix="/lake", tags=["lake"])


@router.get("/tables", response_model=LakeTablesAnswer, summary="The lake's tables, their objects, rows and freshness")
async def lake_tables(resources: Resources) -> LakeTablesAnswer:
    if resources.lake is None:
        return LakeTablesAnswer(catalog_reachable=False, tables=[])
    return await resources.lake.tables()


@router.post(
    "/query",
    response_model=LakeQueryAnswer,
    responses={400: {"model": ErrorMessage}, 404: {"model": ErrorMessage}},
    summary="One read-only statement on the lake's tables (bounded rows, nothing written)",
)
async def lake_query(query: LakeQuery, resources: Resources) -> LakeQueryAnswer:
    if resources.lake is None:
        raise HTTPException(404, "This API has no lake: it needs Kafka and S3 (kemu up starts it with both).")
    try:
        return await resources.lake.query(query.sql, query.database)
    except LakeQueryError as exc:
        raise HTTPException(400, str(exc)) from None
