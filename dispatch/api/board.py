"""The read side of the API: scoped SQL for lists, details, the map, tasks and report status.

Scope is part of every query, never a filter applied afterwards: an operator's
`dispatch.scope.Scope` renders its clause into the WHERE (`district_code = <theirs>`, or their
street's), a grid worker gets `assignee_id = <them>`, an agency `source = <theirs>`. Rows from
outside a caller's scope are never read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql

from dispatch.api.queues import QUEUES, Queue
from dispatch.kpi.overdue import ESCALATED_CASE, OVERDUE_CASE
from dispatch.scope import Scope

Row = dict[str, Any]
Conn = AsyncConnection[Any]
MAX_PAGE = 200

SUMMARY = sql.SQL("""jsonb_build_object(
    'incident_id', i.incident_id, 'state', i.state, 'priority', i.priority, 'category', i.category,
    'family', i.family, 'light', i.light, 'escalation_level', i.escalation_level,
    'street_code', i.street_code, 'community_code', i.community_code, 'grid_code', i.grid_code,
    'lon', ST_X(i.geom), 'lat', ST_Y(i.geom), 'address', i.address, 'description', i.description,
    'sources', i.sources, 'report_count', i.report_count, 'assignee_id', i.assignee_id,
    'current_task_id', i.current_task_id, 'merged_into', i.merged_into,
    'first_reported_at', i.first_reported_at, 'created_at', i.created_at, 'updated_at', i.updated_at,
    'closed_at', i.closed_at, 'next_sla_at', i.next_sla_at, 'returns', i.returns, 'reworks', i.reworks,
    'reopens', i.reopens, 'sla_note', i.sla_note, 'revision', i.revision, 'clocks', i.clocks)""")


TASK_REPORTS = sql.SQL("""COALESCE((
    SELECT jsonb_agg(jsonb_build_object(
        'report_id', r.report_id, 'source', r.source, 'category', r.category, 'priority', r.priority,
        'reported_at', r.reported_at, 'description', r.description, 'address', r.address)
        ORDER BY r.received_at, r.report_id)
    FROM reports r
    WHERE r.incident_id = i.incident_id
       OR r.incident_id IN (SELECT m.incident_id FROM incidents m WHERE m.merged_into = i.incident_id)
), '[]'::jsonb)""")
"""The reports a task's case covers (its own and those of cases merged into it), oldest first."""


@dataclass(frozen=True, slots=True)
class IncidentQuery:
    states: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    lights: tuple[str, ...] = ()
    street: str | None = None
    community: str | None = None
    grid: str | None = None
    source: str | None = None
    category: str | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    offset: int = 0
    escalated: bool | None = None  # True: escalated past the community (dispatch.kpi.overdue)
    queue: Queue | None = None  # one of the board's queues (dispatch.api.queues)


@dataclass
class _Where:
    parts: list[sql.Composable] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, clause: str | sql.Composable, *args: Any) -> None:
        # clauses are constants of this module or composed fragments of dispatch (never input)
        self.parts.append(sql.SQL(clause) if isinstance(clause, str) else clause)
        self.args.extend(args)

    def scoped(self, scope: Scope, alias: str = "i") -> None:
        self.add(scope.where(alias))

    def sql(self) -> sql.Composable:
        return sql.SQL(" AND ").join(self.parts) if self.parts else sql.SQL("TRUE")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _incident_where(scope: Scope, f: IncidentQuery) -> _Where:
    w = _Where()
    w.scoped(scope)
    if f.states:
        w.add("i.state = ANY(%s)", list(f.states))
    if f.priorities:
        w.add("i.priority = ANY(%s)", list(f.priorities))
    if f.lights:
        w.add("i.light = ANY(%s)", list(f.lights))
    for column, value in (("street_code", f.street), ("community_code", f.community), ("grid_code", f.grid)):
        if value:
            w.add(f"i.{column} = %s", value)
    if f.category:
        w.add("i.category = %s", f.category)
    if f.source:
        w.add("%s = ANY(i.sources)", f.source)
    if f.text:
        w.add("(i.description ILIKE %s OR i.address ILIKE %s)", _like(f.text), _like(f.text))
    if f.since:
        w.add("i.first_reported_at >= %s", f.since)
    if f.until:
        w.add("i.first_reported_at < %s", f.until)
    return _waiting(w, f)


def _waiting(w: _Where, f: IncidentQuery) -> _Where:
    """The clauses of what waits on whom: escalated or not, one of the board's queues."""
    if f.escalated is not None:
        w.add(ESCALATED_CASE if f.escalated else sql.SQL("NOT COALESCE({}, FALSE)").format(ESCALATED_CASE))
    if f.queue is not None:
        w.add(QUEUES[f.queue])
    return w


