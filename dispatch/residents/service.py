"""The residents' SQL: submissions (hashes only), the rate-limit counts, a report's case as the
resident may see it (stages and times; whether it joined another's case)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

Conn = AsyncConnection[Any]


@dataclass(frozen=True, slots=True)
class Submission:
    source_ref: str
    report_id: str
    code_hash: str
    submitted_at: datetime


async def insert(
    conn: Conn,
    *,
    source_ref: str,
    report_id: str,
    code_hash: str,
    device_hash: str,
    ip_hash: str,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO resident_submissions "
        "(source_ref, report_id, code_hash, device_hash, ip_hash, submitted_at) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (source_ref, report_id, code_hash, device_hash, ip_hash, at),
    )


async def delete(conn: Conn, source_ref: str) -> None:
    await conn.execute("DELETE FROM resident_submissions WHERE source_ref = %s", (source_ref,))


async def recent(
    conn: Conn, *, device_hash: str, ip_hash: str, since_device: datetime, since_ip: datetime
) -> tuple[int, int]:
    """(reports from this device, reports from this address) in their windows."""
    cur = await conn.execute(
        "SELECT count(*) FILTER (WHERE device_hash = %s AND submitted_at >= %s), "
        "count(*) FILTER (WHERE ip_hash = %s AND submitted_at >= %s) FROM resident_submissions "
        "WHERE (device_hash = %s OR ip_hash = %s) "
        "AND submitted_at >= least(%s::timestamptz, %s::timestamptz)",
        (device_hash, since_device, ip_hash, since_ip, device_hash, ip_hash, since_device, since_ip),
    )
    row = await cur.fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def submission(conn: Conn, source_ref: str) -> Submission | None:
    cur = await conn.execute(
        "SELECT source_ref, report_id::text, code_hash, submitted_at FROM resident_submissions "
        "WHERE source_ref = %s",
        (source_ref,),
    )
    row = await cur.fetchone()
    return Submission(*row) if row else None


@dataclass(frozen=True, slots=True)
class CaseView:
    incident_id: str
    state: str
    category: str
    joined: bool  # the report joined a case somebody else reported first
    events: list[tuple[str, datetime]]


async def case_of(conn: Conn, report_id: str) -> CaseView | None:
    """The case the report is in (None until the intake has placed it)."""
    cur = await conn.execute(
        "SELECT i.incident_id::text, i.state, i.category, "
        "EXISTS (SELECT 1 FROM reports o WHERE o.incident_id = r.incident_id AND o.report_id <> r.report_id "
        "        AND (o.received_at, o.report_id) < (r.received_at, r.report_id)) "
        "FROM reports r JOIN incidents i ON i.incident_id = r.incident_id WHERE r.report_id = %s",
        (report_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    incident_id, state, category, joined = row
    cur = await conn.execute(
        "SELECT action, at FROM events WHERE incident_id = %s ORDER BY sequence", (incident_id,)
    )
    return CaseView(
        incident_id, state, category, bool(joined), [(str(a), t) for a, t in await cur.fetchall()]
    )
