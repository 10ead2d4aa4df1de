"""The estimator's inputs from PostgreSQL: resolved tasks of the history window, the open
tasks with their resolve deadlines, recent arrivals per grid and priority; and the forecast
of a scope with suggestions of people on shift with slack (`board_forecast`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection, sql

from config.policy import CONFIG_DIR, PolicyError, Priority, Taxonomy, read_toml
from dispatch.breaches.estimator import (
    Arrivals,
    DoneTask,
    Forecast,
    OpenTask,
    Params,
    ServiceTimes,
    Slack,
    Suggestion,
    forecast,
    suggest,
)
from dispatch.codec import clocks_from
from dispatch.routing.rosters import Roster, on_shift
from dispatch.routing.values import Candidate
from dispatch.scope import CITY, Scope
from dispatch.sla.calendar import Timekeeper
from dispatch.sla.clocks import ClockName
from dispatch.sla.errors import CalendarRangeError

Conn = AsyncConnection[Any]


@dataclass(frozen=True, slots=True)
class ForecastPolicy:
    history: timedelta
    arrival_window: timedelta
    params: Params


@cache
def load_forecast_policy(path: Path = CONFIG_DIR / "breaches.toml") -> ForecastPolicy:
    doc = read_toml(path)
    try:
        days, window = int(doc["history_days"]), int(doc["arrival_window_min"])
        params = Params(min_samples=int(doc["min_samples"]), at_risk=float(doc["at_risk"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(
            f"{path}: needs history_days, arrival_window_min, min_samples, at_risk ({exc})"
        ) from None
    if not (1 <= days <= 366 and 5 <= window <= 1440 and params.min_samples >= 1 and 0 < params.at_risk < 1):
        raise PolicyError(f"{path}: a value is out of range")
    return ForecastPolicy(timedelta(days=days), timedelta(minutes=window), params)


async def done_tasks(conn: Conn, since: datetime) -> list[DoneTask]:
    cur = await conn.execute(
        "SELECT t.assignee_id, i.category, t.assignee_role, t.grid_code, t.created_at, t.accepted_at,"
        " t.resolved_at FROM tasks t JOIN incidents i USING (incident_id)"
        " WHERE t.resolved_at >= %s AND t.kind = 'main'",
        (since,),
    )
    return [DoneTask(*r) for r in await cur.fetchall()]


async def open_tasks(
    conn: Conn, tk: Timekeeper, scope: Scope = CITY
) -> tuple[list[OpenTask], dict[str, dict[str, str | None]]]:
    """The active tasks (in `scope`, `dispatch.scope`) with their resolve deadlines; and each
    task's incident areas by task id (the community: for the people who might take it; the
    district: whose board it is on, also for a case at its district's centre)."""
    cur = await conn.execute(
        sql.SQL(
            "SELECT t.task_id::text, t.incident_id::text, i.category, i.priority, t.grid_code, t.assignee_id,"
            " t.assignee_role, t.created_at, t.accepted_at, i.clocks, i.community_code, t.arrived_at,"
            " i.district_code"
            " FROM tasks t JOIN incidents i USING (incident_id)"
            " WHERE t.status = 'active' AND t.resolved_at IS NULL AND {}"
        ).format(scope.where("i"))
    )
    out: list[OpenTask] = []
    areas: dict[str, dict[str, str | None]] = {}
    for (
        tid,
        iid,
        cat,
        prio,
        grid,
        who,
        role,
        created,
        accepted,
        clocks,
        community,
        arrived,
        district,
    ) in await cur.fetchall():
        deadline = None
        resolve = clocks_from(clocks or {}).get(ClockName.RESOLVE)
        if resolve is not None:
            try:
                deadline = resolve.deadline(tk)
            except CalendarRangeError:
                deadline = None
        out.append(
            OpenTask(tid, iid, cat, Priority(prio), grid, who, role, created, accepted, deadline, arrived)
        )
        areas[tid] = {"grid_code": grid, "community_code": community, "district_code": district}
    return out, areas


async def arrivals(conn: Conn, since: datetime, now: datetime, history_since: datetime) -> Arrivals:
    cur = await conn.execute(
        "SELECT grid_code, priority, count(*) FROM incidents WHERE created_at >= %s AND created_at <= %s"
        " AND grid_code IS NOT NULL GROUP BY 1, 2",
        (since, now),
    )
    seconds = max((now - since).total_seconds(), 1.0)
    rates = {(g, Priority(p)): n / seconds for g, p, n in await cur.fetchall()}
    cur = await conn.execute(
        "SELECT grid_code, count(DISTINCT assignee_id) FROM tasks WHERE created_at >= %s"
        " AND grid_code IS NOT NULL GROUP BY 1",
        (history_since,),
    )
    return Arrivals(rates, {g: n for g, n in await cur.fetchall()})


@dataclass(frozen=True, slots=True)
class BoardForecast:
    now: datetime
    forecasts: list[Forecast]
    suggestions: dict[str, Suggestion]
    params: Params


def slack_of(
    people: Sequence[Candidate],
    queues: dict[str, list[Forecast]],
    *,
    forces: Sequence[str],
    rosters: dict[str, Roster],
    tk: Timekeeper,
    now: datetime,
) -> list[Slack]:
    """The people of the task's eligible forces on shift now, with their queues."""
    out = []
    for c in people:
        roster = rosters.get(c.roster)
        if c.role in forces and roster is not None and on_shift(roster, now, tk.working):
            out.append(Slack(c.worker_id, c.role, queues.get(c.worker_id, [])))
    return out


async def board_forecast(
    conn: Conn,
    *,
    tk: Timekeeper,
    taxonomy: Taxonomy,
    near: Any,
    rosters: dict[str, Roster],
    scope: Scope,
    now: datetime,
    policy: ForecastPolicy,
) -> BoardForecast:
    """Every open task's forecast in the scope and, for those at risk, who could take it.

    `near(incident_row)` gives the people around a case (`dispatch.cases.people.People.near`).
    Queues are per worker over all their open tasks (a worker's other streets count too)."""
    history_since = now - policy.history
    times = ServiceTimes.measure(await done_tasks(conn, history_since), policy.params)
    recent = await arrivals(conn, now - policy.arrival_window, now, history_since)
    every, areas = await open_tasks(conn, tk)
    forecasts = forecast(every, times, recent, now)
    queues: dict[str, list[Forecast]] = defaultdict(list)
    for f in forecasts:
        queues[f.task.assignee_id].append(f)
    mine = [f for f in forecasts if scope.admits(areas[f.task.task_id])]
    suggestions: dict[str, Suggestion] = {}
    given: Counter[str] = Counter()
    for f in mine:
        if f.p_breach < policy.params.at_risk:
            continue
        category = taxonomy.categories.get(f.task.category)
        if category is None:
            continue
        row = {
            **areas[f.task.task_id],
            "grid_code": f.task.grid_code,
            "street_code": (f.task.grid_code or "")[:9] or None,
        }
        people = slack_of(near(row), queues, forces=category.forces, rosters=rosters, tk=tk, now=now)
        people = [p for p in people if given[p.worker_id] == 0]  # one suggestion per person per pass
        found = suggest(f, people, times, now)
        if found is not None:
            suggestions[f.task.task_id] = found
            given[found.worker_id] += 1
    return BoardForecast(now, mine, suggestions, policy.params)
