"""The return visits' SQL: requests written with the closing, answers recorded, 未回访成功 marked
in batches, the 回访结果 outbox to 12345 claimed and marked, visits read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql

from dispatch.revisits.values import ReworkTarget, Satisfaction, Visit
from schemas.report import Source

Conn = AsyncConnection[Any]
_COLUMNS = (
    "visit_id, incident_id::text, report_id::text, source, source_ref, closing, worker_id, street_code, "
    "requested_at, due_at, status, answer, reason_code, reason, answered_at, rework"
)

_TELLS = Source.HOTLINE.value
"""The source told a visit's result (`told_at` NULL when settled: the outbox); the other sources
keep our outcome record, nothing to send (told at once)."""


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
        status,
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
        answered=status == "answered",
        answer=Satisfaction(answer) if answer else None,
        reason_code=code,
        reason=reason,
        answered_at=at,
        rework=ReworkTarget(rework) if rework else None,
        not_reached=status == "not_reached",
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
    """An answer given in time, also one the sweep marked not reached before it arrived (12345
    reports the time the citizen answered); its 回访结果 is to be told again (`told_at` NULL)."""
    await conn.execute(
        "UPDATE return_visits SET status = 'answered', answer = %(answer)s, reason_code = %(code)s, "
        "reason = %(reason)s, answered_at = %(now)s, channel = %(channel)s, rework = %(rework)s, "
        "told_at = CASE WHEN source = %(told)s THEN NULL ELSE %(now)s END "
        "WHERE visit_id = %(visit)s AND status <> 'answered'",
        {
            "answer": answer.value,
            "code": reason_code,
            "reason": reason,
            "now": at,
            "channel": channel,
            "rework": rework.value if rework else None,
            "told": _TELLS,
            "visit": visit_id,
        },
    )


async def mark_not_reached(conn: Conn, *, now: datetime, limit: int) -> list[str]:
    """未回访成功: up to `limit` pending visits whose time is over, marked in one statement (rows
    another sweep holds are skipped); their ids. Marking again changes nothing."""
    cur = await conn.execute(
        "WITH due AS (SELECT visit_id FROM return_visits WHERE status = 'pending' AND due_at <= %(now)s "
        "ORDER BY due_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
        "UPDATE return_visits v SET status = 'not_reached', told_at = "
        "CASE WHEN source = %(told)s THEN NULL ELSE %(now)s END "
        "FROM due WHERE v.visit_id = due.visit_id RETURNING v.visit_id",
        {"now": now, "limit": limit, "told": _TELLS},
    )
    return [str(r[0]) for r in await cur.fetchall()]


@dataclass(frozen=True, slots=True)
class Untold:
    """A settled visit whose 回访结果 12345 still has to get, with what its reply document says
    of the closing (`closing`: at, reason, data, resolution) and the unit (the street's name)."""

    visit: Visit
    closing: dict[str, Any] | None
    unit: str | None


async def claim_untold(
    conn: Conn, *, source: str, limit: int, visit_ids: Sequence[str] | None = None
) -> list[Untold]:
    """Lock up to `limit` settled visits of `source` not told yet (in a transaction: the caller
    sends, then `mark_told`); `visit_ids` narrows it to those just answered."""
    query = sql.SQL(
        "SELECT {columns}, e.at, e.reason, e.data, (SELECT k.notes FROM tasks k "
        "WHERE k.incident_id = e.incident_id AND k.notes IS NOT NULL AND k.created_at <= e.at "
        "ORDER BY k.created_at DESC LIMIT 1), (SELECT s.name FROM geo_street s "
        "WHERE s.code = v.street_code ORDER BY s.version_id DESC LIMIT 1) "
        "FROM return_visits v LEFT JOIN events e ON e.incident_id = v.incident_id AND e.sequence = v.closing "
        "WHERE v.source = %(source)s AND v.status <> 'pending' AND v.told_at IS NULL "
        "AND (%(ids)s::text[] IS NULL OR v.visit_id = ANY(%(ids)s::text[])) "
        "ORDER BY v.visit_id LIMIT %(limit)s FOR UPDATE OF v SKIP LOCKED"
    ).format(columns=sql.SQL(", ").join(sql.SQL("v." + c.strip()) for c in _COLUMNS.split(",")))
    ids = list(visit_ids) if visit_ids is not None else None
    cur = await conn.execute(query, {"source": source, "ids": ids, "limit": limit})
    out = []
    for row in await cur.fetchall():
        width = len(row) - 5
        at, reason, data, resolution, unit = row[width:]
        closing = (
            None if at is None else {"at": at, "reason": reason, "data": data or {}, "resolution": resolution}
        )
        out.append(Untold(_visit(row[:width]), closing, unit))
    return out


async def mark_told(conn: Conn, visit_ids: Sequence[str], *, at: datetime) -> None:
    await conn.execute(
        "UPDATE return_visits SET told_at = %s WHERE visit_id = ANY(%s) AND told_at IS NULL",
        (at, list(visit_ids)),
    )
