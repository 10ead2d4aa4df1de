"""The SQL of the case flows and the SLA tracker (async psycopg, inside the caller's transaction).

Rows come back as the same JSON documents `dispatch.rows` builds (geometry as EWKT), so what is
loaded, changed and written back is also exactly what is published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from psycopg import AsyncConnection, AsyncCursor, sql
from psycopg.types.json import Jsonb

from config.policy import Priority
from dispatch.cases.split import StoredReport
from dispatch.models import IncidentRow

Row = dict[str, Any]
Conn = AsyncConnection[Any]
T = TypeVar("T")

_EWKT = sql.SQL("CASE WHEN i.geom IS NULL THEN NULL ELSE 'SRID=4326;' || ST_AsText(i.geom, 17) END AS geom")
INCIDENT_JSON = sql.SQL("(SELECT to_jsonb(x) FROM (SELECT {}) x)").format(
    sql.SQL(", ").join(
        _EWKT if c.name == "geom" else sql.Identifier("i", c.name) for c in IncidentRow.__table__.columns
    )
)
"""A row of `incidents` as the document `dispatch.rows` builds: geometry as EWKT with every
digit the intake wrote (17 significant digits, as Python's repr), so a case read back and
published again carries the same point.

The row's columns listed from the model, the geometry as its text: `to_jsonb(i.*)` took 2.3 ×
the server time for the same document (23 against 10 µs a row over a bench's 9,215 incidents),
converting the geometry to GeoJSON (PostGIS's cast), looking that cast up row by row, then
removing the key and concatenating the EWKT into a copy. The merge UPDATE returns it for every
incident a batch merges into, and every case flow and SLA pass loads cases with it."""


async def lock_incidents(conn: Conn, incident_ids: Sequence[str]) -> dict[str, Row]:
    """The incidents, locked FOR UPDATE in id order (two flows never deadlock on a pair)."""
    cur = await conn.execute(
        sql.SQL(
            "SELECT {} FROM incidents i WHERE incident_id = ANY(%s::uuid[]) ORDER BY incident_id FOR UPDATE"
        ).format(INCIDENT_JSON),
        (sorted(set(incident_ids)),),
    )
    return {r[0]["incident_id"]: r[0] for r in await cur.fetchall()}


async def incidents(conn: Conn, incident_ids: Sequence[str]) -> list[Row]:
    cur = await conn.execute(
        sql.SQL("SELECT {} FROM incidents i WHERE incident_id = ANY(%s::uuid[])").format(INCIDENT_JSON),
        (list(incident_ids),),
    )
    return [r[0] for r in await cur.fetchall()]


async def tasks_of(conn: Conn, incident_ids: Sequence[str]) -> list[Row]:
    cur = await conn.execute(
        "SELECT to_jsonb(t.*) FROM tasks t WHERE incident_id = ANY(%s::uuid[]) ORDER BY created_at, task_id",
        (list(incident_ids),),
    )
    return [r[0] for r in await cur.fetchall()]


async def policy_body(conn: Conn, policy_id: str) -> dict[str, Any] | None:
    cur = await conn.execute("SELECT body FROM sla_policies WHERE policy_id = %s", (policy_id,))
    row = await cur.fetchone()
    return None if row is None else dict(row[0])


async def street_name(conn: Conn, street_code: str) -> str | None:
    cur = await conn.execute(
        "SELECT name FROM geo_street WHERE code = %s ORDER BY version_id DESC LIMIT 1", (street_code,)
    )
    row = await cur.fetchone()
    return None if row is None else str(row[0])


@dataclass(frozen=True, slots=True)
class Pending(Generic[T]):
    """A statement sent (in a psycopg pipeline it waits to be flushed with the others);
    `result()` waits for its answer and parses it."""

    cursor: AsyncCursor[Any] | None
    parse: Callable[[list[Any]], T]
    empty: T

    async def result(self) -> T:
        if self.cursor is None:
            return self.empty
        return self.parse(await self.cursor.fetchall())


async def open_work(conn: Conn, worker_ids: Iterable[str]) -> Pending[dict[str, int]]:
    """Active tasks per person: "least open work" in routing (intake, re-routing, reassigning)."""
    ids = sorted(set(worker_ids))
    if not ids:
        return Pending(None, dict, {})
    cur = await conn.execute(
        "SELECT assignee_id, count(*) FROM tasks WHERE status = 'active' AND assignee_id = ANY(%s) "
        "GROUP BY assignee_id",
        (ids,),
    )
    return Pending(cur, lambda rows: {r[0]: int(r[1]) for r in rows}, {})


async def original_reports(conn: Conn, incident_ids: Sequence[str]) -> dict[str, list[Row]]:
    """The reports of each incident and of every case merged into it (transitively), without
    personal data, with the name of the case's street (12345's 承办单位): what feedback needs."""
    if not incident_ids:
        return {}
    cur = await conn.execute(
        """
        WITH RECURSIVE family(root, incident_id) AS (
            SELECT i, i FROM unnest(%s::uuid[]) AS i
            UNION
            SELECT f.root, m.incident_id FROM incidents m JOIN family f ON m.merged_into = f.incident_id
        )
        SELECT f.root::text, r.report_id::text, r.source, r.source_ref,
               (SELECT s.name FROM incidents c JOIN geo_street s ON s.code = c.street_code
                WHERE c.incident_id = f.root ORDER BY s.version_id DESC LIMIT 1) AS unit
        FROM family f JOIN reports r ON r.incident_id = f.incident_id
        ORDER BY f.root, r.received_at, r.report_id
        """,
        (list(incident_ids),),
    )
    out: dict[str, list[Row]] = {}
    for root, report_id, source, source_ref, unit in await cur.fetchall():
        out.setdefault(root, []).append(
            {"report_id": report_id, "source": source, "source_ref": source_ref, "unit": unit}
        )
    return out


async def leave_merge_window(conn: Conn, incident_ids: Sequence[str]) -> None:
    if incident_ids:
        await conn.execute(
            "DELETE FROM merge_window WHERE incident_id = ANY(%s::uuid[])", (list(incident_ids),)
        )


async def raise_in_merge_window(conn: Conn, raised: Sequence[tuple[str, str, str]]) -> None:
    """(incident id, priority, lead department) of raised incidents: later reports see them so."""
    if raised:
        await conn.execute(
            "UPDATE merge_window m SET priority = u.priority, lead_department = u.lead "
            "FROM unnest(%s::uuid[], %s::text[], %s::text[]) AS u(incident_id, priority, lead) "
            "WHERE m.incident_id = u.incident_id",
            ([r[0] for r in raised], [r[1] for r in raised], [r[2] for r in raised]),
        )


async def stored_report(conn: Conn, report_id: str) -> StoredReport | None:
    """One report as a split needs it, locked (two splits of one report queue up)."""
    cur = await conn.execute(
        "SELECT report_id::text, incident_id::text, source, category, priority, reported_at, received_at, "
        "ST_X(geom), ST_Y(geom), grid_code, placement, placement_reason, address, description "
        "FROM reports WHERE report_id = %s::uuid FOR UPDATE",
        (report_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return StoredReport(
        row[0], row[1], row[2], row[3], Priority(row[4]), row[5], row[6], row[7], row[8], *row[9:]
    )


async def move_report(conn: Conn, report_id: str, incident_id: str) -> None:
    """The report now belongs to (opened) `incident_id`."""
    await conn.execute(
        "UPDATE reports SET incident_id = %s::uuid, merged = false WHERE report_id = %s::uuid",
        (incident_id, report_id),
    )


# --- idempotency keys --------------------------------------------------------------------
async def claim_key(
    conn: Conn, actor: str, key: str, fingerprint: str, incident_id: str
) -> tuple[bool, str | None, dict[str, Any] | None]:
    """(fresh, stored fingerprint, stored response). A concurrent twin waits on the row lock."""
    cur = await conn.execute(
        "INSERT INTO api_requests (actor, key, fingerprint, incident_id) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT DO NOTHING RETURNING key",
        (actor, key, fingerprint, incident_id),
    )
    if await cur.fetchone() is not None:
        return True, None, None
    cur = await conn.execute(
        "SELECT fingerprint, response FROM api_requests WHERE actor = %s AND key = %s", (actor, key)
    )
    row = await cur.fetchone()
    assert row is not None
    return False, row[0], row[1]


async def store_response(conn: Conn, actor: str, key: str, response: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE api_requests SET response = %s WHERE actor = %s AND key = %s", (Jsonb(response), actor, key)
    )


# --- outbox ------------------------------------------------------------------------------
async def mark_published(conn: Conn, events: Iterable[Row], at: datetime) -> None:
    keys = [(str(e["incident_id"]), int(e["sequence"])) for e in events]
    if not keys:
        return
    await conn.execute(
        "UPDATE events e SET published_at = %s "
        "FROM unnest(%s::uuid[], %s::int[]) AS k(incident_id, sequence) "
        "WHERE e.incident_id = k.incident_id AND e.sequence = k.sequence AND e.published_at IS NULL",
        (at, [k[0] for k in keys], [k[1] for k in keys]),
    )


async def hold_unpublished(conn: Conn, events: Iterable[Row]) -> set[tuple[str, int]]:
    """Of the events just written, those still unpublished and in no relay's hands, locked for
    the writer's delivery ((incident_id, sequence)): a relay claiming meanwhile skips them, and
    those a relay claimed first are left to it (`CaseFlows.publish`)."""
    keys = [(str(e["incident_id"]), int(e["sequence"])) for e in events]
    if not keys:
        return set()
    cur = await conn.execute(
        "SELECT e.incident_id::text, e.sequence FROM events e "
        "JOIN unnest(%s::uuid[], %s::int[]) AS k(incident_id, sequence) "
        "ON e.incident_id = k.incident_id AND e.sequence = k.sequence "
        "WHERE e.published_at IS NULL FOR UPDATE OF e SKIP LOCKED",
        ([k[0] for k in keys], [k[1] for k in keys]),
    )
    return {(str(i), int(n)) for i, n in await cur.fetchall()}


async def claim_unpublished(conn: Conn, limit: int) -> list[Row]:
    """Events still to publish (a crash between commit and publish), locked so relays share."""
    cur = await conn.execute(
        "SELECT to_jsonb(e.*) FROM events e WHERE published_at IS NULL "
        "ORDER BY at, incident_id, sequence LIMIT %s FOR UPDATE SKIP LOCKED",
        (limit,),
    )
    return [r[0] for r in await cur.fetchall()]


# --- the SLA tracker ----------------------------------------------------------------------
async def claim_due(conn: Conn, now: datetime, limit: int) -> list[Row]:
    """Incidents whose next SLA check is due, locked; other trackers skip them (SKIP LOCKED)."""
    cur = await conn.execute(
        sql.SQL(
            "SELECT {} FROM incidents i WHERE next_sla_at <= %s "
            "ORDER BY next_sla_at LIMIT %s FOR UPDATE SKIP LOCKED"
        ).format(INCIDENT_JSON),
        (now, limit),
    )
    return [r[0] for r in await cur.fetchall()]
