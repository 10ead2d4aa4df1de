"""Agencies: the status of their own reports (by report id or their own reference)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query

from dispatch.api import board
from dispatch.api.answers import ERRORS, AgencyReports, ReportStatus
from dispatch.api.errors import NotFound
from dispatch.api.state import Agency, State

router = APIRouter(prefix="/agency", tags=["agency"], responses=ERRORS)


@router.get("/reports", response_model=AgencyReports)
async def my_reports(
    caller: Agency, state: State, source_ref: str = Query(..., max_length=128)
) -> dict[str, Any]:
    async with state.pool.connection() as conn:
        items = await board.agency_reports(conn, caller.subject, source_ref=source_ref)
    return {"source": caller.subject, "items": items}


@router.get("/reports/{report_id}", response_model=ReportStatus)
async def my_report(report_id: UUID, caller: Agency, state: State) -> dict[str, Any]:
    async with state.pool.connection() as conn:
        items = await board.agency_reports(conn, caller.subject, report_id=str(report_id))
    if not items:
        raise NotFound()
    return items[0]
