"""The years an operator imported from the State Council's notice, kept in PostgreSQL.

Why the database and not a file: every worker, the API and the CLI must compute the same
deadlines, on any machine, after any restart. Each process builds its calendar from
config/holidays.toml plus these rows, and `sync_calendar` brings it up to date when the highest
`revision` moved (one indexed aggregate per SLA tracker pass): the calendar object is updated in
place, so every holder of it (deadlines, router, case rules) sees the new days at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

from dispatch.sla.calendar import WorkingCalendar, YearSchedule
from dispatch.sla.deadlines import calendar_for
from dispatch.sla.policy import SlaPolicy

log = logging.getLogger(__name__)
Conn = AsyncConnection[Any]


@dataclass(frozen=True, slots=True)
class ImportedYears:
    """Every imported year and the revision of the latest import (0: none yet)."""

    revision: int
    years: tuple[YearSchedule, ...]


async def current_revision(conn: Conn) -> int:
    cur = await conn.execute("SELECT coalesce(max(revision), 0) FROM calendar_years")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def read_imported(conn: Conn) -> ImportedYears:
    cur = await conn.execute(
        "SELECT year, holidays, workdays, source, revision FROM calendar_years ORDER BY year"
    )
    rows = await cur.fetchall()
    years = tuple(YearSchedule(y, frozenset(h), frozenset(w), s) for y, h, w, s, _ in rows)
    return ImportedYears(max((int(r[4]) for r in rows), default=0), years)


async def store_years(conn: Conn, years: Sequence[YearSchedule], revision: int) -> None:
    """Write (or replace) imported years under one new revision, inside the caller's transaction."""
    await conn.cursor().executemany(
        "INSERT INTO calendar_years (year, holidays, workdays, source, revision) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (year) DO UPDATE SET holidays = EXCLUDED.holidays, workdays = EXCLUDED.workdays, "
        "source = EXCLUDED.source, revision = EXCLUDED.revision, imported_at = now()",
        [(y.year, sorted(y.holidays), sorted(y.workdays), y.source, revision) for y in years],
    )


def build_calendar(policy: SlaPolicy, imported: ImportedYears) -> WorkingCalendar:
    return calendar_for(policy, imported=imported.years, revision=imported.revision)


async def sync_calendar(conn: Conn, calendar: WorkingCalendar, policy: SlaPolicy) -> bool:
    """Bring `calendar` up to the imported years in the database; True when it changed."""
    if await current_revision(conn) == calendar.revision:
        return False
    imported = await read_imported(conn)
    before = calendar.authoritative_last
    calendar.adopt(build_calendar(policy, imported))
    log.info(
        "calendar: revision %d, authoritative until %s (was %s)",
        calendar.revision,
        calendar.authoritative_last,
        before,
    )
    return True
