"""The rows of an export, read page by page: the board's own filtered list (`board.list_incidents`,
so an export holds exactly what the list shows, in the caller's scope), each case's report
references and first reporter, and the names of the areas; and the XLSX of a whole list built
from those pages without holding them: each page goes into a write-only sheet as it is read,
and the workbook is zipped into a spooled temporary file (in memory up to `SPOOL_BYTES`, then
on disk) that the API streams out in chunks. Memory stays flat in the list's length
(bench/export_memory.py measures it against the rows written)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from typing import IO, Any, TypeVar

from psycopg import AsyncConnection

from dispatch.api import board
from dispatch.scope import Scope
from dispatch.search.sheets import CASE_COLUMNS, XlsxSheet, case_row

Row = dict[str, Any]
Conn = AsyncConnection[Any]
T = TypeVar("T")
SPOOL_BYTES = 1024 * 1024
"""A workbook this small stays in memory; a larger one goes to a temporary file."""
CHUNK_BYTES = 64 * 1024


async def area_names(conn: Conn) -> dict[str, str]:
    """District, street and community names by code (the newest layer that has each code)."""
    cur = await conn.execute(
        """
        SELECT DISTINCT ON (code) code, name FROM (
            SELECT code, name, version_id FROM geo_district
            UNION ALL SELECT code, name, version_id FROM geo_street
            UNION ALL SELECT code, name, version_id FROM geo_community
        ) a ORDER BY code, version_id DESC
        """
    )
    return dict(await cur.fetchall())


async def _reports_of(conn: Conn, ids: Sequence[str]) -> dict[str, tuple[Row | None, list[str]]]:
    """Per case: its first reporter (also of cases merged into it) and every report's reference."""
    cur = await conn.execute(
        """
        SELECT c.case_id, (array_agg(r.reporter ORDER BY r.received_at, r.report_id))[1],
               array_agg(r.source_ref ORDER BY r.received_at, r.report_id)
        FROM reports r
        JOIN LATERAL (
            SELECT CASE WHEN o.merged_into = ANY(%(ids)s::uuid[]) THEN o.merged_into ELSE o.incident_id END
            FROM incidents o WHERE o.incident_id = r.incident_id
        ) c(case_id) ON TRUE
        WHERE r.incident_id = ANY(%(ids)s::uuid[])
           OR r.incident_id IN (
               SELECT m.incident_id FROM incidents m WHERE m.merged_into = ANY(%(ids)s::uuid[]))
        GROUP BY c.case_id
        """,
        {"ids": list(ids)},
    )
    return {str(case): (reporter, refs) for case, reporter, refs in await cur.fetchall()}


async def case_pages(conn: Conn, scope: Scope, query: board.IncidentQuery) -> AsyncIterator[list[Row]]:
    """Every case the filter selects, a page at a time, ready for `sheets.CASE_COLUMNS`. A case
    that moves between pages while the export runs is written once."""
    names = await area_names(conn)
    seen: set[str] = set()
    offset = 0
    while True:
        _, page = await board.list_incidents(conn, scope, replace(query, limit=board.MAX_PAGE, offset=offset))
        if not page:
            return
        offset += len(page)
        fresh = [r for r in page if str(r["incident_id"]) not in seen]
        seen.update(str(r["incident_id"]) for r in fresh)
        reports = await _reports_of(conn, [str(r["incident_id"]) for r in fresh])
        rows: list[Row] = []
        for r in fresh:
            reporter, refs = reports.get(str(r["incident_id"]), (None, []))
            rows.append(case_row(r, reporter=reporter, refs=refs, names=names))
        yield rows


async def xlsx_of_pages(
    pages: AsyncIterator[list[Row]],
    title: str,
    *,
    offload: Callable[..., Awaitable[Any]],
) -> IO[bytes]:
    """The XLSX of every page, in a spooled temporary file at its start (the caller closes it).
    `offload(fn, *args)` runs openpyxl's work off the event loop (the API's thread pool)."""
    sheet: XlsxSheet = await offload(XlsxSheet, title, CASE_COLUMNS)
    async for page in pages:
        await offload(sheet.add, page)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the caller streams it, then closes it
    try:
        await offload(sheet.save, spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


async def chunks_of(spool: IO[bytes], *, offload: Callable[..., Awaitable[Any]]) -> AsyncIterator[bytes]:
    """A file's bytes a chunk at a time, closing it at the end (or when the client goes away)."""
    try:
        while chunk := await offload(spool.read, CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()