async def queue_counts(conn: Conn, scope: Scope, f: IncidentQuery) -> dict[str, int]:
    """How many cases each of the board's queues holds under the filters, in one query."""
    w = _incident_where(scope, f)
    counts = sql.SQL(", ").join(
        sql.SQL("count(*) FILTER (WHERE {})").format(clause) for clause in QUEUES.values()
    )
    cur = await conn.execute(sql.SQL("SELECT {} FROM incidents i WHERE {}").format(counts, w.sql()), w.args)
    row = await cur.fetchone() or (0,) * len(QUEUES)
    return {queue.value: int(n) for queue, n in zip(QUEUES, row, strict=True)}


async def list_incidents(conn: Conn, scope: Scope, f: IncidentQuery) -> tuple[int, list[Row]]:
    w = _incident_where(scope, f)
    total = await conn.execute(sql.SQL("SELECT count(*) FROM incidents i WHERE {}").format(w.sql()), w.args)
    count = (await total.fetchone() or (0,))[0]
    cur = await conn.execute(
        sql.SQL(
            "SELECT {} FROM incidents i WHERE {} "
            "ORDER BY i.first_reported_at DESC, i.incident_id LIMIT %s OFFSET %s"
        ).format(SUMMARY, w.sql()),
        [*w.args, min(f.limit, MAX_PAGE), f.offset],
    )
    return int(count), [r[0] for r in await cur.fetchall()]


async def incident(conn: Conn, scope: Scope, incident_id: str) -> Row | None:
    w = _Where()
    w.add("i.incident_id = %s::uuid", incident_id)
    w.scoped(scope)
    cur = await conn.execute(sql.SQL("SELECT {} FROM incidents i WHERE {}").format(SUMMARY, w.sql()), w.args)
    row = await cur.fetchone()
    return None if row is None else dict(row[0])


async def reports_of(conn: Conn, incident_id: str) -> list[Row]:
    """The incident's reports and those merged into it; the reporter is masked by the caller."""
    cur = await conn.execute(
        """
        WITH RECURSIVE family(incident_id) AS (
            SELECT %s::uuid
            UNION SELECT m.incident_id FROM incidents m JOIN family f ON m.merged_into = f.incident_id
        )
        SELECT jsonb_build_object(
            'report_id', r.report_id, 'incident_id', r.incident_id, 'source', r.source,
            'source_ref', r.source_ref, 'category', r.category, 'priority', r.priority,
            'reported_at', r.reported_at, 'received_at', r.received_at, 'description', r.description,
            'address', r.address, 'grid_code', r.grid_code, 'placement', r.placement,
            'placement_reason', r.placement_reason, 'merged', r.merged,
            'attachments', COALESCE(r.body->'attachments', '[]'::jsonb)), r.reporter
        FROM reports r JOIN family f USING (incident_id) ORDER BY r.received_at, r.report_id
        """,
        (incident_id,),
    )
    return [{**doc, "reporter": reporter} for doc, reporter in await cur.fetchall()]


async def events_of(conn: Conn, incident_id: str) -> list[Row]:
    cur = await conn.execute(
        "SELECT to_jsonb(e) FROM events e WHERE incident_id = %s::uuid ORDER BY sequence", (incident_id,)
    )
    return [r[0] for r in await cur.fetchall()]


async def tasks_of(conn: Conn, incident_id: str) -> list[Row]:
    cur = await conn.execute(
        "SELECT to_jsonb(t) FROM tasks t WHERE incident_id = %s::uuid ORDER BY created_at, task_id",
        (incident_id,),
    )
    return [r[0] for r in await cur.fetchall()]


@dataclass(frozen=True, slots=True)
class TaskQuery:
    statuses: tuple[str, ...] = ("active",)
    assignee: str | None = None
    level: str | None = None
    street: str | None = None
    grid: str | None = None
    limit: int = 50
    offset: int = 0


async def list_tasks(conn: Conn, scope: Scope, f: TaskQuery) -> tuple[int, list[Row]]:
    w = _Where()
    w.scoped(scope)
    if f.statuses:
        w.add("t.status = ANY(%s)", list(f.statuses))
    for column, value in (
        ("assignee_id", f.assignee),
        ("assignee_level", f.level),
        ("street_code", f.street),
        ("grid_code", f.grid),
    ):
        if value:
            w.add(f"t.{column} = %s", value)
    total = await conn.execute(
        sql.SQL("SELECT count(*) FROM tasks t JOIN incidents i USING (incident_id) WHERE {}").format(w.sql()),
        w.args,
    )
    count = (await total.fetchone() or (0,))[0]
    cur = await conn.execute(
        sql.SQL(
            "SELECT to_jsonb(t) || jsonb_build_object('state', i.state, 'light', i.light, "
            "'priority', i.priority, 'category', i.category) "
            "FROM tasks t JOIN incidents i USING (incident_id) WHERE {} "
            "ORDER BY t.created_at DESC, t.task_id LIMIT %s OFFSET %s"
        ).format(w.sql()),
        [*w.args, min(f.limit, MAX_PAGE), f.offset],
    )
    return int(count), [r[0] for r in await cur.fetchall()]


