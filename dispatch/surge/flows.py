"""Surge side effects: declare and end surges in PostgreSQL, raise the open cases they cover,
and read the surges in force for the intake's overlay.

Declaring is idempotent (the surge id is derived for CAP alerts; an insert that meets the row
changes nothing). Raising an open case is one `raise_priority` event naming the surge
(`data.raised.surge_id`), written with the case in one transaction and published after commit
through the case flows (`dispatch.cases.flows.CaseFlows.write` / `publish`), so the outbox relay
covers a broker outage. The raise restarts the owner clocks under the raised priority's limits
times the rule's `limits_factor` (the event carries the factor), as a new case opens under it.
A case already raised by the surge, or opened after it began (the intake opened it under the
surge), is left alone, so raising is idempotent: a surge declared for a later start is raised
when it begins by `SurgeFlows.raise_begun` (the surge agent's timer), and a repeat of either
raises nothing twice. Ending a surge does not lower priorities (urgency is monotone,
`dispatch.cases.urgency`); it stops new cases opening under it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from shapely import wkb

from config.policy import Priority
from dispatch.cases import queries as q
from dispatch.cases.flows import CaseFlows
from dispatch.cases.urgency import raised_row
from dispatch.cases.work import CaseWork, Changes
from dispatch.kpi.queries import SURGE_CASES_SQL, SurgeScope
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.errors import LifecycleError
from dispatch.lifecycle.states import OPEN, Action, Role
from dispatch.scope import CITY, Level, Scope
from dispatch.surge.areas import GridShape, WarningArea, covered_grids
from dispatch.surge.declarations import CapEffect, Declaration
from dispatch.surge.models import EndReason
from dispatch.surge.overlay import raised
from dispatch.surge.policy import SurgePolicy, SurgeRule

log = logging.getLogger(__name__)
Row = dict[str, Any]
Conn = AsyncConnection[Any]
SURGE_ACTOR = Actor(Role.SYSTEM, "surge")
COLUMNS = (
    "surge_id, origin, reference, warning, level, title, area, grids, starts_at, ends_at, "
    "declared_by, declared_at, ended_at, end_reason, ended_by"
)


class SurgeError(ValueError):
    """A surge request that cannot be applied; the message names the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


def area_doc(area: WarningArea) -> Row:
    return {
        "polygons": [[list(p) for p in ring] for ring in area.polygons],
        "circles": [{"lon": c[0], "lat": c[1], "radius_m": c[2]} for c in area.circles],
        "geocodes": list(area.geocodes),
    }


async def grid_shapes(conn: Conn, at: datetime, within: Scope = CITY) -> list[GridShape]:
    """The grids of each district's layer version in force at `at` (those inside `within`)."""
    cur = await conn.execute(
        sql.SQL(
            "SELECT g.code, ST_AsBinary(g.geom) FROM geo_grid g WHERE g.version_id IN ("
            " SELECT DISTINCT ON (district_code) id FROM geo_layer_version WHERE effective_from <= %s"
            " ORDER BY district_code, effective_from DESC, id DESC) AND {}"
        ).format(within.where("g", {Level.GRID: "code"})),
        (at,),
    )
    return [GridShape(code, wkb.loads(bytes(geom))) for code, geom in await cur.fetchall()]


async def surge_rows(conn: Conn, *, since: datetime | None = None, surge_id: str | None = None) -> list[Row]:
    """Surges that end after `since` (all with None), or the one `surge_id`; newest first."""
    where = sql.SQL("TRUE")
    args: list[Any] = []
    if since is not None:
        where, args = sql.SQL("LEAST(ends_at, COALESCE(ended_at, ends_at)) > %s"), [since]
    if surge_id is not None:
        where, args = sql.SQL("surge_id = %s"), [surge_id]
    query = sql.SQL("SELECT {} FROM surges WHERE {} ORDER BY starts_at DESC, surge_id").format(
        sql.SQL(COLUMNS), where
    )
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, args)
        return list(await cur.fetchall())


@dataclass(frozen=True, slots=True)
class Declared:
    row: Row
    fresh: bool  # False: it was declared before (a redelivered alert)
    raised: list[Changes]


