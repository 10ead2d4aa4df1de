"""The command-center board in the Debian Chromium, against the running worker and API:
login, the task a Kafka report became, the overdue cases the SLA tracker escalated, a new
report arriving live (no reload), drill-down, the language switch, and an operator action
on the page that changes the case in PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.casework import NEW_YEARS_EVE_16, harness, report_in
from tests.dispatch.web.browser import login, open_page, shot
from tests.dispatch.web.conftest import OPERATOR, PASSWORD, STREET, Stack, grid_in

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def test_board_shows_the_task_made_from_a_kafka_report_and_the_escalated_cases(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password="not-the-password")
        expect(page.locator("#login-error")).to_contain_text("登录失败")
        errors.clear()  # the refused login's 401 is the point of the step above
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_url("**/board")
        page.wait_for_selector("body[data-ready=true]")
        case = stack.case
        expect(page.locator(f"#col-new li[data-id='{case.incident_id}']")).to_be_visible()
        expect(page.locator(f"circle.marker[data-id='{case.incident_id}']")).to_have_count(1)
        # the worker's SLA tracker escalates the cases seeded three hours ago; the board hears it live
        for incident_id in stack.overdue:
            expect(page.locator(f"#col-escalated li[data-id='{incident_id}']")).to_be_visible(timeout=30_000)
            expect(page.locator(f"#col-overdue li[data-id='{incident_id}']")).to_be_visible()
        overdue_grid = stack.district.grids[grid_in(stack.district, STREET, 1)].code
        expect(page.locator(f"path.grid[data-code='{overdue_grid}']")).to_have_class("grid overdue1")
        expect(page.locator(f"circle.marker[data-id='{stack.overdue[0]}']")).to_have_class(
            "marker P1 light-red"
        )
        expect(page.locator("#live")).to_have_class("live on")
        shot(page, "board")
        page.click("#lang")
        expect(page.locator("header.top h1")).to_contain_text("Command center")
        expect(page.locator("#col-new h2")).to_contain_text("New")
        shot(page, "board-en")
        assert not errors, errors


def test_a_new_report_arrives_live_and_the_operator_reassigns_it(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    district = stack.district
    grid = grid_in(district, STREET, 9)
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#live")).to_have_class("live on")
        page.evaluate("window.__same_page = true")
        report = report_in(district, grid, category="fallen_tree", source="patrol", at=datetime.now(UTC))
        case = stack.publish(report)
        expect(page.locator(f"#col-new li[data-id='{case.incident_id}']")).to_be_visible(timeout=20_000)
        assert page.evaluate("window.__same_page") is True, "the board reloaded instead of updating"
        expect(page.locator(f"#ticker li[data-id='{case.incident_id}']").first).to_be_visible()

        # drill-down: street, community, grid; the columns follow the focus
        code = district.grids[grid].code
        for _ in range(3):  # the click event itself: the case's marker covers the middle of its grid
            page.locator(f"path.grid[data-code='{code}']").dispatch_event("click")
        expect(page.locator("#crumbs .crumb")).to_have_count(4)
        expect(page.locator(f"path.grid[data-code='{code}']")).to_have_class("grid open1 picked")
        expect(page.locator("#col-new li.item")).to_have_count(1)
        shot(page, "board-drilldown")

        page.locator(f"#col-new li[data-id='{case.incident_id}']").click()
        expect(page.locator("#detail")).to_be_visible()
        lead = f"{code[:12]}-community_lead-1"  # the community of the grid (6+3+3+3 digits)
        page.click("#detail button[data-action=reassign]")
        page.fill("#detail .action-form [name=assignee]", lead)
        page.fill("#detail .action-form [name=reason]", "人手调整，交社区处理")
        shot(page, "board-detail")
        page.click("#detail .action-form button[type=submit]")
        expect(page.locator("#detail .assignee")).to_have_text(lead)
        assert not errors, errors
    assert stack.one("SELECT assignee_id FROM incidents WHERE incident_id = :id", id=case.incident_id) == lead
    reassigned = (
        "SELECT count(*) FROM events WHERE incident_id = :id AND action = 'reassign' AND actor_role = :role"
    )
    assert stack.one(reassigned, id=case.incident_id, role="operator") == 1


async def _seed_provisional(stack: Stack) -> str:
    """A P3 case opened at 16:00 on the last day the published calendar knows."""
    async with harness(stack.settings, stack.engine, now=NEW_YEARS_EVE_16) as h:
        report = report_in(
            stack.district,
            grid_in(stack.district, STREET, 20),
            category="exposed_garbage",
            at=NEW_YEARS_EVE_16,
            description="垃圾暴露，跨年未清运",
        )
        (iid,) = await h.report([report])
        return iid


def test_a_deadline_past_the_published_calendar_is_marked_provisional(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    iid = asyncio.run(_seed_provisional(stack))
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        page.locator(f"#col-new li[data-id='{iid}']").click()
        resolve = page.locator("#detail ul.deadlines li[data-clock=resolve]")
        expect(resolve).to_have_attribute("data-provisional", "true")
        expect(resolve.locator(".provisional")).to_have_text("暂定")
        accept = page.locator("#detail ul.deadlines li[data-clock=accept]")
        expect(accept).to_have_attribute("data-provisional", "false")  # 17:00 on 31 December
        expect(accept.locator(".provisional")).to_have_count(0)
        shot(page, "board-detail-provisional")
        assert not errors, errors
