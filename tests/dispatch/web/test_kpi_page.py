"""The KPI page in the Debian Chromium: charts per street, per community and by day, and a
table whose numbers are the API's (`GET /kpi`) for the same period."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from dispatch.api.auth import ApiRole, Principal, issue_token
from tests.dispatch.web.browser import login, open_page, shot
from tests.dispatch.web.conftest import OPERATOR, PASSWORD, STREET, Stack

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def test_kpi_page_charts_and_table_match_the_api(stack: Stack, chromium: Path, tmp_path: Path) -> None:
    token = issue_token(stack.settings, Principal(ApiRole.OPERATOR, OPERATOR, district=stack.district.code))
    answer = httpx.get(
        f"{stack.url}/kpi", params={"group": "street"}, headers={"Authorization": f"Bearer {token}"}
    ).json()
    ours = next(r for r in answer["items"] if r["key"] == STREET)
    assert ours["accepted"] >= 4  # the seeded cases were accepted
    name = stack.district.streets[0].name
    assert stack.district.streets[0].code == STREET
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_url("**/board")
        page.click("header.top nav a[href='/board/kpi']")
        page.wait_for_selector("body[data-ready=true]")
        rows = page.locator("#table tr")
        expect(rows).to_have_count(1 + len(stack.district.streets))
        row = page.locator("#table tr", has_text=name)
        expect(row.locator("td").nth(1)).to_have_text(f"{round(ours['on_time_acceptance'] * 100, 1):g}%")
        expect(row.locator("td").last).to_have_text(str(ours["overdue"]))
        for chart in ("chart-street", "chart-community", "chart-trend"):
            assert page.evaluate(f"document.getElementById('{chart}').width") > 0
        shot(page, "kpi", full_page=True)
        assert not errors, errors
