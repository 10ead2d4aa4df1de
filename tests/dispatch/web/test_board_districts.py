"""Two districts on the board, in the Debian Chromium: a 九龙坡 operator's board shows 九龙坡's
case and layers and nothing of 沙坪坝, not even live; the city operator's (城市运行管理中心)
shows both.

九龙坡's layers are loaded beside 沙坪坝's (`tests.dispatch.web.second_district`), and its case is the stack's
case copied into it (`tests.casework.copy_into_district`); both are removed when the module
ends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from dispatch.api.auth import ApiRole, Principal, issue_token
from dispatch.cases.boot import connect
from tests.casework import JIULONGPO, Moved, copy_into_district, report_in
from tests.dispatch.web.browser import open_page, shot, signed_in_as
from tests.dispatch.web.conftest import STREET, Stack, grid_in
from tests.dispatch.web.second_district import jiulongpo_loaded

pytestmark = [pytest.mark.db, pytest.mark.kafka]


async def _copy(stack: Stack, *, unplaced: bool = False) -> Moved:
    """The stack's case copied into 九龙坡; `unplaced`: at 九龙坡's centre (no street, community
    or grid: a point no grid holds), so only its district names it."""
    conn = await connect(stack.settings, application_name="yiwang-test")
    try:
        moved = await copy_into_district(conn, stack.case.incident_id)
        if unplaced:
            async with conn.transaction():
                for table, areas in (
                    ("incidents", "street_code, community_code, grid_code"),
                    ("tasks", "street_code, grid_code"),
                    ("reports", "grid_code"),
                ):
                    nulls = ", ".join(f"{c} = NULL" for c in areas.split(", "))
                    await conn.execute(
                        f"UPDATE {table} SET {nulls} WHERE incident_id = %s::uuid", (moved.incident_id,)
                    )
        return moved
    finally:
        await conn.close()


def _remove(stack: Stack, incident_id: str) -> None:
    with stack.engine.begin() as conn:
        tables = conn.scalars(
            text(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'incident_id' "
                "AND table_schema = current_schema() AND table_name <> 'incidents'"
            )
        ).all()
        for table in [*tables, "incidents"]:
            conn.execute(text(f"DELETE FROM {table} WHERE incident_id = :i"), {"i": incident_id})


@pytest.fixture(scope="module")
def jiulongpo_case(stack: Stack) -> Iterator[tuple[Moved, Moved]]:
    """九龙坡's layers and cases (one in a grid, one at its district's centre) for this module
    only: all are removed afterwards, so the stack's other page tests keep their one-district
    world."""
    with jiulongpo_loaded(stack):
        moved, unplaced = asyncio.run(_copy(stack)), asyncio.run(_copy(stack, unplaced=True))
        try:
            yield moved, unplaced
        finally:
            for case in (moved, unplaced):
                _remove(stack, case.incident_id)


def _board_as(page: Page, stack: Stack, principal: Principal) -> None:
    signed_in_as(page, stack.url, stack.settings, principal, "/board")


def _escalate(stack: Stack, incident_id: str, level: str) -> None:
    """An operator's escalation (an event on dispatch.events), sent as the city operator."""
    token = issue_token(stack.settings, Principal(ApiRole.CITY_OPERATOR, "city-op"))
    answer = httpx.post(
        f"{stack.url}/incidents/{incident_id}/escalate",
        json={"level": level, "reason": "跨区协调"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def test_a_district_operator_sees_their_district_and_the_city_operator_both(
    stack: Stack, chromium: Path, tmp_path: Path, jiulongpo_case: tuple[Moved, Moved]
) -> None:
    """九龙坡's board: its case, its layers, and live only its own events (a 沙坪坝 report
    arriving through the real worker between two 九龙坡 events never shows), also those of its
    case at the district's centre (named on the ticker by its district); the city's board:
    both districts, and that 沙坪坝 case."""
    shapingba_case, jlp_case = stack.case.incident_id, jiulongpo_case[0].incident_id
    unplaced = jiulongpo_case[1].incident_id
    with open_page(chromium, tmp_path / "jlp") as (page, errors):
        _board_as(page, stack, Principal(ApiRole.OPERATOR, "jlp-op", district=JIULONGPO))
        expect(page.locator(f"circle.marker[data-id='{jlp_case}']")).to_have_count(1)
        expect(page.locator(f"#queue-list li[data-id='{jlp_case}']")).to_be_visible()
        expect(page.locator(f"circle.marker[data-id='{shapingba_case}']")).to_have_count(0)
        expect(page.locator(f"#queue-list li[data-id='{shapingba_case}']")).to_have_count(0)
        expect(page.locator("#who")).to_contain_text("九龙坡区")
        expect(page.locator("path[data-code^='500106']")).to_have_count(0)
        expect(page.locator("path[data-code^='500107']").first).to_be_attached()
        expect(page.locator("#live")).to_have_class("live on")
        ticker = page.locator(f"#ticker li[data-id='{jlp_case}']")
        _escalate(stack, jlp_case, "community_lead")
        expect(ticker.first).to_be_visible(timeout=20_000)
        before = ticker.count()
        grid = grid_in(stack.district, STREET, 11)
        fresh = stack.publish(report_in(stack.district, grid, category="fallen_tree", at=datetime.now(UTC)))
        _escalate(stack, jlp_case, "street_center")
        page.wait_for_function(  # the feed has passed the 沙坪坝 report's events
            f"document.querySelectorAll(\"#ticker li[data-id='{jlp_case}']\").length > {before}",
            timeout=20_000,
        )
        expect(page.locator(f"#ticker li[data-id='{fresh.incident_id}']")).to_have_count(0)
        expect(page.locator(f"#queue-list li[data-id='{fresh.incident_id}']")).to_have_count(0)
        _escalate(stack, unplaced, "district_center")
        centre = page.locator(f"#ticker li[data-id='{unplaced}']")
        expect(centre.first).to_be_visible(timeout=20_000)
        expect(centre.first).to_contain_text("九龙坡区")
        expect(page.locator(f"#queue-list li[data-id='{unplaced}']")).to_be_visible()
        shot(page, "board-district-jiulongpo")
        assert errors == []
    with open_page(chromium, tmp_path / "city") as (page, errors):
        _board_as(page, stack, Principal(ApiRole.CITY_OPERATOR, "city-op"))
        for case in (jlp_case, shapingba_case, fresh.incident_id):
            expect(page.locator(f"circle.marker[data-id='{case}']")).to_have_count(1)
        expect(page.locator(f"#queue-list li[data-id='{fresh.incident_id}']")).to_be_visible()
        expect(page.locator("#who")).to_contain_text("城市运行管理中心")
        for district in ("500106", "500107"):
            expect(page.locator(f"path[data-code^='{district}']").first).to_be_attached()
        shot(page, "board-city")
        assert errors == []
