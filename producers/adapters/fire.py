"""119 fire dispatch (消防接处警) records: CSV with a Chinese header row, UTF-8 (an Excel BOM is fine).

    出警单号,接警时间,灾情类型,灾情等级,地址,经度,纬度,坐标系,情况描述,报警人,联系电话,出动力量
    119-500106-20250601-0017,2025-06-01 07:31:08,火灾,三级,沙坪坝区…,106.4561,29.5588,CGCS2000,…

出警单号 → source_ref, 接警时间 → reported_at (local), 灾情类型 → category, 灾情等级 → priority,
地址/经度/纬度/坐标系 → location, 情况描述 → description, 报警人/联系电话 → reporter. Columns
are found by header name, so their order may change. Each row's raw text is its exact lines.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from producers.adapters import fields as f
from producers.adapters.records import guarded, reject
from producers.canonical import build_report
from producers.errors import FieldError
from producers.outcome import Context, Outcome
from schemas.report import MAX_ADDRESS, MAX_DESCRIPTION, MAX_SOURCE_REF, RawFormat, Report

REQUIRED = ("出警单号", "接警时间", "灾情类型")
NATIVES = {
    "source_ref": "出警单号",
    "reported_at": "接警时间",
    "category": "灾情类型",
    "description": "情况描述",
    "location.address": "地址",
    "location.lon": "经度",
    "location.lat": "纬度",
    "location.crs": "坐标系",
}
csv.field_size_limit(1 << 20)


def _report(item: tuple[dict[str, str], str], ctx: Context) -> Report:
    row, raw = item
    cfg = ctx.config
    point = f.point(
        row.get("经度"),
        row.get("纬度"),
        natives=("经度", "纬度"),
        crs_value=f.crs(row.get("坐标系"), native="坐标系", default=cfg.crs),
    )
    name = f.text(row.get("报警人"), field="reporter.name", native="报警人", max_len=100, required=False)
    phone = f.text(row.get("联系电话"), field="reporter.phone", native="联系电话", max_len=40, required=False)
    return build_report(
        ctx,
        source_ref=f.text(row.get("出警单号"), field="source_ref", native="出警单号", max_len=MAX_SOURCE_REF)
        or "",
        reported_at=f.timestamp(
            row.get("接警时间"),
            field="reported_at",
            native="接警时间",
            tz=cfg.timezone,
            received_at=ctx.received_at,
        ),
        category=f.category(cfg, row.get("灾情类型"), native="灾情类型", label="灾情类型"),
        priority=f.priority(cfg, row.get("灾情等级"), native="灾情等级"),
        lon=point.lon,
        lat=point.lat,
        crs=point.crs,
        address=f.text(
            row.get("地址"), field="location.address", native="地址", max_len=MAX_ADDRESS, required=False
        ),
        description=f.text(
            row.get("情况描述"),
            field="description",
            native="情况描述",
            max_len=MAX_DESCRIPTION,
            required=False,
        )
        or "",
        reporter={"name": name, "phone": phone} if name or phone else None,
        raw_text=raw,
        raw_format=RawFormat.CSV,
        natives=NATIVES,
    )


class _Lines:
    """Feeds decoded lines to csv.reader and remembers which ones each row consumed."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self._lines = iter(lines)
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        item = next(self._lines)
        self.taken.append(item)
        return item[1]


def adapt(data: bytes, ctx: Context) -> Iterator[Outcome]:
    good: list[tuple[int, str]] = []
    for n, line in enumerate(data.splitlines(keepends=True), start=1):
        try:
            good.append((n, f.decode_utf8(line)))
        except FieldError as exc:
            yield reject(exc, line, ctx.at(line=n))
    lines = _Lines([item for item in good if item[1].strip()])
    reader = csv.reader(lines, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        yield reject(FieldError("$", f"unreadable CSV header: {exc}"), data, ctx.at(line=1))
        return
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        yield reject(FieldError("$", f"the header lacks columns {missing}"), data, ctx.at(line=1))
        return
    while True:
        lines.taken.clear()
        error: FieldError | None = None
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            cells, error = [], FieldError("$", f"malformed CSV row: {exc}")
        first_line = lines.taken[0][0] if lines.taken else 1
        raw = "".join(text for _, text in lines.taken)
        origin = ctx.at(line=first_line)
        if error is None and len(cells) != len(header):
            error = FieldError("$", f"the row has {len(cells)} fields, the header has {len(header)}")
        if error is not None:
            yield reject(error, raw.encode("utf-8"), origin)
            continue
        yield guarded(
            _report, (dict(zip(header, cells, strict=True)), raw), ctx, raw=raw.encode("utf-8"), origin=origin
        )
