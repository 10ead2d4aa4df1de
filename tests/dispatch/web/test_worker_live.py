"""The grid worker's phone page live, in the Debian Chromium against the running worker and
API: a task given to the worker appears without a reload, a reminder (提醒) addressed to the
worker marks its card, and the countdown runs."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from kafka import KafkaProducer
from playwright.sync_api import expect

from dispatch.api.auth import ApiRole, Principal, issue_token
from tests.casework import report_in
from tests.dispatch.web.browser import login, open_page, shot
from tests.dispatch.web.conftest import OPERATOR, PIN, STREET, Stack, grid_in

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def give_to(stack: Stack, incident_id: str, worker: str) -> None:
    token = issue_token(stack.settings, Principal(ApiRole.OPERATOR, OPERATOR, district=stack.district.code))
    answer = httpx.post(
        f"{stack.url}/incidents/{incident_id}/reassign",
        headers={"Authorization": f"Bearer {token}"},
        json={"assignee": worker, "reason": "交由该网格员处理"},
    )
    assert answer.status_code == 200, answer.text


def test_a_new_task_and_a_reminder_arrive_without_a_reload(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    worker = stack.case.assignee
    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        login(page, stack.url, worker_id=worker, pin=PIN)
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("body")).to_have_attribute("data-live", "on")
        page.evaluate("window.__stayed = true")
        report = report_in(
            stack.district,
            grid_in(stack.district, STREET, 15),
            category="road_blocked",
            source="police",
            at=datetime.now(UTC),
        )
        other = stack.publish(report)
        if other.assignee != worker:
            give_to(stack, other.incident_id, worker)
        task_id = str(
            stack.one(
                "SELECT current_task_id::text FROM incidents WHERE incident_id = :id", id=other.incident_id
            )
        )
        card = page.locator(f"article[data-task='{task_id}']")
        expect(card).to_be_visible(timeout=20_000)
        expect(card.locator(".countdown")).to_contain_text("剩余")
        assert page.evaluate("window.__stayed === true"), "the page reloaded"

        reminder = {
            "incident_id": other.incident_id,
            "task_id": task_id,
            "assignee_id": worker,
            "target": "assignee",
            "step": "yellow",
            "action": "remind",
            "category": "road_blocked",
            "street_code": STREET,
            "at": datetime.now(UTC).isoformat(),
        }
        producer = KafkaProducer(bootstrap_servers=stack.settings.bootstrap_servers)
        producer.send(stack.settings.topic("sla.escalations"), orjson.dumps(reminder), key=b"test")
        producer.flush()
        producer.close()
        expect(card).to_have_class("task light-green reminded", timeout=20_000)
        expect(page.locator("#toast")).to_contain_text("提醒")
        shot(page, "worker-live")
        assert page.evaluate("window.__stayed === true"), "the page reloaded"

        assert not errors, errors


def test_the_task_detail_shows_the_case_its_place_and_asks_for_an_extension(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    worker = stack.case.assignee
    report = report_in(
        stack.district,
        grid_in(stack.district, STREET, 18),
        category="road_blocked",
        source="police",
        at=datetime.now(UTC),
        description="道路被倒伏树木阻断",
    )
    other = stack.publish(report)
    if other.assignee != worker:
        give_to(stack, other.incident_id, worker)
    task_id = str(
        stack.one("SELECT current_task_id::text FROM incidents WHERE incident_id = :id", id=other.incident_id)
    )
    lon = float(
        str(stack.one("SELECT ST_X(geom) FROM incidents WHERE incident_id = :id", id=other.incident_id))
    )
    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        login(page, stack.url, worker_id=worker, pin=PIN)
        page.wait_for_selector("body[data-ready=true]")
        card = page.locator(f"article[data-task='{task_id}']")
        card.locator("button[data-action=accept]").click()
        expect(card).to_have_attribute("data-state", "accepted")
        card.locator("button[data-action=detail]").click()
        detail = page.locator(f"#detail[data-task='{task_id}']")
        expect(detail).to_be_visible()
        expect(detail.locator(".reports li")).to_contain_text("道路被倒伏树木阻断")
        expect(detail.locator(".mini-map polygon.grid-outline")).not_to_have_count(0)
        expect(detail.locator(".mini-map circle.task-point")).to_have_count(1)
        expect(detail.locator(".contacts li").first).to_contain_text("社区书记")
        amap = detail.locator("a.amap").get_attribute("href") or ""
        position = amap.split("position=")[1].split("&")[0]
        assert abs(float(position.split(",")[0]) - lon) > 1e-4  # GCJ-02, not the stored WGS84
        expect(detail.locator("a.baidu")).to_have_attribute("href", re.compile(r"coord_type=bd09ll"))
        shot(page, "worker-detail")
        detail.locator("button[data-action=request_extension]").click()
        detail.locator("textarea[name=reason]").fill("需协调园林部门清运倒伏树木")
        detail.locator("select[name=extension]").select_option("3d")
        detail.locator("form button[type=submit]").click()
        expect(page.locator("#detail")).to_be_hidden()
        expect(card).to_have_attribute("data-state", "extension_requested")
        assert not errors, errors
    asked = "SELECT reason FROM events WHERE incident_id = :id AND action = 'request_extension'"
    assert stack.one(asked, id=other.incident_id) == "需协调园林部门清运倒伏树木"


def test_offline_the_page_still_loads_and_an_action_is_queued_and_sent_once(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    worker = stack.case.assignee
    report = report_in(
        stack.district,
        grid_in(stack.district, STREET, 21),
        category="road_blocked",
        source="police",
        at=datetime.now(UTC),
    )
    other = stack.publish(report)
    if other.assignee != worker:
        give_to(stack, other.incident_id, worker)
    task_id = str(
        stack.one("SELECT current_task_id::text FROM incidents WHERE incident_id = :id", id=other.incident_id)
    )
    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        login(page, stack.url, worker_id=worker, pin=PIN)
        page.wait_for_selector("body[data-ready=true]")
        # polled from here: Playwright's wait_for_function polls with eval, which the page's CSP forbids
        deadline = time.monotonic() + 20
        while not page.evaluate(
            "() => Boolean(navigator.serviceWorker && navigator.serviceWorker.controller)"
        ):
            assert time.monotonic() < deadline, "the service worker never took control of /m"
            time.sleep(0.2)
        page.reload()  # now through the service worker, which keeps the page and the task list
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator(f"article[data-task='{task_id}']")).to_be_visible()

        page.context.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        card = page.locator(f"article[data-task='{task_id}']")
        expect(card).to_be_visible()
        expect(page.locator("#offline")).to_be_visible(timeout=20_000)
        card.locator("button[data-action=accept]").click()
        expect(page.locator("body")).to_have_attribute("data-queued", "1")
        shot(page, "worker-offline")
        assert (
            stack.one("SELECT state FROM incidents WHERE incident_id = :id", id=other.incident_id)
            == "dispatched"
        )

        page.context.set_offline(False)
        expect(page.locator("body")).to_have_attribute("data-queued", "0", timeout=20_000)
        expect(card).to_have_attribute("data-state", "accepted", timeout=20_000)
        assert not [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to fetch" not in e]
    assert (
        stack.one("SELECT state FROM incidents WHERE incident_id = :id", id=other.incident_id) == "accepted"
    )
    accepts = "SELECT count(*) FROM events WHERE incident_id = :id AND action = 'accept'"
    assert stack.one(accepts, id=other.incident_id) == 1


def test_sharing_the_position_is_opt_in_and_can_be_withdrawn(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    worker = stack.case.assignee
    shared = "SELECT count(*) FROM worker_positions WHERE worker_id = :w"
    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        page.context.grant_permissions(["geolocation"], origin=stack.url)
        page.context.set_geolocation({"longitude": 106.4555, "latitude": 29.5611, "accuracy": 15})
        login(page, stack.url, worker_id=worker, pin=PIN)
        page.wait_for_selector("body[data-ready=true]")
        assert stack.one(shared, w=worker) == 0  # nothing without the worker's consent
        page.check("#share-position")
        expect(page.locator("body")).to_have_attribute("data-shared", "yes")
        lon = stack.one("SELECT lon FROM worker_positions WHERE worker_id = :w", w=worker)
        assert abs(float(str(lon)) - 106.4555) < 1e-9
        page.uncheck("#share-position")
        expect(page.locator("#toast")).to_contain_text("已停止共享位置")
        assert not errors, errors
    assert stack.one(shared, w=worker) == 0
