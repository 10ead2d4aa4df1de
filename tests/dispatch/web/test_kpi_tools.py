"""The KPI page's case finder and export buttons in the Debian Chromium, against the real
worker and API: a case found by its agency reference and by the reporter's phone, the KPI
table downloaded as XLSX (read back with openpyxl: the API's rows) and the overdue list as CSV
(UTF-8 with a BOM: the cases of the board's 超期 queue, reporters masked)."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from dispatch.api.auth import ApiRole, Principal, issue_token
from tests.dispatch.web.browser import login, open_page, shot
from tests.dispatch.web.conftest import OPERATOR, PASSWORD, Stack

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def _download(page: Page, selector: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    path = download.path()
    assert path is not None
    return download.suggested_filename, Path(path).read_bytes()


def _overdue_queue(url: str, headers: dict[str, str]) -> list[str]:
    """The board's 超期 queue, once the worker's SLA tracker has escalated the seeded cases."""
    deadline = time.monotonic() + 30
    while True:
        doc = httpx.get(f"{url}/incidents", params={"queue": "overdue", "limit": 200}, headers=headers).json()
        if doc["total"] or time.monotonic() > deadline:
            return [i["incident_id"] for i in doc["items"]]
        time.sleep(0.5)


def test_find_a_case_and_export_the_kpis_and_the_overdue_list(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    headers = {
        "Authorization": "Bearer "
        + issue_token(stack.settings, Principal(ApiRole.OPERATOR, OPERATOR, district=stack.district.code))
    }
    ref = stack.one("SELECT source_ref FROM reports WHERE incident_id = :i LIMIT 1", i=stack.case.incident_id)
    kpi = httpx.get(f"{stack.url}/kpi", params={"group": "street"}, headers=headers).json()["items"]
    overdue = _overdue_queue(stack.url, headers)
    assert set(stack.overdue) <= set(overdue), "the seeded cases are overdue by now"
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_url("**/board")
        page.goto(f"{stack.url}/board/kpi")
        page.wait_for_selector("body[data-ready=true]")

        page.fill("#finder [name=q]", str(ref))
        page.click("#finder button[type=submit]")
        hit = page.locator(f"#found li.hit[data-incident='{stack.case.incident_id}']")
        expect(hit).to_have_count(1)
        expect(hit).to_contain_text("匹配: 来源编号")
        page.fill("#finder [name=q]", "+86 138-1234-5678")  # every test report's caller
        page.click("#finder button[type=submit]")
        expect(page.locator("#found li.hit").first).to_contain_text("报告人电话")
        page.fill("#finder [name=q]", "no-such-reference-anywhere")
        page.click("#finder button[type=submit]")
        expect(page.locator("#found")).to_have_text("没有找到案件")
        page.fill("#finder [name=q]", str(ref))
        page.click("#finder button[type=submit]")
        expect(hit).to_have_count(1)

        name, data = _download(page, "#exports button[data-export=kpi][data-format=xlsx]")
        assert name.startswith("kpi-") and name.endswith(".xlsx")
        rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert rows[0][:4] == ("分组", "编码", "名称", "时段")
        assert {r[1] for r in rows[1:]} == {r["key"] for r in kpi}
        ours = {r[1]: r for r in rows[1:]}
        assert all(ours[r["key"]][12] == r["overdue"] for r in kpi)

        page.select_option("#exports [name=list]", "overdue")
        name, data = _download(page, "#exports button[data-export=cases][data-format=csv]")
        assert name.startswith("cases-") and name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")
        cases = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert [c["案件编号"] for c in cases] == overdue  # the queue, not the light shown now
        assert all(c["报告人电话"] in ("", "138****5678") for c in cases)
        # "escalated" means what the board's 已升级（社区以上） queue means, and says so
        escalated = httpx.get(
            f"{stack.url}/incidents", params={"queue": "escalated", "limit": 200}, headers=headers
        ).json()
        option = page.locator("#exports [name=list] option[value=escalated]")
        expect(option).to_have_text("已升级（社区以上）")
        page.select_option("#exports [name=list]", "escalated")
        name, data = _download(page, "#exports button[data-export=cases][data-format=xlsx]")
        sheet = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert escalated["total"] >= 1 and [r[0] for r in sheet[1:]] == [
            i["incident_id"] for i in escalated["items"]
        ]
        assert {r[5] for r in sheet[1:]} <= {"street_center", "district_center"}  # 升级层级
        shot(page, "kpi-tools", full_page=True)
        page.click("#lang")
        expect(page.locator(".tools h2").first).to_have_text("Find a case")
        expect(page.locator("#finder [name=q]")).to_have_attribute(
            "placeholder", "Source reference, report id, reporter's phone or address"
        )
        page.click("#lang")
        assert not errors, errors
