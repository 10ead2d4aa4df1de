"""Notices: a desk's inbox (receive 签收, answer 反馈), a case's notices for the operator's case
panel, and the time to receive and answer per desk.

Scope: a desk sees only the notices addressed to it (a community lead: its community's; another
desk's notice answers 404, exactly like a missing one). Operators see the notices of the cases
in their scope (a street operator: its street's; a district operator: its district's) and the
KPIs of the desks in it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar
from uuid import UUID

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dispatch.api import board
from dispatch.api.answers import ERRORS, NOTICE_ERRORS
from dispatch.api.edge import Body
from dispatch.api.errors import NotFound
from dispatch.api.state import DeskCaller, Operator, State
from dispatch.notices import service as sv
from dispatch.notices.models import Desk, NoticeKind, NoticeState

router = APIRouter(tags=["notices"], responses=ERRORS)
NoticeId = Annotated[str, Path(max_length=160, pattern=r"^[0-9a-f-]{36}:\d+>[a-z_]+:[^/]{1,40}$")]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class NoticeEventOut(_Out):
    action: str
    actor_id: str
    at: datetime
    data: dict[str, Any] = {}


class CaseEventOut(_Out):
    action: str
    actor_role: str | None = None
    actor_id: str
    at: datetime
    reason: str | None = None


class NoticeOut(_Out):
    notice_id: str
    incident_id: str
    kind: NoticeKind
    state: NoticeState
    desk: str
    rung: int
    title: str
    created_at: datetime
    receive_by: datetime
    seconds_left: float | None = Field(description="until receive_by while unreceived (negative: overdue)")
    received_at: datetime | None = None
    received_by: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    answer: str | None = None
    answer_due: datetime | None = None
    climbed_to: str | None = None
    category: str
    priority: str
    case_state: str
    description: str
    address: str | None = None
    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    events: list[NoticeEventOut] = []
    history: list[CaseEventOut] = []


class Inbox(BaseModel):
    desk: str
    items: list[NoticeOut]


class CaseNotices(BaseModel):
    incident_id: str
    items: list[NoticeOut]


class AnswerBody(Body):
    prose: ClassVar[frozenset[str]] = frozenset({"what"})
    what: str = Field(min_length=1, max_length=2000, description="what the unit will do")
    by: AwareDatetime = Field(description="by when (with its offset)")


class DeskKpi(BaseModel):
    desk: str
    notices: int
    unreceived: int
    climbed: int
    receive_min: float | None = Field(description="mean minutes from sent to received")
    answer_min: float | None = Field(description="mean minutes from sent to answered")


class NoticeKpis(BaseModel):
    since: datetime
    items: list[DeskKpi]


def _out(row: dict[str, Any], now: datetime, events: list[Any], history: list[Any]) -> NoticeOut:
    left = (row["receive_by"] - now).total_seconds() if row["state"] == NoticeState.SENT else None
    return NoticeOut.model_validate({**row, "seconds_left": left, "events": events, "history": history})


async def _expand(
    state: State, conn: sv.Conn, rows: list[dict[str, Any]], *, history: bool
) -> list[NoticeOut]:
    now = state.notices.clock()
    events = await sv.history(conn, [r["notice_id"] for r in rows])
    cases = await sv.case_history(conn, sorted({r["incident_id"] for r in rows})) if history else {}
    return [_out(r, now, events[r["notice_id"]], cases.get(r["incident_id"], [])) for r in rows]


@router.get("/notices", response_model=Inbox, tags=["desk"])
async def my_inbox(caller: DeskCaller, state: State) -> Inbox:
    """My desk's notices: unreceived first, the most overdue first; each with its case, place,
    time left and history."""
    desk = Desk.parse(str(caller.desk))
    async with state.pool.connection() as conn:
        rows = await sv.inbox(conn, desk)
        return Inbox(desk=str(desk), items=await _expand(state, conn, rows, history=True))


async def _one(state: State, caller: DeskCaller, notice_id: str) -> NoticeOut:
    async with state.pool.connection() as conn:
        rows = [r for r in await sv.inbox(conn, Desk.parse(str(caller.desk))) if r["notice_id"] == notice_id]
        if not rows:
            raise NotFound()
        (out,) = await _expand(state, conn, rows, history=True)
        return out


@router.post("/notices/{notice_id}/receive", response_model=NoticeOut, tags=["desk"], responses=NOTICE_ERRORS)
async def receive(notice_id: NoticeId, caller: DeskCaller, state: State) -> NoticeOut:
    """签收: the desk has seen the notice (once; a second receive answers 409)."""
    async with state.pool.connection() as conn:
        await state.notices.receive(conn, Desk.parse(str(caller.desk)), notice_id, caller.subject)
    return await _one(state, caller, notice_id)


@router.post("/notices/{notice_id}/answer", response_model=NoticeOut, tags=["desk"], responses=NOTICE_ERRORS)
async def answer(notice_id: NoticeId, body: AnswerBody, caller: DeskCaller, state: State) -> NoticeOut:
    """反馈: what the unit will do, by when (after receiving)."""
    async with state.pool.connection() as conn:
        await state.notices.answer(
            conn, Desk.parse(str(caller.desk)), notice_id, caller.subject, what=body.what, by=body.by
        )
    return await _one(state, caller, notice_id)


@router.get("/incidents/{incident_id}/notices", response_model=CaseNotices, tags=["operator"])
async def case_notices(incident_id: UUID, caller: Operator, state: State) -> CaseNotices:
    """Every notice of a case and its state, for the operator's case panel."""
    async with state.pool.connection() as conn:
        if await board.incident(conn, caller.scope, str(incident_id)) is None:
            raise NotFound()
        rows = await sv.of_incident(conn, str(incident_id))
        return CaseNotices(
            incident_id=str(incident_id), items=await _expand(state, conn, rows, history=False)
        )


@router.get("/notices/kpi", response_model=NoticeKpis, tags=["operator"])
async def notice_kpis(
    caller: Operator, state: State, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> NoticeKpis:
    """Per desk: notices, unreceived, climbed, mean minutes to receive and to answer."""
    since = datetime.now(UTC) - timedelta(days=days)
    async with state.pool.connection() as conn:
        rows = await sv.kpi(conn, since)
    if not caller.scope.whole_city:
        rows = [r for r in rows if caller.scope.covers(Desk.parse(r["desk"]).code)]
    return NoticeKpis(since=since, items=[DeskKpi.model_validate(r) for r in rows])
