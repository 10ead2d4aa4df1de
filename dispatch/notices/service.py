"""The notices' SQL: inserting them idempotently, a desk's inbox, a case's notices, the climb
queue and the KPIs. Queries only; what happens around them is in `dispatch.notices.flows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from dispatch.notices.models import Desk, NoticeKind, NoticeState
from dispatch.notices.rules import Notice

Conn = AsyncConnection[Any]
Row = dict[str, Any]
COLUMNS = (
    "notice_id", "event_id", "incident_id", "kind", "state", "desk", "rung", "community_code",
    "street_code", "title", "created_at", "receive_by", "data",
)  # fmt: skip
TYPES = (
    "text", "text", "uuid", "text", "text", "text", "smallint", "text", "text", "text",
    "timestamptz", "timestamptz", "jsonb",
)  # fmt: skip
INSERT = sql.SQL(
    "INSERT INTO notices ({}) SELECT * FROM unnest({}) ON CONFLICT DO NOTHING RETURNING notice_id"
).format(
    sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
    sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(t)) for t in TYPES),
)


async def insert_notices(conn: Conn, notices: Iterable[Notice]) -> list[str]:
    """Insert the notices not stored yet; the ids of those inserted (a replay inserts none)."""
    rows = [n.row() for n in notices]
    if not rows:
        return []
    params = [[Jsonb(r[c]) if c == "data" else r[c] for r in rows] for c in COLUMNS]
    cur = await conn.execute(INSERT, params)
    return [str(r[0]) for r in await cur.fetchall()]


async def districts_of(conn: Conn, incident_ids: Iterable[str]) -> dict[str, str]:
    """The district code of each of these cases that is stored (`city`: the city desk's)."""
    ids = sorted(set(incident_ids))
    if not ids:
        return {}
    cur = await conn.execute(
        "SELECT incident_id::text, district_code FROM incidents WHERE incident_id = ANY(%s::uuid[])", (ids,)
    )
    return {str(i): str(d) for i, d in await cur.fetchall()}


_LIST = sql.SQL("""
SELECT n.notice_id, n.event_id, n.incident_id::text AS incident_id, n.kind, n.state, n.desk, n.rung,
       n.title, n.created_at, n.receive_by, n.received_at, n.received_by, n.answered_at,
       n.answered_by, n.answer, n.answer_due, n.climbed_to, n.data,
       i.category, i.priority, i.state AS case_state, i.description, i.address, i.grid_code,
       i.community_code, i.street_code, i.assignee_id,
       ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat
FROM notices n JOIN incidents i USING (incident_id)
WHERE {where}
ORDER BY array_position(ARRAY['sent','received','answered','climbed'], n.state), n.receive_by, n.notice_id
LIMIT %(limit)s
""")


async def inbox(conn: Conn, desk: Desk, *, limit: int = 200) -> list[Row]:
    """The desk's notices: waiting to be received first, most overdue first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _LIST.format(where=sql.SQL("n.desk = %(desk)s")), {"desk": str(desk), "limit": limit}
        )
        return list(await cur.fetchall())


async def of_incident(conn: Conn, incident_id: str) -> list[Row]:
    """Every notice of one case (for the operator's case panel), with its events."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _LIST.format(where=sql.SQL("n.incident_id = %(incident)s::uuid")),
            {"incident": incident_id, "limit": 500},
        )
        return list(await cur.fetchall())


async def by_ids(conn: Conn, notice_ids: Sequence[str]) -> list[Row]:
    """The notices with these ids, with their cases (what a channel's message says)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _LIST.format(where=sql.SQL("n.notice_id = ANY(%(ids)s)")),
            {"ids": list(notice_ids), "limit": len(notice_ids)},
        )
        return list(await cur.fetchall())


async def history(conn: Conn, notice_ids: Sequence[str]) -> dict[str, list[Row]]:
    """The events of each notice, in order."""
    out: dict[str, list[Row]] = {n: [] for n in notice_ids}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT notice_id, sequence, action, actor_id, at, data FROM notice_events "
            "WHERE notice_id = ANY(%s) ORDER BY notice_id, sequence",
            (list(notice_ids),),
        )
        for r in await cur.fetchall():
            out[r["notice_id"]].append(r)
    return out


async def case_history(conn: Conn, incident_ids: Sequence[str], *, last: int = 12) -> dict[str, list[Row]]:
    """The last case events of each incident (what happened before and since the notice)."""
    out: dict[str, list[Row]] = {i: [] for i in incident_ids}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT * FROM (SELECT incident_id::text AS incident_id, sequence, action, actor_role, actor_id, "
            "at, reason, "
            "row_number() OVER (PARTITION BY incident_id ORDER BY sequence DESC) AS k "
            "FROM events WHERE incident_id = ANY(%s::uuid[])) e WHERE k <= %s ORDER BY incident_id, sequence",
            (list(incident_ids), last),
        )
        for r in await cur.fetchall():
            r.pop("k")
            out[r["incident_id"]].append(r)
    return out


async def lock(conn: Conn, notice_id: str) -> Row | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT * FROM notices WHERE notice_id = %s FOR UPDATE", (notice_id,))
        return await cur.fetchone()


async def add_event(
    conn: Conn, notice: Row, action: str, *, actor_id: str, at: datetime, data: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO notice_events (notice_id, sequence, incident_id, action, actor_id, at, data) "
        "SELECT %s, coalesce(max(sequence), 0) + 1, %s, %s, %s, %s, %s FROM notice_events "
        "WHERE notice_id = %s",
        (notice["notice_id"], notice["incident_id"], action, actor_id, at, Jsonb(data), notice["notice_id"]),
    )


async def set_state(conn: Conn, notice_id: str, state: NoticeState, **fields: Any) -> None:
    names = ["state", *fields]
    assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(n)) for n in names)
    query = sql.SQL("UPDATE notices SET {} WHERE notice_id = %s").format(assignments)
    await conn.execute(query, (state.value, *fields.values(), notice_id))


async def claim_unreceived(
    conn: Conn, kinds: Iterable[NoticeKind], now: datetime, *, limit: int = 200
) -> list[Row]:
    """Unreceived notices of the climbing kinds past their limit, locked (SKIP LOCKED)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT * FROM notices WHERE state = 'sent' AND kind = ANY(%s) AND receive_by <= %s "
            "AND split_part(desk, ':', 1) IN ('community_lead', 'street_center') "
            "ORDER BY receive_by LIMIT %s FOR UPDATE SKIP LOCKED",
            ([k.value for k in kinds], now, limit),
        )
        return list(await cur.fetchall())


async def kpi(conn: Conn, since: datetime) -> list[Row]:
    """Per desk: notices, how many still unreceived, and the mean minutes to receive and answer."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT desk, count(*) AS notices, count(*) FILTER (WHERE state = 'sent') AS unreceived, "
            "count(*) FILTER (WHERE state = 'climbed') AS climbed, "
            "round((avg(extract(epoch FROM received_at - created_at)) / 60)::numeric, 1)::float "
            "AS receive_min, "
            "round((avg(extract(epoch FROM answered_at - created_at)) / 60)::numeric, 1)::float "
            "AS answer_min "
            "FROM notices WHERE created_at >= %s GROUP BY desk ORDER BY desk",
            (since,),
        )
        return list(await cur.fetchall())
