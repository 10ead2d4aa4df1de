"""Operators (the whole city, one district, or one street of it): the board, the map, the
KPIs, and every command on a case — dispatch, reassign, merge, split a report out, extensions,
verify and close or rework, park, reject, escalate by hand, reopen. An operator never reads or
changes a case outside their scope (`dispatch.scope`): those answer 404, and asking for an area
outside it in a filter answers 403."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from dispatch.api import board, case_panel
from dispatch.api.answers import (
    COMMAND_ERRORS,
    ERRORS,
    CommandAnswer,
    FeatureCollection,
    IncidentDetail,
    IncidentPage,
    Kpis,
    TaskPage,
)
from dispatch.api.commands import IdempotencyKey, answer, duration
from dispatch.api.edge import Limit, Offset
from dispatch.api.errors import NotFound
from dispatch.api.models import OperatorAction, OperatorCommand, SplitCommand, operator_actions
from dispatch.api.queues import Queue
from dispatch.api.state import Forbidden, Operator, State
from dispatch.api.views import deadlines, masked_reporter
from dispatch.cases.commands import Command
from dispatch.kpi.queries import KpiGroup, Period, kpis, out_of_area
from dispatch.lifecycle.errors import DetailError
from dispatch.lifecycle.states import CaseState
from dispatch.scope import Scope, ScopeError
from dispatch.surge.flows import surge_rows, surge_scope
from dispatch.surge.policy import load_surge_policy

router = APIRouter(tags=["operator"], responses=ERRORS)
Many = Annotated[list[str] | None, Query()]


def scope_of(caller: Operator, **areas: str | None) -> Scope:
    """The operator's scope; refuses a filter naming an area outside it (403), e.g.
    `scope_of(caller, street=street, grid=grid)`."""
    scope = caller.scope
    try:
        for name, code in areas.items():
            scope.check(name, code)
    except ScopeError as exc:
        raise Forbidden(f"operator {caller.subject} sees {scope.describe()} only ({exc})") from None
    return scope


def _summary(row: dict[str, Any], state: State) -> dict[str, Any]:
    clocks = row.pop("clocks", None)
    return {**row, "deadlines": deadlines(clocks, state.flows.rules.tk)}


def case_filter(
    *,
    caller: Operator,
    state_: Annotated[list[str] | None, Query(alias="state")] = None,
    priority: Many = None,
    light: Many = None,
    street: str | None = None,
    community: str | None = None,
    grid: str | None = None,
    source: str | None = None,
    category: str | None = None,
    q: Annotated[str | None, Query(max_length=100, description="text in the description or address")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    escalated: Annotated[bool | None, Query(description="true: escalated past the community")] = None,
    queue: Annotated[Queue | None, Query(description="one of the board's queues")] = None,
) -> board.IncidentQuery:
    """The filters of a case list, one dependency for GET /incidents and GET /export/incidents
    (so an export holds what the list shows); an area outside the operator's scope is 403."""
    scope_of(caller, street=street, community=community, grid=grid)
    return board.IncidentQuery(
        tuple(state_ or ()),
        tuple(priority or ()),
        tuple(light or ()),
        street,
        community,
        grid,
        source,
        category,
        q,
        since,
        until,
        escalated=escalated,
        queue=queue,
    )


CaseFilter = Annotated[board.IncidentQuery, Depends(case_filter)]


