"""Reveal a reporter to an operator (recorded in the same transaction) and list the reveals.

A reveal reads the report only through its case, in the operator's scope: a street operator
cannot reveal (or learn of) another street's reporter; the report must be one the case covers
(its own or that of a case merged into it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql

from dispatch.scope import Level, Scope

Conn = AsyncConnection[Any]
REVEAL_AREAS = {Level.DISTRICT: "district_code", Level.STREET: "street_code"}
"""The area columns of `reporter_reveals` (`dispatch.scope`), copied from the case."""


@dataclass(frozen=True, slots=True)
class Revealed:
    report_id: str
    incident_id: str
    name: str | None
    phone: str | None
    revealed_by: str
    revealed_at: datetime


async def reveal(conn: Conn, *, incident_id: str, report_id: str, scope: Scope, by: str) -> Revealed | None:
    """The reporter of `report_id` in clear, and the reveal recorded; None when the case is not
    in scope or does not cover the report (or the report has no reporter)."""
    async with conn.transaction():
        cur = await conn.execute(
            sql.SQL("""
            WITH RECURSIVE family(incident_id) AS (
                SELECT i.incident_id FROM incidents i
                WHERE i.incident_id = %(case)s::uuid AND {scope}
                UNION SELECT m.incident_id FROM incidents m JOIN family f ON m.merged_into = f.incident_id
            )
            SELECT r.reporter, c.street_code, c.district_code
            FROM reports r CROSS JOIN (SELECT street_code, district_code FROM incidents
                                       WHERE incident_id = %(case)s::uuid) c JOIN family USING (incident_id)
            WHERE r.report_id = %(report)s::uuid AND r.reporter IS NOT NULL
            """).format(scope=scope.where("i")),
            {"case": incident_id, "report": report_id},
        )
        row = await cur.fetchone()
        if row is None:
            return None
        reporter, street_code, district_code = row
        cur = await conn.execute(
            "INSERT INTO reporter_reveals (incident_id, report_id, street_code, district_code, revealed_by) "
            "VALUES (%s::uuid, %s::uuid, %s, %s, %s) RETURNING revealed_at",
            (incident_id, report_id, street_code, district_code, by),
        )
        stamped = await cur.fetchone()
    assert stamped is not None  # INSERT … RETURNING gives its row
    return Revealed(report_id, incident_id, reporter.get("name"), reporter.get("phone"), by, stamped[0])


async def reveals(
    conn: Conn, *, scope: Scope, incident_id: str | None, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """Reveals, newest first, in the operator's scope (by the district or the street copied from
    the case: a district's reveals include those of its cases at the district's centre) and
    optionally of one case."""
    cur = await conn.execute(
        sql.SQL("""
        SELECT count(*) OVER (), id, incident_id::text, report_id::text, street_code, revealed_by, revealed_at
        FROM reporter_reveals r
        WHERE {scope} AND (%(case)s::uuid IS NULL OR incident_id = %(case)s::uuid)
        ORDER BY revealed_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s
        """).format(scope=scope.where("r", REVEAL_AREAS)),
        {"case": incident_id, "limit": limit, "offset": offset},
    )
    rows = await cur.fetchall()
    keys = ("id", "incident_id", "report_id", "street_code", "revealed_by", "revealed_at")
    return (int(rows[0][0]) if rows else 0), [dict(zip(keys, r[1:], strict=True)) for r in rows]