async def worker_tasks(conn: Conn, worker_id: str, task_id: str | None = None) -> list[Row]:
    """A worker's active tasks (or one of theirs), with what they need to know of the case and
    every report it covers (no reporter: the worker calls through the command center)."""
    w = _Where()
    w.add("t.assignee_id = %s", worker_id)
    if task_id is None:
        w.add("t.status = 'active'")
    else:
        w.add("t.task_id = %s::uuid", task_id)
    cur = await conn.execute(
        sql.SQL(
            "SELECT to_jsonb(t) || jsonb_build_object('incident', {}, 'reports', {}) "
            "FROM tasks t JOIN incidents i USING (incident_id) WHERE {}"
        ).format(SUMMARY, TASK_REPORTS, w.sql()),
        w.args,
    )
    return [r[0] for r in await cur.fetchall()]


POINT = sql.SQL(
    "SELECT i.incident_id::text, ST_X(i.geom), ST_Y(i.geom), i.priority, i.light, i.state, i.category, "
    "i.grid_code, i.escalation_level, {overdue} FROM incidents i WHERE {where}"
)


def _point(row: tuple[Any, ...]) -> Row:
    iid, lon, lat, priority, light, state, category, grid, level, overdue = row
    return {
        "type": "Feature",
        "id": iid,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "kind": "incident",
            "priority": priority,
            "light": light,
            "state": state,
            "category": category,
            "grid_code": grid,
            "escalation_level": level,
            "overdue": overdue,
        },
    }


async def map_points(conn: Conn, scope: Scope, *, open_only: bool, ids: list[str] | None = None) -> list[Row]:
    """Incidents as points; `ids`: only those (in any state, so a page can drop a closed one)."""
    w = _Where()
    w.add("i.geom IS NOT NULL")
    w.scoped(scope)
    if ids is not None:
        w.add("i.incident_id = ANY(%s::uuid[])", ids)
    elif open_only:
        w.add("i.state NOT IN ('closed', 'merged', 'rejected')")
    cur = await conn.execute(POINT.format(overdue=OVERDUE_CASE, where=w.sql()), w.args)
    return [_point(row) for row in await cur.fetchall()]


async def map_features(conn: Conn, scope: Scope, *, open_only: bool) -> tuple[list[Row], list[Row]]:
    """Incidents as points, grids (of the layer in force) with open and overdue counts."""
    incidents = await map_points(conn, scope, open_only=open_only)
    g = _Where()
    g.add("i.state NOT IN ('closed', 'merged', 'rejected')")
    g.scoped(scope)
    grids = await conn.execute(
        sql.SQL(
            """
            WITH counts AS (
                SELECT i.grid_code, count(*) AS open, count(*) FILTER (WHERE {}) AS overdue
                FROM incidents i WHERE {} AND i.grid_code IS NOT NULL GROUP BY i.grid_code
            )
            SELECT DISTINCT ON (c.grid_code) c.grid_code, c.open, c.overdue, ST_AsGeoJSON(g.geom, 6)::jsonb
            FROM counts c JOIN geo_grid g ON g.code = c.grid_code
            ORDER BY c.grid_code, g.version_id DESC
            """
        ).format(OVERDUE_CASE, g.sql()),
        g.args,
    )
    cells = [
        {
            "type": "Feature",
            "id": code,
            "geometry": geometry,
            "properties": {"kind": "grid", "grid_code": code, "open": n_open, "overdue": n_overdue},
        }
        for code, n_open, n_overdue, geometry in await grids.fetchall()
    ]
    return incidents, cells


async def agency_reports(
    conn: Conn, source: str, *, report_id: str | None = None, source_ref: str | None = None
) -> list[Row]:
    """The status of one agency's own reports (the case they are in, following merges)."""
    w = _Where()
    w.add("r.source = %s", source)
    if report_id is not None:
        w.add("r.report_id = %s::uuid", report_id)
    if source_ref is not None:
        w.add("r.source_ref = %s", source_ref)
    cur = await conn.execute(
        sql.SQL(
            """
            SELECT jsonb_build_object(
                'report_id', r.report_id, 'source', r.source, 'source_ref', r.source_ref,
                'incident_id', r.incident_id, 'case_id', COALESCE(t.incident_id, i.incident_id),
                'state', COALESCE(t.state, i.state), 'merged_into', i.merged_into,
                'updated_at', COALESCE(t.updated_at, i.updated_at),
                'closed_at', COALESCE(t.closed_at, i.closed_at),
                'category', r.category, 'received_at', r.received_at)
            FROM reports r JOIN incidents i ON i.incident_id = r.incident_id
            LEFT JOIN incidents t ON t.incident_id = i.merged_into
            WHERE {} ORDER BY r.received_at DESC LIMIT 200
            """
        ).format(w.sql()),
        w.args,
    )
    return [r[0] for r in await cur.fetchall()]
