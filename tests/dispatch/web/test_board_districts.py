"""Two districts on the board, in the Debian Chromium: a 九龙坡 operator's board shows 九龙坡's
case and layers and nothing of 沙坪坝; the city operator's (城市运行管理中心) shows both.

九龙坡's layers are loaded beside 沙坪坝's (taking effect a day earlier, so the running worker,
which serves the district of the latest version, keeps 沙坪坝), and its case is the stack's
case copied into it (`tests.casework.copy_into_district`)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dispatch.api.auth import ApiRole, Principal, issue_token
from dispatch.cases.boot import connect
from geo import service as geo_service
from geo.reference import load_reference
from tests.casework import JIULONGPO, Moved, copy_into_district
from tests.dispatch.web.browser import open_page, shot
from tests.dispatch.web.conftest import Stack

pytestmark = [pytest.mark.db, pytest.mark.kafka]


async def _copy(stack: Stack) -> Moved:
    conn = await connect(stack.settings, application_name="yiwang-test")
    try:
        return await copy_into_district(conn, stack.case.incident_id)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def jiulongpo_case(stack: Stack) -> Moved:
    jlp = load_reference("jiulongpo")
    with stack.engine.begin() as conn:
        if not geo_service.list_versions(conn, JIULONGPO):
            geo_service.import_layers(
                conn,
                geo_service.reference_layers(jlp),
                effective_from=stack.district.effective_from - timedelta(days=1),
                source=jlp.source,
            )
    return asyncio.run(_copy(stack))


def _board_as(page: Page, stack: Stack, principal: Principal) -> None:
    """Open the board with the session a login would have kept (these operators have no
    password in the stack's accounts file)."""
    session = {
        "token": issue_token(stack.settings, principal),
        "role": principal.role.value,
        "sub": principal.subject,
        "street": None,
        "district": principal.district,
        "expires": 4102444800000,
    }
    page.goto(f"{stack.url}/login")
    page.evaluate(f"localStorage.setItem('yiwang.session', {json.dumps(json.dumps(session))})")
    page.goto(f"{stack.url}/board")


def test_a_district_operator_sees_their_district_and_the_city_operator_both(
    stack: Stack, chromium: Path, tmp_path: Path, jiulongpo_case: Moved
) -> None:
    shapingba_case, jlp_case = stack.case.incident_id, jiulongpo_case.incident_id
    with open_page(chromium, tmp_path / "jlp") as (page, errors):
        _board_as(page, stack, Principal(ApiRole.OPERATOR, "jlp-op", district=JIULONGPO))
        expect(page.locator(f"circle.marker[data-id='{jlp_case}']")).to_have_count(1)
        expect(page.locator(f"#queue-list li[data-id='{jlp_case}']")).to_be_visible()
        expect(page.locator(f"circle.marker[data-id='{shapingba_case}']")).to_have_count(0)
        expect(page.locator(f"#queue-list li[data-id='{shapingba_case}']")).to_have_count(0)
        expect(page.locator("#who")).to_contain_text("九龙坡区")
        streets = page.locator("path[data-code^='500106']")
        expect(streets).to_have_count(0)
        expect(page.locator("path[data-code^='500107']").first).to_be_attached()
        shot(page, "board-district-jiulongpo")
        assert errors == []
    with open_page(chromium, tmp_path / "city") as (page, errors):
        _board_as(page, stack, Principal(ApiRole.CITY_OPERATOR, "city-op"))
        for case in (jlp_case, shapingba_case):
            expect(page.locator(f"circle.marker[data-id='{case}']")).to_have_count(1)
        expect(page.locator(f"#queue-list li[data-id='{shapingba_case}']")).to_be_visible()
        expect(page.locator("#who")).to_contain_text("城市运行管理中心")
        for district in ("500106", "500107"):
            expect(page.locator(f"path[data-code^='{district}']").first).to_be_attached()
        shot(page, "board-city")
        assert errors == []
