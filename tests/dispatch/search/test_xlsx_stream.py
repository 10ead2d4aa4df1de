"""The streamed XLSX of a long case list (dispatch.search.exports.xlsx_of_pages), without a
database: every row of every page is in the workbook, and its peak memory does not grow with
the rows as the old in-memory build did (both measured in the same run, with tracemalloc, in a
child process of their own: a comparison of the two, no timing and no fixed byte limit)."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from openpyxl import load_workbook

from bench.export_memory import in_memory, inline, pages, peak, streamed
from dispatch.search import exports
from dispatch.search.exports import SPOOL_BYTES, chunks_of, xlsx_of_pages
from dispatch.search.sheets import CASE_COLUMNS


async def _workbook(rows: int) -> bytes:
    spool = await xlsx_of_pages(pages(rows, 200), "案件", offload=inline)
    return b"".join([chunk async for chunk in chunks_of(spool, offload=inline)])


def test_every_row_of_every_page_is_written(tmp_path: object) -> None:
    rows = 4_321  # 22 pages, the last one short
    data = asyncio.run(_workbook(rows))
    assert len(data) > SPOOL_BYTES // 8
    path = f"{tmp_path}/cases.xlsx"
    with open(path, "wb") as f:
        f.write(data)
    sheet = load_workbook(path, read_only=True).active
    assert sheet is not None
    read = list(sheet.iter_rows(values_only=True))
    assert len(read) == rows + 1 and read[0] == tuple(c.header for c in CASE_COLUMNS)
    assert [r[0] for r in read[1:3]] == [f"{n:08d}-0000-5000-8000-000000000000" for n in (0, 1)]
    assert read[-1][0] == f"{rows - 1:08d}-0000-5000-8000-000000000000"
    assert read[5][10].startswith("垃圾暴露")  # type: ignore[union-attr]


def _peak_growth(small: int, large: int) -> tuple[int, int]:
    """(how much the streamed peak grows from `small` to `large` rows, how much the old build's
    does), measured in this process: the child the test starts, where nothing else runs.

    tracemalloc's peak counts every thread of the process; in the test process, threads other
    tests left (a Kafka client, a server) allocate while an export is measured and their bytes
    land in its peak. A 64 kB spool (instead of 1 MB) sends these workbooks to disk, so what the
    streamed peak holds is the sheet's own work, not the finished file kept in memory."""
    exports.SPOOL_BYTES = 64 * 1024
    peak(streamed, 100, 200)  # imports and openpyxl's one-time tables, outside the comparison
    peak(in_memory, 100, 200)
    flat = peak(streamed, large, 200)[0] - peak(streamed, small, 200)[0]
    grew = peak(in_memory, large, 200)[0] - peak(in_memory, small, 200)[0]
    return flat, grew


def test_peak_memory_stays_flat_as_the_rows_grow() -> None:
    small, large = 500, 5_000
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
        flat, grew = child.submit(_peak_growth, small, large).result()
    # the old build's peak grows with the rows (the measure sees growth: hundreds of bytes a row) ...
    assert grew > (large - small) * 200, grew
    # ... the streamed one's barely: a small part of that, and less than one page's worth of rows
    assert flat < grew / 5, (flat, grew)
