"""The desks' inbox in the Debian Chromium, against the running worker and API: the overdue
cases the worker's SLA tracker escalated reach the community lead's inbox through the worker's
notices agent; the lead receives and answers one there (desktop), the inbox fits a phone, and
the operator's case panel shows the notice answered. A 督办 left unreceived past its limit is
climbed to the street center by the worker's own timer and appears in that desk's inbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer
from playwright.sync_api import expect
from sqlalchemy import text

from tests.dispatch.web.browser import login, open_page, shot
from tests.dispatch.web.conftest import (
    LEAD,
    LEAD_PASSWORD,
    OPERATOR,
    PASSWORD,
    STREET,
    STREET_DESK,
    STREET_DESK_PASSWORD,
    Stack,
    lead_desk,
)

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def wait_for(stack: Stack, sql: str, timeout_s: float = 90, **params: object) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert stack.worker.alive(), stack.worker.tail()
        with stack.engine.connect() as conn:
            value = conn.execute(text(sql), params).scalar()
        if value is not None:
            return value
        time.sleep(0.5)
    raise AssertionError(f"nothing for {sql} {params}:\n{stack.worker.tail()}")


def test_an_escalated_case_is_received_and_answered_in_the_leads_inbox(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    incident = stack.overdue[0]
    notice_id = str(
        wait_for(
            stack,
            "SELECT notice_id FROM notices WHERE incident_id = :id AND desk = :desk "
            "ORDER BY created_at LIMIT 1",
            id=incident,
            desk=lead_desk(stack.district),
        )
    )
    with open_page(chromium, tmp_path / "lead") as (page, errors):
        login(page, stack.url, username=LEAD, password=LEAD_PASSWORD)
        page.wait_for_url("**/inbox")
        page.wait_for_selector("body[data-ready=true]")
        card = page.locator(f"article[data-notice='{notice_id}']")
        expect(card).to_have_attribute("data-state", "sent")
        expect(card.locator(".left")).to_contain_text("签收")
        shot(page, "inbox-lead")
        card.locator("button[data-action=receive]").click()
        expect(card).to_have_attribute("data-state", "received")
        card.locator("button[data-action=answer]").click()
        card.locator("textarea[name=what]").fill("已安排抢修队，今晚完成管道修复")
        card.locator("form button[type=submit]").click()
        expect(card).to_have_attribute("data-state", "answered")
        expect(card.locator(".promise")).to_contain_text("已安排抢修队")
        shot(page, "inbox-answered")
        assert not errors, errors
    assert stack.one("SELECT state FROM notices WHERE notice_id = :id", id=notice_id) == "answered"
    actions = stack.one(
        "SELECT string_agg(action, ',' ORDER BY sequence) FROM notice_events WHERE notice_id = :id",
        id=notice_id,
    )
    assert actions == "receive,answer"

    with open_page(chromium, tmp_path / "lead-phone", phone=True) as (page, errors):
        login(page, stack.url, username=LEAD, password=LEAD_PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator(f"article[data-notice='{notice_id}']")).to_be_visible()
        shot(page, "inbox-phone")
        assert not errors, errors

    with open_page(chromium, tmp_path / "board") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        page.click("#queue-overdue")
        page.locator(f"#queue-list li[data-id='{incident}']").click()
        answered = page.locator(f"#detail .case-notices li[data-notice='{notice_id}']")
        expect(answered).to_have_attribute("data-state", "answered")
        expect(answered).to_contain_text("已反馈")
        answered.scroll_into_view_if_needed()
        shot(page, "board-case-notices")
        assert not errors, errors


def test_an_unreceived_supervision_climbs_to_the_street_center(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    incident = stack.overdue[1]
    grid = str(stack.one("SELECT grid_code FROM incidents WHERE incident_id = :id", id=incident))
    at = datetime.now(UTC) - timedelta(hours=1)
    # a 督办 addressed to the community lead an hour ago, as a deployment's ladder may send it
    # (the shipped one sends 督办 to the district center, the top rung)
    event = {
        "incident_id": incident,
        "sequence": 10_001,
        "action": "escalate",
        "actor_id": "sla",
        "at": at.isoformat(),
        "reason": "district: resolve clock at 300% of its limit; supervise community_lead",
        "grid_code": grid,
        "street_code": STREET,
        "data": {
            "escalation": {
                "step": "district",
                "action": "supervise",
                "target": "community_lead",
                "clock": "resolve",
                "fraction": 3.0,
            }
        },
    }
    producer = KafkaProducer(bootstrap_servers=stack.settings.bootstrap_servers)
    producer.send(stack.settings.topic("dispatch.events"), orjson.dumps({"event": event}), key=grid.encode())
    producer.flush()
    producer.close()
    first = f"{incident}:10001>community_lead:{grid[:12]}"
    climbed = str(
        wait_for(stack, "SELECT climbed_to FROM notices WHERE notice_id = :id", timeout_s=120, id=first)
    )
    assert climbed == first + "^"
    assert (
        stack.one("SELECT desk FROM notices WHERE notice_id = :id", id=climbed) == f"street_center:{STREET}"
    )
    with open_page(chromium, tmp_path / "street") as (page, errors):
        login(page, stack.url, username=STREET_DESK, password=STREET_DESK_PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        card = page.locator(f"article[data-notice='{climbed}']")
        expect(card).to_have_attribute("data-state", "sent")
        expect(card).to_contain_text("未签收，提级")
        shot(page, "inbox-street-climbed")
        assert not errors, errors
