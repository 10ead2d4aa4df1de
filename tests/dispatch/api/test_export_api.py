"""GET /export/incidents and /export/kpi on the real database: the whole filtered list (every
page, the count GET /incidents gives), in the caller's scope, reporters masked; the XLSX read
back with openpyxl, the CSV as Excel reads it (UTF-8 with a BOM)."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from dispatch.api import board
from tests.dispatch.api.conftest import STREET_A, STREET_B, Tokens, World

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def _xlsx(client: TestClient, path: str, headers: dict[str, str], **params: str) -> list[tuple[object, ...]]:
    answer = client.get(path, params={**params, "format": "xlsx"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def _csv(client: TestClient, path: str, headers: dict[str, str], **params: str) -> list[dict[str, str]]:
    answer = client.get(path, params={**params, "format": "csv"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


def _total(client: TestClient, headers: dict[str, str], **params: str) -> int:
    total: int = client.get("/incidents", params={**params, "limit": "1"}, headers=headers).json()["total"]
    return total


def test_a_filtered_list_exports_whole_and_in_scope(client: TestClient, tokens: Tokens, world: World) -> None:
    for street, mine, theirs in ((STREET_A, world.a1, world.b1), (STREET_B, world.b1, world.a1)):
        op = tokens.operator(street)
        rows = _xlsx(client, "/export/incidents", op)
        header, body = rows[0], rows[1:]
        assert header[:2] == ("案件编号", "状态") and len(body) == _total(client, op)
        ids = {r[0] for r in body}
        assert mine.incident_id in ids and theirs.incident_id not in ids
        street_names = {r[header.index("街道")] for r in body}
        assert len(street_names) == 1 and all("街道" in str(n) or "镇" in str(n) for n in street_names)


def test_an_export_reads_every_page_of_the_list(
    client: TestClient, tokens: Tokens, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of two cases (instead of 200) make the session's few cases span several pages."""
    district = tokens.operator()
    monkeypatch.setattr(board, "MAX_PAGE", 2)
    everything = _csv(client, "/export/incidents", district)
    assert len(everything) == _total(client, district) >= 4
    streamed = _xlsx(client, "/export/incidents", district)  # page by page into the sheet, then chunks
    assert len(streamed) - 1 == len(everything)
    assert {r[0] for r in streamed[1:]} == {r["案件编号"] for r in everything}
    assert len({r["案件编号"] for r in everything}) == len(everything)
    assert {world.a1.incident_id, world.b1.incident_id} <= {r["案件编号"] for r in everything}


def test_the_same_filters_as_the_list(client: TestClient, tokens: Tokens, world: World) -> None:
    op = tokens.operator()
    for params in ({"state": "dispatched", "source": "police"}, {"priority": "P1", "street": STREET_A}):
        rows = _csv(client, "/export/incidents", op, **params)
        assert len(rows) == _total(client, op, **params)
    hotline = _csv(client, "/export/incidents", op, source="hotline", state="dispatched")
    assert world.a1.incident_id in {r["案件编号"] for r in hotline}
    assert all("hotline" in r["来源"] for r in hotline)


def test_reporters_are_masked_and_references_listed(client: TestClient, tokens: Tokens, world: World) -> None:
    rows = _csv(client, "/export/incidents", tokens.operator(STREET_A), source="hotline")
    a1 = next(r for r in rows if r["案件编号"] == world.a1.incident_id)
    assert a1["报告人"] == "张**" and a1["报告人电话"] == "138****5678"
    assert world.a1.report.source_ref in a1["来源编号"]
    assert "13812345678" not in str(rows) and "张三丰" not in str(rows)


def test_another_street_in_a_filter_is_refused(client: TestClient, tokens: Tokens) -> None:
    answer = client.get("/export/incidents", params={"street": STREET_B}, headers=tokens.operator(STREET_A))
    assert answer.status_code == 403


def test_the_kpi_table_exports_as_the_page_shows_it(client: TestClient, tokens: Tokens) -> None:
    for headers in (tokens.operator(), tokens.operator(STREET_A)):
        for group in ("street", "community"):
            items = client.get("/kpi", params={"group": group}, headers=headers).json()["items"]
            rows = _xlsx(client, "/export/kpi", headers, group=group)
            assert rows[0][:4] == ("分组", "编码", "名称", "时段") and len(rows) - 1 == len(items)
            assert [r[1] for r in rows[1:]] == [i["key"] for i in items]
            assert [r[12] for r in rows[1:]] == [i["overdue"] for i in items]
    street_rows = _csv(client, "/export/kpi", tokens.operator(STREET_A), group="street")
    assert [r["编码"] for r in street_rows] in ([STREET_A], [])
    assert all(r["名称"] for r in street_rows)


def test_a_queue_exports_as_the_board_lists_it(client: TestClient, tokens: Tokens, world: World) -> None:
    """The queue is one of the shared filters: the overdue export is the board's 超期 queue."""
    op = tokens.operator()
    for queue in ("new", "overdue"):
        listed = client.get("/incidents", params={"queue": queue, "limit": "200"}, headers=op).json()
        rows = _csv(client, "/export/incidents", op, queue=queue)
        assert [r["案件编号"] for r in rows] == [i["incident_id"] for i in listed["items"]]
        assert len(rows) == listed["total"]
    assert world.a1.incident_id in {r["案件编号"] for r in _csv(client, "/export/incidents", op, queue="new")}
    for path in ("/incidents", "/export/incidents"):
        answer = client.get(path, params={"queue": "red"}, headers=op)
        assert answer.status_code == 422 and "queue" in answer.text


def test_the_list_and_its_export_take_the_same_filters(client: TestClient) -> None:
    """One dependency: the same names (and schemas) on both routes, beside their own paging/format."""
    paths = client.get("/openapi.json").json()["paths"]

    def params(path: str) -> dict[str, object]:
        return {p["name"]: p["schema"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}

    listed, exported = params("/incidents"), params("/export/incidents")
    assert {k: v for k, v in listed.items() if k not in ("limit", "offset")} == {
        k: v for k, v in exported.items() if k != "format"
    }
    assert {"queue", "state", "street", "escalated"} <= set(exported)
