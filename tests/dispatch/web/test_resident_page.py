"""The resident page (/r) in the Debian Chromium at a phone viewport, against the whole stack: a
resident reports with a photo and a typed address and gets a tracking code; the running worker
places the report and dispatches it; the grid worker resolves and the operator closes (through
the API); the resident follows the stages and sees the place on the grid map, rates 不满意 (the
reasons offered are config/revisits.toml's, through the API) and the case reopens."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from dispatch.api.auth import ApiRole, Principal, issue_token
from tests.dispatch.web.browser import open_page, shot
from tests.dispatch.web.conftest import OPERATOR, Stack
from tests.dispatch.web.test_worker_page import png

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def _bearer(stack: Stack, principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(stack.settings, principal)}"}


def _case_of(stack: Stack, ref: str, timeout_s: float = 60) -> tuple[str, str, str, str]:
    """(incident, task, assignee, report) once the worker has placed the resident's report."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert stack.worker.alive(), stack.worker.tail()
        with stack.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT i.incident_id::text, i.current_task_id::text, i.assignee_id, r.report_id::text "
                    "FROM resident_submissions s JOIN reports r USING (report_id) "
                    "JOIN incidents i USING (incident_id) WHERE s.source_ref = :ref"
                ),
                {"ref": ref},
            ).first()
        if row is not None and row[1] is not None:
            return row[0], row[1], row[2], row[3]
        time.sleep(0.3)
    raise AssertionError(f"no case for {ref}:\n{stack.worker.tail()}")


