"""The volunteer's phone page (/v) in the Debian Chromium at a phone viewport: register, the
community approves, log in; claim a shared-bike task, resolve it with a photo (shrunk to a JPEG
in the browser); the grid worker verifies; the points show; redeem an item; the partner
fulfils it. Each step is checked in PostgreSQL; nothing personal about the resident shows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from dispatch.api.auth import ApiRole, Principal, issue_token
from tests.casework import report_in
from tests.dispatch.web.browser import open_page, shot
from tests.dispatch.web.conftest import OPERATOR, STREET, Stack, grid_in
from tests.dispatch.web.test_worker_page import png

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def _bearer(stack: Stack, principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(stack.settings, principal)}"}


def test_claim_resolve_verify_points_redeem_on_a_phone(stack: Stack, chromium: Path, tmp_path: Path) -> None:
    district = stack.district
    report = report_in(
        district,
        grid_in(district, STREET, 18),
        category="shared_bikes_disorder",
        at=datetime.now(UTC),
        description="小区门口共享单车乱停，堵住盲道",
    )
    case = stack.publish(report)
    community = stack.one("SELECT community_code FROM incidents WHERE incident_id = :id", id=case.incident_id)
    operator = _bearer(stack, Principal(ApiRole.OPERATOR, OPERATOR, district=stack.district.code))
    item_id = f"towel-{uuid.uuid4().hex[:6]}"
    made = httpx.put(
        f"{stack.url}/catalogue/{item_id}",
        headers=operator,
        json={
            "community_code": community,
            "zh": "毛巾一条",
            "en": "A towel",
            "kind": "goods",
            "cost": 10,
            "stock": 3,
            "partner_id": "p-towel",
        },
    )
    assert made.status_code == 200, made.text
    phone = f"139{uuid.uuid4().int % 10**8:08d}"

    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        page.goto(f"{stack.url}/v")
        page.wait_for_selector("body[data-ready=auth]")
        form = page.locator("#register")
        form.locator("[name=name]").fill("陈志愿")
        form.locator("[name=phone]").fill(phone)
        form.locator("[name=community]").select_option(str(community))
        form.locator("[name=skills]").fill("文明劝导，清洁")
        form.locator("[name=pin]").fill("2580")
        shot(page, "volunteer-register")
        form.locator("button[type=submit]").click()
        expect(page.locator("#toast")).to_contain_text("待社区审核")
        volunteer_id = stack.one("SELECT volunteer_id FROM volunteers WHERE phone = :p", p=phone)
        assert stack.one("SELECT status FROM volunteers WHERE phone = :p", p=phone) == "pending"
        approved = httpx.post(
            f"{stack.url}/volunteers/{volunteer_id}/status", headers=operator, json={"status": "active"}
        )
        assert approved.status_code == 200, approved.text

        login = page.locator("#login")
        login.locator("[name=phone]").fill(phone)
        login.locator("[name=pin]").fill("2580")
        login.locator("button[type=submit]").click()
        page.wait_for_selector("body[data-ready=tasks]")
        card = page.locator(f"article[data-incident='{case.incident_id}']")
        expect(card).to_have_attribute("data-status", "offered")
        for word in ("张三丰", "13812345678", "盲道"):  # the reporter and the report's text stay out
            assert word not in page.content()
        shot(page, "volunteer-tasks")
        card.locator("button[data-action=claim]").click()
        expect(card).to_have_attribute("data-status", "claimed")
        assert stack.one(
            "SELECT holder FROM volunteer_offers WHERE incident_id = :id", id=case.incident_id
        ) == (volunteer_id)
        card.locator("button[data-action=resolve]").click()
        card.locator("textarea[name=note]").fill("已将单车摆放整齐，盲道畅通")
        card.locator("input[name=photo]").set_input_files(str(png(tmp_path / "bikes.png")))
        shot(page, "volunteer-resolve")
        card.locator("form button[type=submit]").click()
        expect(
            page.locator(f"article[data-incident='{case.incident_id}'][data-status=resolved]")
        ).to_have_count(1)
        assert (
            stack.one("SELECT state FROM incidents WHERE incident_id = :id", id=case.incident_id)
            == "resolved"
        )
        (key,) = stack.one("SELECT photos FROM tasks WHERE task_id = :id", id=case.task_id)  # type: ignore[misc]
        data = stack.one("SELECT data FROM photos WHERE photo_key = :key", key=key)
        assert isinstance(data, bytes | memoryview)
        assert bytes(data)[:3] == b"\xff\xd8\xff"  # shrunk to a JPEG by the page

        # the grid worker holding the case checks the volunteer's work
        worker = _bearer(stack, Principal(ApiRole.GRID_WORKER, case.assignee))
        checked = httpx.post(
            f"{stack.url}/worker/volunteer-tasks/{case.task_id}/check", headers=worker, json={"passed": True}
        )
        assert checked.status_code == 200, checked.text
        page.reload()
        page.wait_for_selector("body[data-ready=tasks]")
        expect(page.locator(f"article[data-incident='{case.incident_id}']")).to_have_attribute(
            "data-status", "verified"
        )
        expect(page.locator("#balance")).to_have_text("15")  # 10 for the category, 5 on time
        page.click(".vtab[data-tab=points]")
        page.wait_for_selector("body[data-ready=points]")
        expect(page.locator("table.lines tr")).to_have_count(2)
        expect(page.locator("ol.board li.me")).to_contain_text("15")
        shot(page, "volunteer-points")

        page.click(".vtab[data-tab=shop]")
        page.wait_for_selector("body[data-ready=shop]")
        item = page.locator(f"article[data-item='{item_id}']")
        item.locator("button[data-action=redeem]").click()
        expect(page.locator("#balance")).to_have_text("5")
        expect(page.locator("ul.mine li[data-status=pending]")).to_have_count(1)
        assert stack.one("SELECT stock FROM catalogue_items WHERE item_id = :i", i=item_id) == 2
        shot(page, "volunteer-redeem")
        rid = stack.one("SELECT redemption_id::text FROM redemptions WHERE volunteer_id = :v", v=volunteer_id)
        fulfilled = httpx.post(
            f"{stack.url}/partner/redemptions/{rid}/fulfil",
            headers=_bearer(stack, Principal(ApiRole.PARTNER, "p-towel")),
        )
        assert fulfilled.status_code == 200, fulfilled.text
        page.reload()
        page.wait_for_selector("body[data-ready=tasks]")
        page.click(".vtab[data-tab=shop]")
        page.wait_for_selector("body[data-ready=shop]")
        expect(page.locator("ul.mine li[data-status=fulfilled]")).to_have_count(1)
        page.click("#lang")
        page.wait_for_selector("body[data-ready=shop]")
        expect(page.locator(".vtab[data-tab=shop]")).to_have_text("Redeem")
        shot(page, "volunteer-shop-en")
        assert not errors, errors