class SurgeFlows:
    """Declare, end and apply surges over the case flows of one process (API or worker)."""

    def __init__(self, cases: CaseFlows, policy: SurgePolicy) -> None:
        self.cases = cases
        self.policy = policy

    async def declare(self, conn: Conn, d: Declaration, *, within: Scope = CITY) -> Declared:
        """`within`: the declaring operator's scope — a district operator's surge covers the
        grids of their district that its area covers, never another district's."""
        now = self.cases.clock()
        async with conn.transaction():
            grids = sorted(covered_grids(d.area, await grid_shapes(conn, d.starts_at, within)))
            if not grids:
                whose = "any district" if within.whole_city else f"your {within.describe()}"
                raise SurgeError("area", f"covers no grid of {whose}")
            cur = await conn.execute(
                "INSERT INTO surges (surge_id, origin, reference, warning, level, title, area, grids,"
                " starts_at, ends_at, declared_by, declared_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (surge_id) DO NOTHING",
                (
                    d.surge_id,
                    d.origin.value,
                    d.reference,
                    d.rule.warning,
                    d.rule.level,
                    d.title,
                    Jsonb(area_doc(d.area)),
                    grids,
                    d.starts_at,
                    d.ends_at,
                    d.declared_by,
                    now,
                ),
            )
            fresh = cur.rowcount == 1
            (row,) = await surge_rows(conn, surge_id=d.surge_id)
            in_force = d.starts_at <= now < d.ends_at
            changes = await self._raise_open(conn, row, d.rule, now) if fresh and in_force else []
        if changes:
            await self.cases.publish(conn, changes, {})
        return Declared(row, fresh, changes)

    async def end(self, conn: Conn, surge_id: str, reason: EndReason, by: str) -> Row | None:
        """End a surge now (once: ending an ended one changes nothing). None: no such surge."""
        now = self.cases.clock()
        async with conn.transaction():
            await conn.execute(
                "UPDATE surges SET ended_at = %s, end_reason = %s, ended_by = %s"
                " WHERE surge_id = %s AND ended_at IS NULL",
                (now, reason.value, by, surge_id),
            )
            rows = await surge_rows(conn, surge_id=surge_id)
        return rows[0] if rows else None

    async def raise_begun(self, conn: Conn, since: datetime | None) -> list[Changes]:
        """Raise the open cases of the surges in force now that began after `since` (all in
        force with None, after a restart). Surges being raised by another process are skipped
        (SKIP LOCKED: it raises them); a case is raised once per surge whatever the overlap."""
        now = self.cases.clock()
        out: list[Changes] = []
        async with conn.transaction():
            query = sql.SQL(
                "SELECT {} FROM surges WHERE starts_at <= %s AND ends_at > %s"
                " AND (ended_at IS NULL OR ended_at > %s) AND (%s::timestamptz IS NULL OR starts_at > %s)"
                " ORDER BY starts_at, surge_id FOR UPDATE SKIP LOCKED"
            ).format(sql.SQL(COLUMNS))
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(query, (now, now, now, since, since))
                rows = list(await cur.fetchall())
            for row in rows:
                rule = self.policy.rule(row["warning"], row["level"])
                if rule is not None:
                    out += await self._raise_open(conn, row, rule, now)
        if out:
            await self.cases.publish(conn, out, {})
        return out

    async def apply_cap(self, conn: Conn, effect: CapEffect) -> list[str]:
        """End what a CAP Update/Cancel names, declare what it puts in force; what was done."""
        done: list[str] = []
        reason = EndReason.CANCELLED if effect.declare is None else EndReason.UPDATED
        for surge_id in effect.ends:
            row = await self.end(conn, surge_id, reason, "cap")
            if row is not None:
                done.append(f"ended {surge_id} ({reason})")
        if effect.declare is not None:
            try:
                declared = await self.declare(conn, effect.declare)
            except SurgeError as exc:
                done.append(f"{effect.why}: {exc}")
            else:
                if declared.fresh:
                    done.append(
                        f"declared {effect.declare.surge_id}: {len(declared.raised)} open case(s) raised"
                    )
        return done

    async def _raise_open(self, conn: Conn, surge: Row, rule: SurgeRule, now: datetime) -> list[Changes]:
        if rule.raise_by == 0:
            return []
        cur = await conn.execute(
            "SELECT incident_id::text FROM incidents i WHERE state = ANY(%s) AND grid_code = ANY(%s)"
            " AND category = ANY(%s) AND priority <> 'P0' AND created_at < GREATEST(%s, %s)"
            " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.incident_id = i.incident_id"
            "  AND e.action = 'raise_priority' AND e.data -> 'raised' ->> 'surge_id' = %s)"
            " ORDER BY incident_id",
            (
                [s.value for s in OPEN],
                surge["grids"],
                sorted(rule.categories),
                surge["starts_at"],
                surge["declared_at"],
                surge["surge_id"],
            ),
        )
        ids = [r[0] for r in await cur.fetchall()]
        if not ids:
            return []
        locked = await q.lock_incidents(conn, ids)
        tasks = await q.tasks_of(conn, ids)
        out: list[Changes] = []
        window: list[tuple[str, str, str]] = []
        name = f"{rule.name} ({surge['surge_id']})"
        for incident_id in ids:
            row = locked.get(incident_id)
            if row is None:
                continue
            before = Priority(row["priority"])
            to = raised(before, rule.raise_by)
            category = self.cases.rules.taxonomy.category(row["category"])
            # the case is now under this surge: its rules carry the surge's scaled limits while it
            # holds, for the clocks the raise restarts and for those the case starts later
            raised_incident = {**raised_row(row, category, to), "surge_id": surge["surge_id"]}
            rules = await self.cases.rules_for(conn, raised_incident, now=now)
            work = CaseWork(
                raised_incident, [t for t in tasks if str(t["incident_id"]) == incident_id], rules, now
            )
            why = (
                f"surge {name} raised the priority {before.value} → {to.value},"
                f" limits × {rule.limits_factor:g}"
            )
            data = {
                "raised": {
                    "surge_id": surge["surge_id"],
                    "surge": rule.name,
                    "category": category.code,
                    "from": before.value,
                    "to": to.value,
                    "limits_factor": rule.limits_factor,
                    "lead_department": category.lead_department,
                    "told": work.case.assignee_id,
                }
            }
            try:
                work.act(Action.RAISE_PRIORITY, SURGE_ACTOR, why, data=data)
            except LifecycleError as exc:
                log.info("surge %s: case %s not raised (%s)", surge["surge_id"], incident_id, exc)
                continue
            if to is Priority.P0:
                work.assist_beside(category.lead_department, why)
            out.append(work.finish())
            window.append((incident_id, to.value, category.lead_department))
        await self.cases.write(conn, out)
        await q.raise_in_merge_window(conn, window)
        return out


