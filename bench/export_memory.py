"""Peak memory of a case list's XLSX export against the rows it holds: the streamed export
(`dispatch.search.exports.xlsx_of_pages`: pages written into a write-only sheet as they are read,
the workbook spooled to a temporary file) beside the way it was built before (every row
collected, then one workbook in memory), on the same synthetic rows in the same run.

Run: `.venv/bin/python -m bench.export_memory [--rows 2000 20000 --page 200]`

Peaks are Python allocations traced by `tracemalloc` while each export is built (zlib's own
buffers are not traced; they are fixed-size). The figure that matters is how the peak grows with
the rows: flat for the streamed export, in proportion for the old one.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tracemalloc
from collections.abc import AsyncIterator, Callable
from typing import Any

from dispatch.search.exports import chunks_of, xlsx_of_pages
from dispatch.search.sheets import CASE_COLUMNS, xlsx_bytes

Row = dict[str, Any]


def case(n: int) -> Row:
    """A case row as an export writes it (Chinese text, times, lists), distinct per n."""
    return {
        "incident_id": f"{n:08d}-0000-5000-8000-000000000000",
        "state": "dispatched",
        "priority": "P3",
        "category": "exposed_garbage",
        "light": "green",
        "escalation_level": None,
        "street": "小龙坎街道",
        "community": "快乐里社区",
        "grid_code": f"500106001{n % 1000:06d}",
        "address": f"沙坪坝区小龙坎正街{n}号",
        "description": f"垃圾暴露，无人清运，居民反映强烈（第{n}条）" * 2,
        "sources": ["hotline"],
        "source_refs": [f"12345-20261201-{n:06d}"],
        "report_count": 1,
        "assignee_id": f"500106001001{n % 30:03d}-grid_worker-1",
        "first_reported_at": "2026-12-01T02:00:00+00:00",
        "next_sla_at": "2026-12-01T06:00:00+00:00",
        "closed_at": None,
        "reporter_name": "张**",
        "reporter_phone": "138****5678",
    }


async def pages(rows: int, size: int) -> AsyncIterator[list[Row]]:
    for start in range(0, rows, size):
        yield [case(n) for n in range(start, min(rows, start + size))]


async def inline(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


async def streamed(rows: int, size: int) -> int:
    spool = await xlsx_of_pages(pages(rows, size), "案件", offload=inline)
    return sum([len(chunk) async for chunk in chunks_of(spool, offload=inline)])


async def in_memory(rows: int, size: int) -> int:
    collected = [row async for page in pages(rows, size) for row in page]
    return len(xlsx_bytes("案件", CASE_COLUMNS, collected))


def peak(build: Callable[[int, int], Any], rows: int, size: int) -> tuple[int, int]:
    """(peak traced bytes while building, the workbook's bytes)."""
    gc.collect()
    tracemalloc.start()
    try:
        out = asyncio.run(build(rows, size))
        return tracemalloc.get_traced_memory()[1], out
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000, 10_000, 40_000])
    parser.add_argument("--page", type=int, default=200, help="rows per page, as the list reads them")
    args = parser.parse_args()
    print(f"{'rows':>8} {'streamed peak':>14} {'before (in memory)':>19} {'xlsx size':>10}", flush=True)
    peak(streamed, 200, args.page)  # imports and openpyxl's one-time tables, outside the figures
    peak(in_memory, 200, args.page)
    results = []
    for rows in args.rows:
        s_peak, size = peak(streamed, rows, args.page)
        m_peak, _ = peak(in_memory, rows, args.page)
        results.append((rows, s_peak, m_peak))
        print(
            f"{rows:>8,} {s_peak / 2**20:>11.1f} MB {m_peak / 2**20:>16.1f} MB {size / 2**20:>7.1f} MB",
            flush=True,
        )
    (r0, s0, m0), (r1, s1, m1) = results[0], results[-1]
    print(
        f"rows × {r1 / r0:.0f}: streamed peak × {s1 / s0:.2f}, before × {m1 / m0:.2f}"
        " (limit: the streamed peak grows far less than the rows; before grew with them)"
    )


if __name__ == "__main__":
    main()