@router.get("/incidents", response_model=IncidentPage)
async def list_incidents(
    *,
    caller: Operator,
    state: State,
    query: CaseFilter,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    async with state.pool.connection() as conn:
        total, rows = await board.list_incidents(
            conn, caller.scope, replace(query, limit=limit, offset=offset)
        )
    return {"total": total, "limit": limit, "offset": offset, "items": [_summary(r, state) for r in rows]}


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
async def incident_detail(incident_id: UUID, caller: Operator, state: State) -> dict[str, Any]:
    """The case, its reports (reporters masked: POST …/reveal to call one back), its events
    timeline, its tasks, and the people who hold or held it (name, force, phone, on shift)."""
    async with state.pool.connection() as conn:
        row = await board.incident(conn, caller.scope, str(incident_id))
        if row is None:
            raise NotFound()
        reports = await board.reports_of(conn, str(incident_id))
        events = await board.events_of(conn, str(incident_id))
        tasks = await board.tasks_of(conn, str(incident_id))
        holders = [
            *([row["assignee_id"]] if row.get("assignee_id") else []),
            *(t["assignee_id"] for t in tasks),
        ]
        people = await case_panel.people_of(conn, state.flows, row, holders, datetime.now(UTC))
    for report in reports:
        report["reporter"] = masked_reporter(report.get("reporter"))
    return {
        "incident": _summary(row, state),
        "reports": reports,
        "events": events,
        "tasks": tasks,
        "actions": operator_actions(CaseState(row["state"])),
        "people": people,
    }


@router.get("/tasks", response_model=TaskPage)
async def list_tasks(
    *,
    caller: Operator,
    state: State,
    status: Many = None,
    assignee: str | None = None,
    level: str | None = None,
    street: str | None = None,
    grid: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    scope = scope_of(caller, street=street, grid=grid)
    query = board.TaskQuery(tuple(status or ("active",)), assignee, level, street, grid, limit, offset)
    async with state.pool.connection() as conn:
        total, rows = await board.list_tasks(conn, scope, query)
    return {"total": total, "limit": limit, "offset": offset, "items": rows}


@router.get("/map", response_model=FeatureCollection)
async def map_layer(
    caller: Operator,
    state: State,
    include_closed: bool = False,
    grids: Annotated[bool, Query(description="false: the points only (a page with the layers)")] = True,
) -> dict[str, Any]:
    """GeoJSON FeatureCollection: incidents as points (priority, light, state, overdue), and the
    grids with open items (open and overdue counts, their outlines)."""
    async with state.pool.connection() as conn:
        if not grids:
            points = await board.map_points(conn, caller.scope, open_only=not include_closed)
            return {"type": "FeatureCollection", "features": points}
        points, cells = await board.map_features(conn, caller.scope, open_only=not include_closed)
    return {"type": "FeatureCollection", "features": [*cells, *points]}


@router.get("/kpi", response_model=Kpis)
async def kpi(
    *,
    caller: Operator,
    state: State,
    group: KpiGroup = KpiGroup.STREET,
    period: Period = Period.ALL,
    since: datetime | None = None,
    until: datetime | None = None,
    surge: Annotated[
        str | None,
        Query(pattern=r"^[0-9a-f-]{36}$", description="a surge id (GET /surges): the KPIs of its cases only"),
    ] = None,
) -> dict[str, Any]:
    """按时签收率, 按期处置率, 按期结案率, 返工率, 超期数 (default: the last 30 days); with `surge`,
    split by surge: over that surge's cases (`dispatch.kpi.queries.SurgeScope`)."""
    end = until or datetime.now(UTC)
    try:
        start = since or end - timedelta(days=30)
    except OverflowError:
        raise DetailError("until", "too early: the default range is the 30 days before it") from None
    async with state.pool.connection() as conn:
        scope = None
        if surge is not None:  # surge hook: the KPI split by surge (dispatch.surge.flows)
            found = await surge_rows(conn, surge_id=surge)
            if not found:
                raise DetailError("surge", f"no surge {surge}")
            scope = surge_scope(found[0], load_surge_policy())
        rows = await kpis(
            conn, since=start, until=end, group=group, period=period, scope=caller.scope, surge=scope
        )
        outside = 0 if caller.scope.street else await out_of_area(conn, since=start, until=end)
    return {"since": start.isoformat(), "until": end.isoformat(), "items": rows, "out_of_area": outside}


@router.post("/incidents/{incident_id}/split", response_model=CommandAnswer, responses=COMMAND_ERRORS)
async def split_report(
    *,
    incident_id: UUID,
    body: SplitCommand,
    caller: Operator,
    state: State,
    response: Response,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Take a report out of this case into a case of its own, routed at once. The answer: the
    case left behind (`incident`, `tasks`, `events`: its `split` event) and, under `split`, the
    report's new case (`incident`, `tasks`, `events`: report, register, dispatch)."""
    async with state.pool.connection() as conn:
        outcome = await state.flows.split(
            conn, str(incident_id), str(body.report_id), actor=caller.actor(), reason=body.reason, key=key
        )
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return outcome.doc()


@router.post("/incidents/{incident_id}/{action}", response_model=CommandAnswer, responses=COMMAND_ERRORS)
async def act_on_incident(
    *,
    incident_id: UUID,
    action: OperatorAction,
    caller: Operator,
    state: State,
    response: Response,
    key: IdempotencyKey = None,
    body: OperatorCommand | None = None,
) -> dict[str, Any]:
    body = body or OperatorCommand()
    command = Command(
        action.lifecycle,
        caller.actor(),
        reason=body.reason,
        assignee=body.assignee,
        merged_into=str(body.merged_into) if body.merged_into else None,
        extension=duration(body.extension),
        level=body.level,
    )
    async with state.pool.connection() as conn:
        outcome = await state.flows.transition(conn, str(incident_id), command, key=key)
    if action is OperatorAction.ESCALATE and not outcome.replayed:
        state.metrics.escalations.labels("manual", "manual").inc()  # the tracker counts its own steps
    return answer(outcome, response)
