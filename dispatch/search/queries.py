"""The search's SQL: every meaning of the text in one statement, the case each hit belongs to
(a merged report's case is the one it was merged into), the caller's scope (`dispatch.scope`)
in the WHERE clause, strongest match first. Rows are the board's case summary
(`board.SUMMARY`) plus how the case matched and which of its reports did."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql

from dispatch.api.board import SUMMARY
from dispatch.scope import Scope
from dispatch.search.lookup import Lookup, Match
from schemas.report import Source

Row = dict[str, Any]
SOURCES = [s.value for s in Source]
RANK = {m: n for n, m in enumerate(Match)}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _hits(found: Lookup) -> tuple[list[sql.Composable], list[Any]]:
    """One SELECT per meaning the text has: (report id or NULL, incident id, match)."""
    parts: list[sql.Composable] = [
        # (source, source_ref) is unique and indexed: one probe per source
        sql.SQL(
            "SELECT r.report_id, r.incident_id, 'source_ref' FROM reports r "
            "WHERE r.source = ANY(%s) AND r.source_ref = %s"
        )
    ]
    args: list[Any] = [SOURCES, found.reference]
    report, case = "SELECT r.report_id, r.incident_id, ", "SELECT NULL::uuid, i.incident_id, "
    if found.uuid is not None:
        parts.append(sql.SQL(report + "'report_id' FROM reports r WHERE r.report_id = %s"))
        parts.append(sql.SQL(case + "'incident_id' FROM incidents i WHERE i.incident_id = %s"))
        args += [found.uuid, found.uuid]
    if found.phone_hash is not None:
        parts.append(sql.SQL(report + "'phone' FROM reports r WHERE r.reporter_phone_hash = %s"))
        args.append(found.phone_hash)
    if found.address is not None:
        parts.append(sql.SQL(case + "'address' FROM incidents i WHERE i.address ILIKE %s"))
        args.append(_like(found.address))
    return parts, args


async def search_cases(conn: AsyncConnection[Any], scope: Scope, found: Lookup, *, limit: int) -> list[Row]:
    """The cases the text finds (at most `limit`), within the caller's `scope`."""
    parts, args = _hits(found)
    query = sql.SQL(
        """
        WITH hits(report_id, incident_id, matched) AS ({hits}),
        cases AS (
            SELECT COALESCE(o.merged_into, o.incident_id) AS case_id,
                   array_agg(DISTINCT h.matched) AS matched,
                   array_remove(array_agg(DISTINCT h.report_id::text), NULL) AS report_ids
            FROM hits h JOIN incidents o ON o.incident_id = h.incident_id
            GROUP BY 1
        )
        SELECT {summary}, c.matched, c.report_ids
        FROM cases c JOIN incidents i ON i.incident_id = c.case_id
        WHERE {scoped}
        ORDER BY i.first_reported_at DESC, i.incident_id
        LIMIT %s
        """
    ).format(hits=sql.SQL(" UNION ALL ").join(parts), summary=SUMMARY, scoped=scope.where("i"))
    params = [*args, 10 * limit]
    cur = await conn.execute(query, params)
    rows = [
        {**doc, "matched": sorted(matched, key=lambda m: RANK[Match(m)]), "report_ids": sorted(report_ids)}
        for doc, matched, report_ids in await cur.fetchall()
    ]
    rows.sort(key=lambda r: RANK[Match(r["matched"][0])])  # stable: newest first within a kind
    return rows[:limit]