def test_report_follow_and_rate_dissatisfied_reopens_on_a_phone(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        page.goto(f"{stack.url}/r")
        page.wait_for_selector("body[data-ready=form]")
        form = page.locator("#report")
        form.locator("[name=category]").select_option("exposed_garbage")
        form.locator("[name=description]").fill("楼下垃圾桶满了两天没人收，味道很大")
        form.locator("[name=photos]").set_input_files(str(png(tmp_path / "garbage.png")))
        form.locator("[name=address]").fill("沙坪坝区杨梨路2号1栋")  # a building the gazetteer knows
        shot(page, "resident-report")
        form.locator("#find").click()  # the place on the grid map before sending
        expect(page.locator("#preview")).to_have_attribute("data-grid", re.compile(r"^\d{15}$"))
        expect(page.locator("#preview #place-map path.mine")).to_have_count(1)
        before = page.locator("#preview").get_attribute("data-grid")
        shot(page, "resident-form-map", full_page=True)
        form.locator("button[type=submit]").click()
        page.wait_for_selector("body[data-ready=tracking]")
        code = page.locator("#code b").inner_text()
        assert re.fullmatch(r"R-[2-9A-HJ-NP-Z]{8}-[2-9A-HJ-NP-Z]{6}", code), code
        # drawn once from GET /r/reports/{code}: received, and dispatched too when the running
        # worker placed the report before that answer (it often does: then the stages are two)
        expect(page.locator("#timeline li").first).to_have_attribute("data-stage", "received")
        expect(page.locator("#timeline li[data-stage=received]")).to_contain_text("已受理")
        stages = page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.stage)")
        assert stages in (["received"], ["received", "dispatched"]), stages
        shot(page, "resident-code")

        incident, task, assignee, report_id = _case_of(stack, code.rsplit("-", 1)[0])
        page.reload()  # placed by the intake: the typed address on its community's grid map
        page.wait_for_selector("body[data-ready=tracking]")
        grid = stack.one("SELECT grid_code FROM incidents WHERE incident_id = :id", id=incident)
        assert before == grid  # the form showed the grid the intake placed it in
        expect(page.locator("#place")).to_have_attribute("data-grid", str(grid))
        expect(page.locator("#place-map path.mine")).to_have_count(1)
        expect(page.locator("#place-map path.mine")).to_have_attribute("data-code", str(grid))
        expect(page.locator("#place-spot")).to_have_count(1)
        assert page.locator("#place-map path").count() > 1  # the community's other grids around it
        shot(page, "resident-place", full_page=True)
        (photo,) = stack.one(  # type: ignore[misc]
            "SELECT array_agg(a->>'uri') FROM reports, jsonb_array_elements(body->'attachments') a "
            "WHERE report_id = :id",
            id=report_id,
        )
        kind = stack.one("SELECT media_type FROM photos WHERE photo_key = :k", k=photo)
        assert kind == "image/jpeg"  # stored under its key, shrunk to a JPEG by the page
        worker = _bearer(stack, Principal(ApiRole.GRID_WORKER, assignee))
        base = f"{stack.url}/worker/tasks/{task}"
        for action, body in (("accept", None), ("arrive", None), ("resolve", {"note": "垃圾已清运"})):
            done = httpx.post(f"{base}/{action}", headers=worker, json=body)
            assert done.status_code == 200, done.text
        operator = _bearer(stack, Principal(ApiRole.OPERATOR, OPERATOR, district=stack.district.code))
        for action in ("verify", "close"):
            done = httpx.post(f"{stack.url}/incidents/{incident}/{action}", headers=operator, json={})
            assert done.status_code == 200, done.text

        page.reload()
        page.wait_for_selector("body[data-ready=rate]")
        stages = page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.stage)")
        assert stages == ["received", "dispatched", "on_site", "resolved", "closed"], stages
        for word in (assignee, "垃圾已清运"):  # no worker, no handling note is shown to the resident
            assert word not in page.content()
        rate = page.locator("#rate")
        rate.locator("input[value=dissatisfied]").check()
        offered = rate.locator("[name=reason_code] option").evaluate_all("els => els.map(e => e.value)")
        assert offered == [x["code"] for x in httpx.get(f"{stack.url}/r/reasons").json()["items"]]
        rate.locator("[name=reason_code]").select_option("not_fixed")
        rate.locator("[name=reason]").fill("垃圾桶旁边还有一堆没清走")
        shot(page, "resident-rate")
        rate.locator("button[type=submit]").click()
        expect(page.locator("#toast")).to_contain_text("重新交办")
        page.wait_for_selector("body[data-ready=tracking]")
        expect(page.locator("#rating")).to_have_attribute("data-answer", "dissatisfied")
        reopened = page.locator("#timeline li[data-stage=reopened]")
        expect(reopened).to_have_count(1)
        stages = page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.stage)")
        assert stages[5:] == ["reopened", "dispatched"], stages  # 返工: back to the same unit
        shot(page, "resident-reopened", full_page=True)

        page.click("#lang")
        expect(reopened).to_contain_text("Reopened")
        assert not errors, errors
    state = stack.one("SELECT state FROM incidents WHERE incident_id = :id", id=incident)
    assert state not in ("closed", "resolved"), state
    answer = stack.one(
        "SELECT answer FROM return_visits WHERE report_id = :id ORDER BY requested_at DESC LIMIT 1",
        id=report_id,
    )
    assert answer == "dissatisfied"


def test_the_device_location_is_shown_on_the_grid_map_before_sending(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    grid = stack.district.grids[200]
    point = grid.geometry.representative_point()
    with open_page(chromium, tmp_path / "located", phone=True) as (page, errors):
        page.context.grant_permissions(["geolocation"], origin=stack.url)
        page.context.set_geolocation({"longitude": point.x, "latitude": point.y, "accuracy": 12})
        page.goto(f"{stack.url}/r")
        page.wait_for_selector("body[data-ready=form]")
        page.locator("#locate").click()
        expect(page.locator("#located")).to_contain_text("±12 m")
        expect(page.locator("#preview")).to_have_attribute("data-grid", grid.code)
        expect(page.locator("#preview #place-map path.mine")).to_have_attribute("data-code", grid.code)
        expect(page.locator("#preview #place-spot")).to_have_count(1)
        page.locator("[name=address]").fill("火星路 9999 号")
        page.locator("#find").click()
        expect(page.locator("#preview-none")).to_contain_text("未找到该位置")
        page.locator("[name=address]").fill("")
        page.locator("#locate").click()
        expect(page.locator("#preview")).to_have_attribute("data-grid", grid.code)
        shot(page, "resident-form-located", full_page=True)
        assert not [e for e in errors if "422" not in e], errors  # the refused address is a 422, shown
