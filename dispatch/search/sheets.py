"""Case lists and KPI tables as spreadsheets people open in Excel or WPS: the columns (Chinese
headers, times in Beijing time), the cells of one row, and the two writers — CSV streamed
page by page (UTF-8 with a byte-order mark, so Excel reads the Chinese right) and XLSX
(write-only, a page at a time).

Personal data leaves masked (`dispatch.api.views`): a reporter's name keeps its first
character, a phone its first three and last four digits. A cell of text that a spreadsheet
would run as a formula (=, +, -, @ first) is written as text: a report's description comes
from the public.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from dispatch.api.views import mask_name, mask_phone

BEIJING = ZoneInfo("Asia/Shanghai")
BOM = "\ufeff"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | None
Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text | time | ratio | list | number


CASE_COLUMNS = (
    Column("incident_id", "案件编号"),
    Column("state", "状态"),
    Column("priority", "优先级"),
    Column("category", "类别"),
    Column("light", "灯色"),
    Column("escalation_level", "升级层级"),
    Column("street", "街道"),
    Column("community", "社区"),
    Column("grid_code", "网格"),
    Column("address", "地址"),
    Column("description", "描述"),
    Column("sources", "来源", "list"),
    Column("source_refs", "来源编号", "list"),
    Column("report_count", "报告数", "number"),
    Column("assignee_id", "处置人"),
    Column("first_reported_at", "首报时间(北京时间)", "time"),
    Column("next_sla_at", "下一时限(北京时间)", "time"),
    Column("closed_at", "结案时间(北京时间)", "time"),
    Column("reporter_name", "报告人"),
    Column("reporter_phone", "报告人电话"),
)

KPI_COLUMNS = (
    Column("group", "分组"),
    Column("key", "编码"),
    Column("name", "名称"),
    Column("period", "时段"),
    Column("accepted", "签收数", "number"),
    Column("on_time_acceptance", "按时签收率", "ratio"),
    Column("resolved", "处置数", "number"),
    Column("on_time_resolution", "按期处置率", "ratio"),
    Column("closed", "结案数", "number"),
    Column("on_time_closing", "按期结案率", "ratio"),
    Column("verified", "核查数", "number"),
    Column("rework_rate", "返工率", "ratio"),
    Column("overdue", "超期数", "number"),
    Column("volunteer_share", "志愿者处置占比", "ratio"),
    Column("satisfaction", "满意率", "ratio"),
    Column("revisit_rate", "回访率", "ratio"),
    Column("points_issued", "发放积分", "number"),
    Column("points_redeemed", "兑换积分", "number"),
)


def beijing_time(value: str | datetime | None) -> str | None:
    """'2026-12-01T02:00:00+00:00' -> '2026-12-01 10:00:00'."""
    if value is None or value == "":
        return None
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _cell(column: Column, value: Any) -> Cell:
    if value is None:
        return None
    if column.kind == "time":
        return beijing_time(value)
    if column.kind == "list":
        return "、".join(map(str, value))
    if column.kind in ("number", "ratio"):
        return value if isinstance(value, int | float) else None
    return str(value)


def cells(columns: Sequence[Column], row: Row) -> list[Cell]:
    return [_cell(c, row.get(c.key)) for c in columns]


def case_row(
    summary: Row, *, reporter: Mapping[str, Any] | None, refs: Sequence[str], names: Mapping[str, str]
) -> dict[str, Any]:
    """A case summary (board.SUMMARY) with its area names, its reports' references and its
    first reporter, masked."""
    street, community = summary.get("street_code"), summary.get("community_code")
    return {
        **summary,
        "street": names.get(street, street) if street else None,
        "community": names.get(community, community) if community else None,
        "source_refs": list(refs),
        "reporter_name": mask_name(reporter.get("name")) if reporter else None,
        "reporter_phone": mask_phone(reporter.get("phone")) if reporter else None,
    }


def _as_text(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_header(columns: Sequence[Column]) -> bytes:
    """The byte-order mark and the header line."""
    return (BOM + _csv_text([[c.header for c in columns]])).encode("utf-8")


def csv_rows(columns: Sequence[Column], rows: Iterable[Row]) -> bytes:
    return _csv_text([_as_text(v) for v in cells(columns, row)] for row in rows).encode("utf-8")


def csv_bytes(columns: Sequence[Column], rows: Iterable[Row]) -> bytes:
    return csv_header(columns) + csv_rows(columns, rows)


def _csv_text(lines: Iterable[Sequence[Cell]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(lines)
    return buf.getvalue()


class XlsxSheet:
    """One sheet in openpyxl's write-only mode, fed a page of rows at a time: each row is written
    out to openpyxl's temporary file as it comes, so memory stays flat however long the list
    (an export of the whole district). `save` zips it into a file object (a spooled temporary
    file for a download). Text cells stay text (never formulas), ratios show as percentages."""

    def __init__(self, title: str, columns: Sequence[Column]) -> None:
        from openpyxl import Workbook  # noqa: PLC0415  (on first use: ~5 MB of the API process)

        self.columns = columns
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title)
        self.sheet.append([c.header for c in columns])
        self.rows = 0

    def add(self, rows: Iterable[Row]) -> None:
        from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415

        for row in rows:
            out = []
            for column, value in zip(self.columns, cells(self.columns, row), strict=True):
                cell = WriteOnlyCell(self.sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # openpyxl would take "=…" for a formula
                elif column.kind == "ratio" and value is not None:
                    cell.number_format = "0.0%"
                out.append(cell)
            self.sheet.append(out)
            self.rows += 1

    def save(self, target: IO[bytes]) -> None:
        self.book.save(target)


def xlsx_bytes(title: str, columns: Sequence[Column], rows: Iterable[Row]) -> bytes:
    """A small table (the KPIs) as one XLSX in memory; long lists go through `XlsxSheet`."""
    sheet = XlsxSheet(title, columns)
    sheet.add(rows)
    buf = io.BytesIO()
    sheet.save(buf)
    return buf.getvalue()
