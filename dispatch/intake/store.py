"""The intake's reads and merge updates against PostgreSQL, one statement per batch each.

Writes of new rows go through `dispatch.store`; this module holds the intake-specific SQL:
which reports were already processed, per-street locks, open incidents near each report,
people's open work, and folding merged reports into their incidents. All of it runs inside
the batch's single transaction, in psycopg pipelines: each function only *sends* its
statement and returns a `Pending`, so the service sends all of a phase's statements before
waiting for any answer (one round trip per phase instead of one per statement).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql

from config.policy import Priority
from dispatch.cases.queries import INCIDENT_JSON, Pending
from dispatch.intake.rules import LocatedReport
from dispatch.merging import MergePolicy, OpenIncident

Row = dict[str, Any]

SELECT_INCIDENTS = sql.SQL("SELECT {} FROM incidents i WHERE incident_id = ANY(%s::uuid[])").format(
    INCIDENT_JSON
)
MERGE_INTO = sql.SQL("""
    WITH u AS (
        SELECT * FROM unnest(%s::uuid[], %s::int[], %s::text[], %s::timestamptz[])
            AS u(incident_id, n, sources, last_at)
    ), merged AS (
        SELECT u.*, ARRAY(SELECT DISTINCT s FROM unnest(i.sources || string_to_array(u.sources, ',')) s
                          ORDER BY s) AS all_sources
        FROM u JOIN incidents i USING (incident_id)
    )
    UPDATE incidents i SET
        report_count = i.report_count + m.n,
        sources = m.all_sources,
        last_reported_at = GREATEST(i.last_reported_at, m.last_at),
        revision = i.revision + 1,
        updated_at = %s
    FROM merged m WHERE i.incident_id = m.incident_id
    RETURNING {}
""").format(INCIDENT_JSON)


async def known_reports(conn: AsyncConnection[Any], report_ids: Sequence[str]) -> Pending[dict[str, str]]:
    """report_id -> incident_id for reports already processed (a redelivery after a crash)."""
    if not report_ids:
        return Pending(None, dict, {})
    cur = await conn.execute(
        "SELECT report_id::text, incident_id::text FROM reports WHERE report_id = ANY(%s::uuid[])",
        (list(report_ids),),
    )
    return Pending(cur, lambda rows: {r[0]: r[1] for r in rows}, {})


async def lock(conn: AsyncConnection[Any], keys: Iterable[int]) -> None:
    """Transaction-scoped advisory locks on merge cells, in key order (no two batches deadlock).

    One statement: PostgreSQL evaluates volatile functions of the select list after ORDER BY.
    """
    ordered = sorted(set(keys))
    if ordered:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k", (ordered,)
        )


async def nearby(
    conn: AsyncConnection[Any], reports: Sequence[LocatedReport], policy: MergePolicy
) -> Pending[list[list[OpenIncident]]]:
    """For each report, the open incidents of its problem in the merge window's box around it."""
    out: list[list[OpenIncident]] = [[] for _ in reports]
    todo = [
        (i, r)
        for i, r in enumerate(reports)
        if r.lon is not None and r.lat is not None and policy.mergeable(r.category.family)
    ]
    if not todo:
        return Pending(None, lambda _: out, out)
    d = policy.search_degrees
    cur = await conn.execute(
        """
        SELECT b.i, m.incident_id::text, m.problem, ST_X(m.geom), ST_Y(m.geom), m.first_at, m.last_at,
               m.priority, m.lead_department
        FROM unnest(%s::int[], %s::float8[], %s::float8[], %s::text[], %s::timestamptz[])
             AS b(i, lon, lat, problem, at)
        JOIN merge_window m
          ON m.problem = b.problem
         AND m.geom && ST_MakeEnvelope(b.lon - %s, b.lat - %s, b.lon + %s, b.lat + %s, 4326)
         AND m.last_at >= b.at - %s AND m.first_at <= b.at + %s
        """,
        (
            [i for i, _ in todo],
            [r.lon for _, r in todo],
            [r.lat for _, r in todo],
            [policy.problem_of(r.category.code) for _, r in todo],
            [r.reported_at for _, r in todo],
            d,
            d,
            d,
            d,
            policy.window,
            policy.window,
        ),
    )

    def parse(rows: list[Any]) -> list[list[OpenIncident]]:
        for i, iid, problem, lon, lat, first_at, last_at, priority, lead in rows:
            out[i].append(OpenIncident(iid, problem, lon, lat, first_at, last_at, Priority(priority), lead))
        return out

    return Pending(cur, parse, out)


@dataclass
class MergeIn:
    """Reports of one batch that merged into one incident."""

    count: int = 0
    sources: set[str] = field(default_factory=set)
    last_at: datetime | None = None

    def add(self, source: str, at: datetime) -> None:
        self.count += 1
        self.sources.add(source)
        self.last_at = at if self.last_at is None or at > self.last_at else self.last_at


async def merge_into(
    conn: AsyncConnection[Any], merges: dict[str, MergeIn], now: datetime
) -> Pending[list[Row]]:
    """Fold merged reports into their incidents; the result is the updated incident rows."""
    if not merges:
        return Pending(None, list, [])
    ids = list(merges)
    cur = await conn.execute(
        MERGE_INTO,
        (
            ids,
            [merges[i].count for i in ids],
            [",".join(sorted(merges[i].sources)) for i in ids],
            [merges[i].last_at for i in ids],
            now,
        ),
    )
    await conn.execute(
        "UPDATE merge_window m SET last_at = GREATEST(m.last_at, u.last_at) "
        "FROM unnest(%s::uuid[], %s::timestamptz[]) AS u(incident_id, last_at) "
        "WHERE m.incident_id = u.incident_id",
        (ids, [merges[i].last_at for i in ids]),
    )
    return Pending(cur, lambda rows: [r[0] for r in rows], [])


async def replay_rows(
    conn: AsyncConnection[Any], incident_ids: Sequence[str]
) -> tuple[list[Row], list[Row], list[Row]]:
    """Current incident, task and event rows of incidents whose reports were seen before.

    After a crash between commit and publish, the redelivered reports find their rows here
    and the intake publishes them again (consumers are idempotent on ids and revisions).
    """
    if not incident_ids:
        return [], [], []
    ids = list(set(incident_ids))
    incidents = await conn.execute(SELECT_INCIDENTS, (ids,))
    tasks = await conn.execute(
        "SELECT to_jsonb(t.*) FROM tasks t WHERE incident_id = ANY(%s::uuid[])", (ids,)
    )
    events = await conn.execute(
        "SELECT to_jsonb(e.*) FROM events e WHERE incident_id = ANY(%s::uuid[]) "
        "ORDER BY incident_id, sequence",
        (ids,),
    )
    return (
        [r[0] for r in await incidents.fetchall()],
        [r[0] for r in await tasks.fetchall()],
        [r[0] for r in await events.fetchall()],
    )


async def prune_merge_window(conn: AsyncConnection[Any], before: datetime) -> int:
    cur = await conn.execute("DELETE FROM merge_window WHERE last_at < %s", (before,))
    return cur.rowcount
