"""The forecast of open tasks for the board: when each will be done, how likely it is to
breach its resolve limit, and who on shift could take an at-risk one sooner
(dispatch/breaches), the holders and the suggested workers by name. An operator sees the
tasks of their scope (a street operator: its street).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dispatch.api.answers import ERRORS
from dispatch.api.case_panel import workers_of
from dispatch.api.edge import Limit
from dispatch.api.state import Operator, State
from dispatch.breaches.history import board_forecast, load_forecast_policy
from dispatch.routing.rosters import routing_rosters

router = APIRouter(tags=["forecast", "operator"], responses=ERRORS)


class SuggestionOut(BaseModel):
    worker_id: str
    name: str | None = Field(description="the worker's name (None: not in the workers table)")
    finish_at: datetime
    gain_min: float = Field(description="minutes sooner than with the current holder")


class TaskForecast(BaseModel):
    task_id: str
    incident_id: str
    category: str
    priority: str
    grid_code: str | None
    assignee_id: str
    assignee_name: str | None = Field(description="the holder's name (None: not in the workers table)")
    force: str
    deadline: datetime | None
    finish_at: datetime
    p_breach: float
    breach: bool = Field(description="the expected finish is past the deadline")
    at_risk: bool = Field(description="p_breach at or above the policy's threshold (config/breaches.toml)")
    minutes_left: float | None = Field(description="until the deadline (negative: past it)")
    ahead: int = Field(description="the holder's tasks before this one")
    suggestion: SuggestionOut | None = None


class ForecastOut(BaseModel):
    now: datetime
    at_risk_from: float
    total: int
    at_risk: int
    items: list[TaskForecast]


@router.get("/forecast", response_model=ForecastOut)
async def get_forecast(
    caller: Operator,
    state: State,
    limit: Limit = 200,
    at_risk_only: Annotated[bool, Query(description="only the tasks at risk")] = False,
) -> ForecastOut:
    """Every open task of the scope, the most likely breaches first."""
    rules = state.flows.rules
    now = state.flows.clock()
    async with state.pool.connection() as conn:
        made = await board_forecast(
            conn,
            tk=rules.tk,
            taxonomy=rules.taxonomy,
            near=state.flows.people.near,
            rosters=routing_rosters(),
            scope=caller.scope,
            now=now,
            policy=load_forecast_policy(),
        )
        held = (f.task.assignee_id for f in made.forecasts)
        offered = (s.worker_id for s in made.suggestions.values())
        people = await workers_of(conn, [*held, *offered])
    names = {worker_id: person["name"] for worker_id, person in people.items()}
    threshold = made.params.at_risk
    items = []
    for f in made.forecasts:
        risky = f.p_breach >= threshold
        if at_risk_only and not risky:
            continue
        s = made.suggestions.get(f.task.task_id)
        items.append(
            TaskForecast(
                task_id=f.task.task_id,
                incident_id=f.task.incident_id,
                category=f.task.category,
                priority=f.task.priority.value,
                grid_code=f.task.grid_code,
                assignee_id=f.task.assignee_id,
                assignee_name=names.get(f.task.assignee_id),
                force=f.task.force,
                deadline=f.task.deadline,
                finish_at=f.finish_at,
                p_breach=round(f.p_breach, 3),
                breach=f.breach,
                at_risk=risky,
                minutes_left=None if (m := f.minutes_left(now)) is None else round(m, 1),
                ahead=f.ahead,
                suggestion=None
                if s is None
                else SuggestionOut(
                    worker_id=s.worker_id,
                    name=names.get(s.worker_id),
                    finish_at=s.finish_at,
                    gain_min=round(s.gain_s / 60, 1),
                ),
            )
        )
    risky_n = sum(1 for f in made.forecasts if f.p_breach >= threshold)
    return ForecastOut(
        now=now, at_risk_from=threshold, total=len(made.forecasts), at_risk=risky_n, items=items[:limit]
    )
