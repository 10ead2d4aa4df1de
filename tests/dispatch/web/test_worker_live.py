"""The grid worker's phone page live, in the Debian Chromium against the running worker and
API: a task given to the worker appears without a reload, a reminder (提醒) addressed to the
worker marks its card, and the countdown runs."""

from __future__ import annotations

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
    token = issue_token(stack.settings, Principal(ApiRole.OPERATOR, OPERATOR))
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
