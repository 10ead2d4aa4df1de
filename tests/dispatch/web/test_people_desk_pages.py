"""The people page and the dead-letter desk in the Debian Chromium, against the running API
and worker: a district operator exports a community's roster, adds a person with a typo
(refused, the row and column named), fixes it and imports (the PIN shown once, and it logs
the new person in on the phone page), records a leave; and clears a dead letter whose replay
fails again by discarding it with a reason, from the panel on the board to the desk."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from dispatch.api.auth import ApiRole, Principal, issue_token
from tests.dispatch.web.browser import login, open_page, shot
from tests.dispatch.web.conftest import OPERATOR, PASSWORD, Stack
from tests.dispatch.web.second_district import refuse_110

pytestmark = [pytest.mark.db, pytest.mark.kafka]
COMMUNITY_STREET = "500106005"  # away from the street the other page tests route in


def _token(stack: Stack) -> dict[str, str]:
    return {
        "Authorization": "Bearer "
        + issue_token(stack.settings, Principal(ApiRole.OPERATOR, OPERATOR, district=stack.district.code))
    }


def test_people_page_import_refused_then_landed(stack: Stack, chromium: Path, tmp_path: Path) -> None:
    grid = next(g for g in stack.district.grids if g.street_code == COMMUNITY_STREET)
    community = grid.parent_code
    exported = httpx.get(
        f"{stack.url}/people/export", params={"format": "csv", "scope": community}, headers=_token(stack)
    )
    assert exported.status_code == 200, exported.text
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][0] == "worker_id" and len(rows) > 5
    new_id = f"pg-{uuid.uuid4().hex[:8]}"
    person = [new_id, "新入职网格员", "grid_worker", "", "", grid.code, "night", "13700000001", "", "", "yes"]
    typo = [*person[:5], grid.code[:-1] + "9", *person[6:]]  # a grid that does not exist

    def sheet(extra: list[str]) -> Path:
        path = tmp_path / f"roster-{len(extra)}-{uuid.uuid4().hex[:4]}.csv"
        buf = io.StringIO()
        csv.writer(buf).writerows([*rows, extra])
        path.write_text(buf.getvalue(), encoding="utf-8")
        return path

    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_url("**/board")
        page.click("header.top nav a[href='/board/people']")
        page.wait_for_selector("body[data-ready=true]")

        page.set_input_files("#import input[type=file]", str(sheet(typo)))
        page.click("#import button[type=submit]")
        problem = page.locator("#problems tr.problem")
        expect(problem).to_have_count(1)
        expect(problem.locator("td").nth(1)).to_have_text(str(len(rows) + 1))  # the sheet's own row number
        expect(problem.locator("td").nth(2)).to_have_text("grid_code")
        shot(page, "people-refused", full_page=True)
        assert len(errors) == 1 and "status of 422" in errors[0], errors
        errors.clear()  # the refusal above is the 422 Chromium logs; nothing else may fail

        page.evaluate("document.body.dataset.imported = ''")
        page.set_input_files("#import input[type=file]", str(sheet(person)))
        page.click("#import button[type=submit]")
        page.wait_for_selector("body[data-imported=true]")
        expect(page.locator("#import-result .summary")).to_contain_text("1")
        pin_row = page.locator("#pins tr", has_text=new_id)
        expect(pin_row).to_have_count(1)
        pin = pin_row.locator("td").nth(1).inner_text()
        assert len(pin) == 6 and pin.isdigit()

        page.select_option("#exception [name=kind]", "leave")
        page.fill("#exception [name=worker_id]", new_id)
        page.fill("#exception [name=first_day]", "2026-12-24")
        page.fill("#exception [name=note]", "年假")
        page.click("#exception button[type=submit]")
        expect(page.locator("#exceptions tr", has_text=new_id)).to_have_count(1)

        page.fill("#duty [name=area]", community)
        page.click("#duty button[type=submit]")
        expect(page.locator("#duty-table tr").first).to_be_visible()
        shot(page, "people", full_page=True)
        assert not errors, errors

    # the issued PIN logs the new person in, on the grid worker's phone page
    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        login(page, stack.url, worker_id=new_id, pin=pin)
        page.wait_for_url("**/m")
        assert not errors, errors


def test_dead_letter_desk_replay_fails_then_discard(stack: Stack, chromium: Path, tmp_path: Path) -> None:
    ref = refuse_110(stack, jjdbh=f"PG-{uuid.uuid4().hex[:10]}", afdz="沙坪坝区小龙坎正街 168 号")

    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_url("**/board")
        page.wait_for_selector("body[data-ready=true]")
        panel = page.locator("#dlq-panel")
        expect(panel).to_be_visible()
        expect(panel.locator("li", has_text="· 110 ·")).to_have_count(1)
        panel.locator("h2 a").click()
        page.wait_for_url("**/board/dlq")
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#counts tr", has_text="category")).to_have_count(1)
        row = page.locator("#letters tr", has_text="0698")
        expect(row).to_have_count(1)
        row.locator("td").first.locator("button").click()
        expect(page.locator("#letter pre.raw")).to_contain_text(ref)

        row.locator("button.replay").click()  # the category map is not fixed: refused again
        expect(page.locator("#toast")).to_contain_text("0698")
        page.wait_for_selector("body[data-ready=true]")  # the lists drawn again after the replay
        row = page.locator("#letters tr", has_text="0698")
        expect(row).to_have_count(1)
        shot(page, "dlq", full_page=True)
        row.locator("button.discard").click()
        row.locator("input[name=reason]").fill("测试数据，来源系统已作废")
        row.locator("form button[type=submit]").click()
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#letters tr", has_text="0698")).to_have_count(0)
        assert not errors, errors

    listed = httpx.get(
        f"{stack.url}/dlq", params={"all": "true", "reason": "0698"}, headers=_token(stack)
    ).json()
    (letter,) = listed["letters"]
    assert (letter["decision"], letter["decided_by"], letter["decision_reason"]) == (
        "discarded",
        OPERATOR,
        "测试数据，来源系统已作废",
    )
