"""The board's finder, list export and risk names in the Debian Chromium, against the running
worker and API: a case found by its agency's reference opens in the case panel (its deep link),
the overdue queue on show downloads as a CSV holding exactly the cases listed, and the risk
panel names the people who hold the tasks likely to breach."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.dispatch.web.browser import login, open_page, shot
from tests.dispatch.web.conftest import OPERATOR, PASSWORD, Stack

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def test_find_by_reference_export_the_list_and_read_names(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    case = stack.case
    ref = str(stack.one("SELECT source_ref FROM reports WHERE incident_id = :id", id=case.incident_id))
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_selector("body[data-ready=true]")

        page.fill("#finder [name=q]", ref)
        page.click("#finder button[type=submit]")
        hit = page.locator(f"#found li.hit[data-incident='{case.incident_id}']")
        expect(hit).to_contain_text("来源编号")
        hit.click()
        expect(page.locator("#detail")).to_have_attribute("data-id", case.incident_id)
        assert page.evaluate("location.hash") == f"#case={case.incident_id}"
        shot(page, "board-find")
        page.click("#detail button.close")

        # the SLA tracker escalates the seeded cases past their limit: the board's 超期 queue
        page.click("#queue-overdue")
        for incident_id in stack.overdue:
            expect(page.locator(f"#queue-list li[data-id='{incident_id}']")).to_be_visible(timeout=30_000)
        expect(page.locator("#queue-list .shown")).to_have_text("")  # the whole list is on show
        shown = page.locator("#queue-list li.item").evaluate_all("(els) => els.map((e) => e.dataset.id)")
        with page.expect_download() as download:
            page.click("#queue-list .list-export button[data-format=csv]")
        saved = Path(download.value.path())
        rows = list(csv.DictReader(io.StringIO(saved.read_bytes().decode("utf-8-sig"))))
        assert [r["案件编号"] for r in rows] == shown and set(stack.overdue) <= set(shown)
        expect(page.locator("#toast")).to_contain_text("已导出")

        # the risk panel: the holder's name, not the worker id
        holder = str(
            stack.one("SELECT assignee_id FROM incidents WHERE incident_id = :id", id=stack.overdue[0])
        )
        name = str(stack.one("SELECT name FROM workers WHERE worker_id = :id", id=holder))
        risky = page.locator(f"#risk-list li[data-id='{stack.overdue[0]}'] .meta")
        expect(risky).to_contain_text(name)
        expect(risky).not_to_contain_text(holder)
        shot(page, "board-export")
        assert not errors, errors
