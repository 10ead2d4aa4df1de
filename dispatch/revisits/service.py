"""The return visits' SQL: requests written with the closing, answers recorded, visits read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql

from dispatch.revisits.values import ReworkTarget, Satisfaction, Visit

Conn = AsyncConnection[Any]
_COLUMNS = (
    "visit_id, incident_id::text, report_id::text, source, source_ref, closing, worker_id, street_code, "
    "requested_at, due_at, status = 'answered', answer, reason_code, reason, answered_at, rework"
)


def _select(where: str) -> sql.Composed:
    """The visit columns under one of this module's constant WHERE clauses."""
    return sql.SQL("SELECT {columns} FROM return_visits WHERE {where}").format(
        columns=sql.SQL(_COLUMNS), where=sql.SQL(where)
    )


def _visit(row: tuple[Any, ...]) -> Visit:
    (
        vid,
        iid,
        rid,
        source,
        ref,
        closing,
        worker,
        street,
        asked,
        due,
        answered,
        answer,
        code,
        reason,
        at,
        rework,
    ) = row
    return Visit(
        visit_id=vid,
        incident_id=iid,
        report_id=rid,
        source=source,
        source_ref=ref,
        closing=closing,
        worker_id=worker,
        street_code=street,
        requested_at=asked,
        due_at=due,
        answered=bool(answered),
        answer=Satisfaction(answer) if answer else None,
        reason_code=code,
        reason=reason,
        answered_at=at,
        rework=ReworkTarget(rework) if rework else None,
    )


async def insert_visits(conn: Conn, visits: Iterable[Visit]) -> None:
    """Idempotent on the visit id (a replayed closing asks nothing twice)."""
    rows = [
        (
            v.visit_id,
            v.incident_id,
            v.report_id,
            v.source,
            v.source_ref,
            v.closing,
            v.worker_id,
            v.street_code,
            v.requested_at,
            v.due_at,
        )
        for v in visits
    ]
    if not rows:
        return
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO return_visits (visit_id, incident_id, report_id, source, source_ref, closing, "
            "worker_id, street_code, requested_at, due_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (visit_id) DO NOTHING",
            rows,
        )


async def visit(conn: Conn, visit_id: str, *, lock: bool = False) -> Visit | None:
    cur = await conn.execute(
        _select("visit_id = %s FOR UPDATE" if lock else "visit_id = %s"),
        (visit_id,),
    )
    row = await cur.fetchone()
    return _visit(row) if row else None


async def latest_for_report(conn: Conn, report_id: str) -> Visit | None:
    """The newest request for one report (the last closing of its case)."""
    cur = await conn.execute(
        _select("report_id = %s ORDER BY closing DESC LIMIT 1"),
        (report_id,),
    )
    row = await cur.fetchone()
    return _visit(row) if row else None


async def latest_for_source_ref(conn: Conn, source: str, source_ref: str) -> Visit | None:
    cur = await conn.execute(
        _select("source = %s AND source_ref = %s ORDER BY closing DESC LIMIT 1"),
        (source, source_ref),
    )
    row = await cur.fetchone()
    return _visit(row) if row else None


async def visits_of(conn: Conn, incident_id: str) -> list[Visit]:
    cur = await conn.execute(
        _select("incident_id = %s ORDER BY closing, report_id"),
        (incident_id,),
    )
    return [_visit(r) for r in await cur.fetchall()]


async def reworks_of(conn: Conn, incident_id: str) -> int:
    """How many times return visits reopened this case (the policy's step counter)."""
    cur = await conn.execute(
        "SELECT count(*) FROM return_visits WHERE incident_id = %s AND rework IS NOT NULL", (incident_id,)
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def case_state(conn: Conn, incident_id: str) -> str | None:
    cur = await conn.execute("SELECT state FROM incidents WHERE incident_id = %s", (incident_id,))
    row = await cur.fetchone()
    return str(row[0]) if row else None


async def record_answer(
    conn: Conn,
    visit_id: str,
    *,
    answer: Satisfaction,
    reason_code: str | None,
    reason: str | None,
    at: datetime,
    channel: str,
    rework: ReworkTarget | None,
) -> None:
    await conn.execute(
        "UPDATE return_visits SET status = 'answered', answer = %s, reason_code = %s, reason = %s, "
        "answered_at = %s, channel = %s, rework = %s WHERE visit_id = %s AND status = 'pending'",
        (answer.value, reason_code, reason, at, channel, rework.value if rework else None, visit_id),
    )


async def closing_event(conn: Conn, incident_id: str, sequence: int) -> dict[str, Any] | None:
    """The close event a visit was asked for (its time, note and data) and the resolution
    note of the case's latest task before it (what 12345's 办理结果 says)."""
    cur = await conn.execute(
        "SELECT e.at, e.reason, e.data, (SELECT k.notes FROM tasks k WHERE k.incident_id = e.incident_id "
        "AND k.notes IS NOT NULL AND k.created_at <= e.at ORDER BY k.created_at DESC LIMIT 1) "
        "FROM events e WHERE e.incident_id = %s AND e.sequence = %s",
        (incident_id, sequence),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return {"at": row[0], "reason": row[1], "data": row[2] or {}, "resolution": row[3]}
