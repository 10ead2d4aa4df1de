"""The case panel's people and places: who holds the case (name, force, phone, on shift or
not), who else could take it (the router's own eligibility, `Router.eligible`), and the open
cases it might be a duplicate of (the merge rule, `dispatch.merging.merge_suggestions`).

Operators see workers' names and phones in clear (they call them); reporters stay masked
until an operator reveals one (dispatch.reveals, recorded).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from psycopg import AsyncConnection, sql

from config.policy import Priority, Workforce, load_workforce
from dispatch.cases.flows import CaseFlows
from dispatch.merging import OpenIncident, merge_suggestions
from dispatch.routing.values import Candidate, RoutingIncident
from dispatch.scope import Scope

Conn = AsyncConnection[Any]
Row = dict[str, Any]
workforce = cache(load_workforce)


def _labels(role: str) -> tuple[str, str]:
    """A force's or a ladder role's name in Chinese and English (config/forces.toml)."""
    w: Workforce = workforce()
    force = w.forces.get(role) or w.roles.get(role)
    return (force.zh, force.en) if force else (role, role)


async def workers_of(conn: Conn, ids: Iterable[str]) -> dict[str, Row]:
    """Each worker of `ids` that exists: name, force, phone, level, active (the board shows names)."""
    cur = await conn.execute(
        "SELECT worker_id, name, force, phone, level, active FROM workers WHERE worker_id = ANY(%s)",
        (sorted(set(ids)),),
    )
    return {
        r[0]: {"worker_id": r[0], "name": r[1], "force": r[2], "phone": r[3], "level": r[4], "active": r[5]}
        for r in await cur.fetchall()
    }


async def people_of(
    conn: Conn, flows: CaseFlows, incident: Row, ids: Iterable[str], now: datetime
) -> dict[str, Row]:
    """Each of `ids` (the assignee, the tasks' holders) as a person: name, force, phone, and
    whether they are on shift now (None for someone who is not around this case any more)."""
    people = await workers_of(conn, ids)
    around = {c.worker_id: c for c in flows.people.near(incident)}
    resolved = {
        c.worker_id: c
        for c in flows.people.directory.on_duty_at(
            [around[i] for i in people if i in around], now, flows.rules.tk.working
        )
    }
    for worker_id, person in people.items():
        person["force_zh"], person["force_en"] = _labels(person["force"])
        c = resolved.get(worker_id)
        person["on_shift"] = (
            flows.rules.router.on_shift(c, now) if c is not None and person["active"] else None
        )
    return people


def _routing(incident: Row) -> RoutingIncident:
    """What the router knows of the case, from the board's summary of it."""
    return RoutingIncident(
        str(incident["incident_id"]),
        incident["category"],
        Priority(incident["priority"]),
        incident.get("grid_code"),
        incident.get("community_code"),
        incident.get("street_code"),
        incident.get("lon"),
        incident.get("lat"),
    )


async def candidates(conn: Conn, flows: CaseFlows, incident: Row, now: datetime) -> list[Row]:
    """Who may take the case now, in the router's order, with their open work and distance."""
    around: list[Candidate] = await flows.people_around(conn, incident, now)
    picks = flows.rules.router.eligible(_routing(incident), around, now)
    names = await workers_of(conn, (p.candidate.worker_id for p in picks))
    out = []
    for p in picks:
        c = p.candidate
        zh, en = _labels(c.role)
        out.append(
            {
                "worker_id": c.worker_id,
                "name": names.get(c.worker_id, {}).get("name"),
                "role": c.role,
                "role_zh": zh,
                "role_en": en,
                "rule": p.rule.value,
                "open_tasks": c.open_tasks,
                "distance_m": p.distance_m,
                "current": c.worker_id == incident.get("assignee_id"),
            }
        )
    return out


def _open_incident(row: Row, flows: CaseFlows) -> OpenIncident:
    category = flows.rules.taxonomy.categories.get(row["category"])
    first = row["first_reported_at"]
    first = first if isinstance(first, datetime) else datetime.fromisoformat(first)
    return OpenIncident(
        str(row["incident_id"]),
        flows.rules.merge.problem_of(row["category"]),
        float(row["lon"]),
        float(row["lat"]),
        first,
        first,
        Priority(row["priority"]),
        category.lead_department if category else "",
    )


NEARBY = """
SELECT i.incident_id::text, i.category, i.priority, i.state, i.grid_code, i.address, i.description,
       i.first_reported_at, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat
FROM incidents i
WHERE i.state NOT IN ('closed', 'merged', 'rejected') AND i.geom IS NOT NULL
  AND i.incident_id <> %(case)s::uuid AND i.category = ANY(%(categories)s)
  AND i.geom && ST_Expand(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(degrees)s)
  AND {scope}
"""


async def merge_candidates(conn: Conn, flows: CaseFlows, incident: Row, scope: Scope) -> list[Row]:
    """Open cases of the same problem near this one (any grid), nearest first, by the merge rule."""
    if incident.get("lon") is None or incident.get("lat") is None:
        return []
    policy = flows.rules.merge
    problem = policy.problem_of(incident["category"])
    categories = [c for c in flows.rules.taxonomy.categories if policy.problem_of(c) == problem]
    cur = await conn.execute(
        sql.SQL(NEARBY).format(scope=scope.where("i")),
        {
            "case": str(incident["incident_id"]),
            "categories": categories,
            "lon": incident["lon"],
            "lat": incident["lat"],
            "degrees": policy.search_degrees,
        },
    )
    names = [d.name for d in cur.description or ()]
    rows = {r[0]: dict(zip(names, r, strict=True)) for r in await cur.fetchall()}
    here = _open_incident(incident, flows)
    nearby = merge_suggestions(here, (_open_incident(r, flows) for r in rows.values()), policy)
    return [{**rows[o.incident_id], "distance_m": round(d, 1)} for o, d in nearby]
