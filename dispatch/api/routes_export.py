"""Operators export what they see: any filtered case list (the filters of GET /incidents) and
the KPI tables (those of GET /kpi), as CSV (streamed page by page, UTF-8 with a BOM: Excel
and WPS open it with the Chinese intact) or XLSX (each page written into a write-only sheet as
it is read, the workbook spooled to a temporary file and streamed out in chunks: memory stays
flat on a long list). Within the caller's scope, as the lists are; reporters' names and phones
masked (dispatch/search/sheets.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from dispatch.api.answers import ERRORS
from dispatch.api.routes_operator import CaseFilter
from dispatch.api.state import Operator, State
from dispatch.kpi.queries import KpiGroup, Period, kpis
from dispatch.lifecycle.errors import DetailError
from dispatch.search.exports import area_names, case_pages, chunks_of, xlsx_of_pages
from dispatch.search.sheets import (
    BEIJING,
    CASE_COLUMNS,
    KPI_COLUMNS,
    XLSX,
    csv_bytes,
    csv_header,
    csv_rows,
    xlsx_bytes,
)

router = APIRouter(prefix="/export", tags=["operator"], responses=ERRORS)
Format = Literal["csv", "xlsx"]
FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, XLSX: {}}, "description": "the sheet (CSV or XLSX)"}
}


def _attachment(kind: str, fmt: Format) -> dict[str, str]:
    stamp = datetime.now(BEIJING).strftime("%Y%m%d-%H%M")
    return {"Content-Disposition": f'attachment; filename="{kind}-{stamp}.{fmt}"'}


CSV_MEDIA = "text/csv; charset=utf-8"


@router.get("/incidents", response_class=Response, responses=FILES)
async def export_cases(
    caller: Operator,
    state: State,
    query: CaseFilter,
    format: Format = "xlsx",
) -> Response:
    """Every case the filters select (not one page), newest first, in the operator's scope."""

    async def pages() -> AsyncIterator[list[dict[str, object]]]:
        async with state.pool.connection() as conn:
            async for page in case_pages(conn, caller.scope, query):
                yield page

    if format == "csv":

        async def chunks() -> AsyncIterator[bytes]:
            yield csv_header(CASE_COLUMNS)
            async for page in pages():
                yield csv_rows(CASE_COLUMNS, page)

        return StreamingResponse(chunks(), media_type=CSV_MEDIA, headers=_attachment("cases", "csv"))
    spool = await xlsx_of_pages(pages(), "案件", offload=run_in_threadpool)
    return StreamingResponse(
        chunks_of(spool, offload=run_in_threadpool), media_type=XLSX, headers=_attachment("cases", "xlsx")
    )


@router.get("/kpi", response_class=Response, responses=FILES)
async def export_kpi(
    *,
    caller: Operator,
    state: State,
    group: KpiGroup = KpiGroup.STREET,
    period: Period = Period.ALL,
    since: datetime | None = None,
    until: datetime | None = None,
    format: Format = "xlsx",
) -> Response:
    """GET /kpi's table (default: the last 30 days), with the areas' names."""
    end = until or datetime.now(UTC)
    try:
        start = since or end - timedelta(days=30)
    except OverflowError:
        raise DetailError("until", "too early: the default range is the 30 days before it") from None
    async with state.pool.connection() as conn:
        rows = await kpis(conn, since=start, until=end, group=group, period=period, scope=caller.scope)
        names = await area_names(conn)
    named = [{**r, "name": names.get(str(r["key"])) if r.get("key") else None} for r in rows]
    if format == "csv":
        return Response(
            csv_bytes(KPI_COLUMNS, named),
            media_type=CSV_MEDIA,
            headers=_attachment("kpi", "csv"),
        )
    data = await run_in_threadpool(xlsx_bytes, "考核指标", KPI_COLUMNS, named)
    return Response(data, media_type=XLSX, headers=_attachment("kpi", "xlsx"))
