"""The case panel's choices: whom to reassign to (the people the routing rule would consider,
on shift now), which open case to merge into (the same problem nearby, by the merge rule),
and a reporter's phone for a call back — each reveal recorded, and listed for the district
(a street operator lists and reveals in their street only). Another street's case is 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from dispatch.api import board, case_panel
from dispatch.api.answers import ERRORS, CaseCandidate, MergeSuggestion, RevealedReporter, RevealPage
from dispatch.api.edge import Limit, Offset
from dispatch.api.errors import NotFound
from dispatch.api.state import Operator, State
from dispatch.reveals import service as reveals

router = APIRouter(tags=["operator"], responses=ERRORS)


async def _case(conn: case_panel.Conn, caller: Operator, incident_id: UUID) -> dict[str, Any]:
    row = await board.incident(conn, caller.scope, str(incident_id))
    if row is None:
        raise NotFound()
    return row


@router.get("/incidents/{incident_id}/candidates", response_model=list[CaseCandidate])
async def candidates(incident_id: UUID, caller: Operator, state: State) -> list[dict[str, Any]]:
    """Who may take the case now, best first as the router ranks them: the eligible forces of
    its grid and community, then the community lead, the street center, the district center —
    on shift only, with their open tasks and distance (shared position, else home)."""
    async with state.pool.connection() as conn:
        row = await _case(conn, caller, incident_id)
        return await case_panel.candidates(conn, state.flows, row, datetime.now(UTC))


@router.get("/incidents/{incident_id}/merge-suggestions", response_model=list[MergeSuggestion])
async def merge_suggestions(incident_id: UUID, caller: Operator, state: State) -> list[dict[str, Any]]:
    """Open cases of the same problem within the merge radius, in any grid, nearest first."""
    async with state.pool.connection() as conn:
        row = await _case(conn, caller, incident_id)
        found = await case_panel.merge_candidates(conn, state.flows, row, caller.scope)
    return [{**r, "first_reported_at": r["first_reported_at"].isoformat()} for r in found]


@router.post("/incidents/{incident_id}/reports/{report_id}/reveal", response_model=RevealedReporter)
async def reveal(incident_id: UUID, report_id: UUID, caller: Operator, state: State) -> dict[str, Any]:
    """The reporter's name and phone in clear, to call them back. Recorded (who, when, which
    case and report) before it is answered; 404 for a report the case does not cover."""
    async with state.pool.connection() as conn:
        shown = await reveals.reveal(
            conn,
            incident_id=str(incident_id),
            report_id=str(report_id),
            scope=caller.scope,
            by=caller.subject,
        )
    if shown is None:
        raise NotFound()
    return {
        "report_id": shown.report_id,
        "incident_id": shown.incident_id,
        "name": shown.name,
        "phone": shown.phone,
        "revealed_by": shown.revealed_by,
        "revealed_at": shown.revealed_at.isoformat(),
    }


@router.get("/reveals", response_model=RevealPage)
async def list_reveals(
    *,
    caller: Operator,
    state: State,
    incident: Annotated[UUID | None, Query(description="one case's reveals")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Who saw which reporter in clear, newest first, in the operator's scope (their district,
    their street, or the city)."""
    async with state.pool.connection() as conn:
        total, rows = await reveals.reveals(
            conn,
            scope=caller.scope,
            incident_id=str(incident) if incident else None,
            limit=limit,
            offset=offset,
        )
    items = [{**r, "revealed_at": r["revealed_at"].isoformat()} for r in rows]
    return {"total": total, "limit": limit, "offset": offset, "items": items}