def surge_scope(row: Row, policy: SurgePolicy) -> SurgeScope:
    """A stored surge as its KPI split counts it (its rule's categories; none when its policy
    was removed since)."""
    rule = policy.rule(row["warning"], row["level"])
    ends = min(row["ends_at"], row["ended_at"]) if row["ended_at"] else row["ends_at"]
    categories = sorted(rule.categories) if rule else []
    return SurgeScope(row["surge_id"], row["grids"], categories, row["starts_at"], ends)


async def surge_kpis(conn: Conn, rows: Sequence[Row], policy: SurgePolicy) -> dict[str, Row]:
    """Per surge, over its cases (`dispatch.kpi.queries.SURGE_CASES_SQL`): how many opened while
    it was in force, how many are open and overdue now, how many open cases it raised."""
    out: dict[str, Row] = {}
    for row in rows:
        scope = surge_scope(row, policy)
        query = sql.SQL(
            "SELECT count(*) FILTER (WHERE created_at >= %s AND created_at < %s),"
            " count(*) FILTER (WHERE state = ANY(%s)),"
            " count(*) FILTER (WHERE state = ANY(%s) AND light = 'red'),"
            " (SELECT count(*) FROM events WHERE action = 'raise_priority'"
            "  AND data -> 'raised' ->> 'surge_id' = %s)"
            " FROM incidents WHERE incident_id IN ({})"
        ).format(sql.SQL(SURGE_CASES_SQL))
        open_states = [s.value for s in OPEN]
        cur = await conn.execute(
            query,
            [scope.starts_at, scope.ends_at, open_states, open_states, scope.surge_id, *scope.args()],
        )
        found = await cur.fetchone()
        assert found is not None
        out[scope.surge_id] = {"opened": found[0], "open": found[1], "overdue": found[2], "raised": found[3]}
    return out
