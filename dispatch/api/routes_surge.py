"""Surges on the board: list them (with their KPI split), declare one by drawing an area or
picking divisions, end one. Declaring and ending are for district operators (区社会治理中心), in
their own district (the city operator: anywhere); every operator sees the surges of their area.
CAP warnings arrive by the emergency feed (streams/agents/surge.py) and show here beside the
drawn ones.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dispatch.api.answers import ERRORS
from dispatch.api.edge import Body
from dispatch.api.errors import NotFound
from dispatch.api.state import DistrictOperator, Forbidden, Operator, State
from dispatch.lifecycle.errors import DetailError
from dispatch.surge.areas import AreaError, WarningArea
from dispatch.surge.declarations import Declaration
from dispatch.surge.flows import SurgeError, SurgeFlows, surge_kpis, surge_rows
from dispatch.surge.models import EndReason, SurgeOrigin, SurgeStatus, status_of
from dispatch.surge.policy import load_surge_policy

router = APIRouter(tags=["surge", "operator"], responses=ERRORS)
SurgeId = Annotated[str, Path(max_length=64, pattern=r"^[0-9a-f-]{36}$")]
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Level = Literal["红色", "橙色", "黄色", "蓝色"]


class CircleIn(Body):
    lon: Lon
    lat: Lat
    radius_m: float = Field(gt=0, le=200_000)


class AreaIn(Body):
    polygons: list[Annotated[list[tuple[Lon, Lat]], Field(min_length=4, max_length=500)]] = Field(
        default=[], max_length=20, description="rings of [lon, lat] (WGS84), first point = last"
    )
    circles: list[CircleIn] = Field(default=[], max_length=20)
    geocodes: list[Annotated[str, Field(pattern=r"^\d{6}(\d{3})?(\d{3})?(\d{3})?$")]] = Field(
        default=[], max_length=500, description="division codes picked: district, street, community or grid"
    )


class SurgeIn(Body):
    warning: str = Field(min_length=1, max_length=16, description="the warning type, e.g. 暴雨")
    level: Level
    title: str | None = Field(default=None, max_length=200)
    starts_at: AwareDatetime | None = Field(default=None, description="default: now")
    until: AwareDatetime | None = Field(default=None, description="default: the policy's default length")
    area: AreaIn


class SurgeKpi(BaseModel):
    opened: int = Field(description="cases of its categories opened in its grids while in force")
    open: int
    overdue: int
    raised: int = Field(description="open cases it raised when declared")


class SurgeOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    surge_id: str
    origin: SurgeOrigin
    reference: str | None
    warning: str
    level: str
    name: str
    title: str
    status: SurgeStatus
    categories: list[str]
    raise_by: int
    limits_factor: float
    area: dict[str, Any]
    grids: list[str]
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    end_reason: EndReason | None
    declared_by: str
    kpi: SurgeKpi


class SurgeList(BaseModel):
    items: list[SurgeOut]


class RuleOut(BaseModel):
    warning: str
    level: str
    name: str
    categories: list[str]
    raise_by: int
    limits_factor: float


class RuleList(BaseModel):
    items: list[RuleOut]
    default_hours: float = Field(description="how long a surge declared with no `until` lasts")


def _flows(state: State) -> SurgeFlows:
    return SurgeFlows(state.flows, load_surge_policy())


def _out(row: dict[str, Any], kpi: dict[str, Any], now: datetime) -> SurgeOut:
    rule = load_surge_policy().rule(row["warning"], row["level"])
    return SurgeOut.model_validate(
        {
            **row,
            "name": f"{row['warning']}{row['level']}预警",
            "status": status_of(row, now),
            "categories": sorted(rule.categories) if rule else [],
            "raise_by": rule.raise_by if rule else 0,
            "limits_factor": rule.limits_factor if rule else 1.0,
            "kpi": kpi,
        }
    )


@router.get("/surges", response_model=SurgeList)
async def list_surges(
    caller: Operator, state: State, hours: Annotated[int, Query(ge=0, le=24 * 366)] = 24
) -> SurgeList:
    """The surges in force, scheduled, or ended in the last `hours`; each with its KPI split."""
    now = state.flows.clock()
    async with state.pool.connection() as conn:
        rows = await surge_rows(conn, since=now - timedelta(hours=hours))
        kpis = await surge_kpis(conn, rows, load_surge_policy())
    if not caller.scope.whole_city:
        rows = [r for r in rows if any(caller.scope.covers(g) for g in r["grids"])]
    return SurgeList(items=[_out(r, kpis[r["surge_id"]], now) for r in rows])


@router.get("/surges/policies", response_model=RuleList)
async def list_surge_policies(caller: Operator) -> RuleList:
    """The (warning, level) pairs config/surge.toml has a policy for: what the board offers an
    operator who draws a surge, so it never offers one POST /surges would refuse."""
    policy = load_surge_policy()
    return RuleList(
        items=[
            RuleOut(
                warning=r.warning,
                level=r.level,
                name=r.name,
                categories=sorted(r.categories),
                raise_by=r.raise_by,
                limits_factor=r.limits_factor,
            )
            for r in policy.rules
        ],
        default_hours=policy.default_duration.total_seconds() / 3600,
    )


@router.post("/surges", response_model=SurgeOut, status_code=201)
async def declare_surge(body: SurgeIn, caller: DistrictOperator, state: State) -> SurgeOut:
    """Put a warning in force over a drawn area or picked divisions: new cases there open under
    its policy (config/surge.toml) and the open cases of its categories are raised now. A district
    operator's surge covers their district's grids only (a drawn area reaching past the boundary
    stops at it; a picked division of another district is 403)."""
    for i, code in enumerate(body.area.geocodes):
        if not caller.scope.covers(code):
            raise Forbidden(f"area.geocodes[{i}]: {code} is outside your {caller.scope.describe()}")
    policy = load_surge_policy()
    rule = policy.rule(body.warning, body.level)
    if rule is None:
        raise DetailError(
            "warning",
            f"no surge policy for {body.warning}{body.level} in config/surge.toml",
            code="no_policy",
        )
    now = state.flows.clock()
    starts = body.starts_at or now
    ends = body.until or starts + policy.default_duration
    if ends <= starts:
        raise DetailError("until", "must be after starts_at", code="before_start")
    if ends <= now:
        raise DetailError("until", "is already past", code="in_the_past")
    area = WarningArea(
        polygons=tuple(tuple(p) for p in body.area.polygons),
        circles=tuple((c.lon, c.lat, c.radius_m) for c in body.area.circles),
        geocodes=tuple(body.area.geocodes),
    )
    if area.empty:
        raise DetailError("area", "draw a polygon or circle, or pick at least one division", code="required")
    try:
        area.shapes()
    except AreaError as exc:
        raise DetailError(f"area.{exc.field}", str(exc)) from None
    declaration = Declaration(
        surge_id=str(uuid.uuid4()),
        origin=SurgeOrigin.OPERATOR,
        reference=None,
        rule=rule,
        title=body.title or rule.name,
        area=area,
        starts_at=starts,
        ends_at=ends,
        declared_by=caller.subject,
    )
    async with state.pool.connection() as conn:
        try:
            declared = await _flows(state).declare(conn, declaration, within=caller.scope)
        except SurgeError as exc:
            raise DetailError(exc.field, str(exc)) from None
        kpis = await surge_kpis(conn, [declared.row], policy)
    return _out(declared.row, kpis[declaration.surge_id], now)


@router.post("/surges/{surge_id}/end", response_model=SurgeOut)
async def end_surge(surge_id: SurgeId, caller: DistrictOperator, state: State) -> SurgeOut:
    """End a surge now (an ended one stays as it was). Priorities already raised stay raised.
    A district operator ends their district's surges; one reaching other districts too (a CAP
    warning's, the city's) only the city operator ends (403); another district's is 404."""
    async with state.pool.connection() as conn:
        found = await surge_rows(conn, surge_id=surge_id)
        grids = found[0]["grids"] if found else []
        if not any(caller.scope.covers(g) for g in grids):
            raise NotFound()
        if not all(caller.scope.covers(g) for g in grids):
            raise Forbidden(
                f"surge {surge_id} reaches beyond your {caller.scope.describe()}: the city ends it"
            )
        row = await _flows(state).end(conn, surge_id, EndReason.OPERATOR, caller.subject)
        if row is None:
            raise NotFound()
        kpis = await surge_kpis(conn, [row], load_surge_policy())
    return _out(row, kpis[surge_id], state.flows.clock())
