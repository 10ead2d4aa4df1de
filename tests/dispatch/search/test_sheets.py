"""The export's cells and writers, without a database: Beijing time, masked reporters, text
that never becomes a formula, the BOM that lets Excel read the Chinese."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from dispatch.search.sheets import (
    BOM,
    CASE_COLUMNS,
    KPI_COLUMNS,
    beijing_time,
    case_row,
    csv_bytes,
    xlsx_bytes,
)

SUMMARY = {
    "incident_id": "4b0c2f0e-6a57-4d4e-9b7a-111111111111",
    "state": "dispatched",
    "priority": "P1",
    "category": "manhole_cover_missing",
    "street_code": "500106001",
    "community_code": "500106001001",
    "grid_code": "500106001001001",
    "address": "小龙坎正街1号",
    "description": '=HYPERLINK("http://evil.example","点我")',
    "sources": ["police", "hotline"],
    "report_count": 2,
    "first_reported_at": "2026-12-01T02:00:00+00:00",
    "next_sla_at": None,
}
NAMES = {"500106001": "小龙坎街道", "500106001001": "正街社区"}


def _row() -> dict[str, object]:
    return case_row(
        SUMMARY, reporter={"name": "张三丰", "phone": "13812345678"}, refs=["110-0042", "H-7"], names=NAMES
    )


def test_times_are_written_in_beijing_time() -> None:
    assert beijing_time("2026-12-01T16:30:00+00:00") == "2026-12-02 00:30:00"
    assert beijing_time(None) is None


def test_a_case_row_masks_its_reporter_and_names_its_areas() -> None:
    row = _row()
    assert row["reporter_name"] == "张**" and row["reporter_phone"] == "138****5678"
    assert row["street"] == "小龙坎街道" and row["community"] == "正街社区"
    assert "13812345678" not in str(row) and "三丰" not in str(row)


def test_the_csv_opens_in_excel_with_chinese_and_no_formula() -> None:
    data = csv_bytes(CASE_COLUMNS, [_row()])
    assert data.startswith(BOM.encode("utf-8"))
    header, line = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[:3] == ["案件编号", "状态", "优先级"] and len(line) == len(CASE_COLUMNS)
    cell = dict(zip(header, line, strict=True))
    assert cell["描述"].startswith("'=")  # text, not a formula
    assert cell["街道"] == "小龙坎街道" and cell["来源编号"] == "110-0042、H-7"
    assert cell["首报时间(北京时间)"] == "2026-12-01 10:00:00" and cell["报告人电话"] == "138****5678"


def test_the_xlsx_keeps_text_as_text_and_ratios_as_percentages() -> None:
    kpi = {
        "group": "street",
        "key": "500106001",
        "name": "小龙坎街道",
        "period": "all",
        "accepted": 7,
        "on_time_acceptance": 0.857,
        "overdue": 2,
    }
    book = load_workbook(io.BytesIO(xlsx_bytes("指标", KPI_COLUMNS, [kpi])))
    rows = list(book["指标"].iter_rows(values_only=True))
    assert rows[0][:3] == ("分组", "编码", "名称") and rows[1][2] == "小龙坎街道"
    assert rows[1][4] == 7 and rows[1][5] == 0.857
    assert book["指标"].cell(row=2, column=6).number_format == "0.0%"
    cases = load_workbook(io.BytesIO(xlsx_bytes("案件", CASE_COLUMNS, [_row()])))["案件"]
    description = cases.cell(row=2, column=11)
    assert description.value == SUMMARY["description"] and description.data_type == "s"
