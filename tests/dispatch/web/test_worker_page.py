"""The grid worker's phone page in the Debian Chromium (phone viewport): log in with a PIN,
accept, arrive, resolve with a note and a photo (shrunk to a JPEG in the browser, uploaded,
stored under the settings' home), then the operator verifies and closes on the board; and a
task handed back with a reason. Each step is checked in PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from dispatch.api.auth import ApiRole, Principal, issue_token
from dispatch.cases.commands import Command
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from tests.casework import NEW_YEARS_EVE_16, harness, report_in
from tests.dispatch.web.browser import login, open_page, shot
from tests.dispatch.web.conftest import OPERATOR, PASSWORD, PIN, STREET, Stack, grid_in

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def png(path: Path, width: int = 96, height: int = 64) -> Path:
    """A small real PNG (a colour gradient), as a phone camera would not make it, but a decoder reads it."""
    rows = b"".join(
        b"\0" + b"".join(bytes((x * 255 // width, y * 255 // height, 128)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def test_worker_resolves_with_a_photo_and_the_operator_verifies_and_closes(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    case = stack.case
    state = "SELECT state FROM incidents WHERE incident_id = :id"
    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        login(page, stack.url, worker_id=case.assignee, pin=PIN)
        page.wait_for_url("**/m")
        page.wait_for_selector("body[data-ready=true]")
        card = page.locator(f"article[data-task='{case.task_id}']")
        expect(card).to_be_visible()
        # every report the case covers is on the card (here the one that opened it)
        expect(card.locator("details.reports li[data-report]")).to_have_count(1)
        card.locator("details.reports summary").click()
        shot(page, "worker-tasks")
        card.locator("button[data-action=accept]").click()
        expect(card).to_have_attribute("data-state", "accepted")
        assert stack.one(state, id=case.incident_id) == "accepted"
        card.locator("button[data-action=arrive]").click()
        expect(card).to_have_attribute("data-state", "on_site")
        card.locator("button[data-action=resolve]").click()
        card.locator("textarea[name=note]").fill("已补装井盖，现场恢复通行")
        card.locator("input[name=photo]").set_input_files(str(png(tmp_path / "site.png")))
        shot(page, "worker-resolve")
        card.locator("form button[type=submit]").click()
        expect(page.locator(f"article[data-task='{case.task_id}'][data-state=resolved]")).to_have_count(1)
        assert not errors, errors
    assert stack.one(state, id=case.incident_id) == "resolved"
    (key,) = stack.one("SELECT photos FROM tasks WHERE task_id = :id", id=case.task_id)  # type: ignore[misc]
    assert re.fullmatch(r"photos/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", key)
    data = stack.one("SELECT data FROM photos WHERE photo_key = :key", key=key)
    assert isinstance(data, bytes | memoryview)
    assert bytes(data)[:3] == b"\xff\xd8\xff"  # shrunk to a JPEG by the page

    with open_page(chromium, tmp_path / "desk") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        page.click("#queue-verify")  # resolved: to verify
        page.locator(f"#queue-list li[data-id='{case.incident_id}']").click()
        thumb = page.locator("#detail img.thumb")
        expect(thumb).to_have_count(1)
        page.wait_for_function("document.querySelector('#detail img.thumb').naturalWidth > 0")
        page.click("#detail button[data-action=verify]")
        page.click("#detail .action-form button[type=submit]")
        expect(page.locator("#detail button[data-action=close]")).to_be_visible()
        assert stack.one(state, id=case.incident_id) == "verified"
        page.click("#detail button[data-action=close]")
        page.fill("#detail .action-form [name=reason]", "核查属实，结案")
        shot(page, "board-close")
        page.click("#detail .action-form button[type=submit]")
        expect(page.locator("#detail button[data-action=reopen]")).to_be_visible()
        assert not errors, errors
    assert stack.one(state, id=case.incident_id) == "closed"


def test_worker_hands_a_task_back_with_a_reason(stack: Stack, chromium: Path, tmp_path: Path) -> None:
    district = stack.district
    report = report_in(
        district,
        grid_in(district, STREET, 12),
        category="road_blocked",
        source="police",
        at=datetime.now(UTC),
    )
    other = stack.publish(report)
    worker = stack.case.assignee
    if other.assignee != worker:  # give it to our worker, as an operator would
        token = issue_token(
            stack.settings, Principal(ApiRole.OPERATOR, OPERATOR, district=stack.district.code)
        )
        answer = httpx.post(
            f"{stack.url}/incidents/{other.incident_id}/reassign",
            headers={"Authorization": f"Bearer {token}"},
            json={"assignee": worker, "reason": "交由该网格员处理"},
        )
        assert answer.status_code == 200, answer.text
    task_id = stack.one(
        "SELECT current_task_id::text FROM incidents WHERE incident_id = :id", id=other.incident_id
    )
    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        login(page, stack.url, worker_id=worker, pin=PIN)
        page.wait_for_selector("body[data-ready=true]")
        card = page.locator(f"article[data-task='{task_id}']")
        card.locator("button[data-action=return]").click()
        card.locator("input[name=reason]").fill("不属于本网格，应由交警处理")
        card.locator("form button[type=submit]").click()
        expect(page.locator(f"article[data-task='{task_id}']")).to_have_count(0)
        assert not errors, errors
    # handed back, and routed again by the system (returned → dispatched to someone else)
    returned = "SELECT reason FROM events WHERE incident_id = :id AND action = 'return' AND actor_id = :who"
    assert stack.one(returned, id=other.incident_id, who=worker) == "不属于本网格，应由交警处理"
    assert stack.one("SELECT status FROM tasks WHERE task_id = :id", id=task_id) != "active"


async def _provisional_task(stack: Stack) -> str:
    """A P3 case opened at 16:00 on the last day the published calendar knows, given to our
    worker and accepted: its next deadline (resolve) lies in provisional time."""
    worker = stack.case.assignee
    async with harness(stack.settings, stack.engine, now=NEW_YEARS_EVE_16) as h:
        report = report_in(
            stack.district,
            grid_in(stack.district, STREET, 21),
            category="exposed_garbage",
            at=NEW_YEARS_EVE_16,
        )
        (iid,) = await h.report([report])
        cur = await h.conn.execute("SELECT assignee_id FROM incidents WHERE incident_id = %s", (iid,))
        row = await cur.fetchone()
        h.now[0] = NEW_YEARS_EVE_16 + timedelta(minutes=5)
        if row is None or row[0] != worker:
            operator = Actor(Role.OPERATOR, OPERATOR)
            await h.flows.transition(
                h.conn, iid, Command(Action.REASSIGN, operator, "交由该网格员处理", worker)
            )
        h.now[0] = NEW_YEARS_EVE_16 + timedelta(minutes=10)
        await h.flows.transition(h.conn, iid, Command(Action.ACCEPT, Actor(Role.GRID_WORKER, worker)))
        cur = await h.conn.execute(
            "SELECT current_task_id::text FROM incidents WHERE incident_id = %s", (iid,)
        )
        task = await cur.fetchone()
        assert task is not None
        return str(task[0])


def test_a_provisional_deadline_is_marked_on_the_phone(stack: Stack, chromium: Path, tmp_path: Path) -> None:
    task_id = asyncio.run(_provisional_task(stack))
    with open_page(chromium, tmp_path / "phone", phone=True) as (page, errors):
        login(page, stack.url, worker_id=stack.case.assignee, pin=PIN)
        page.wait_for_selector("body[data-ready=true]")
        card = page.locator(f"article[data-task='{task_id}']")
        expect(card.locator(".due .provisional")).to_have_text("暂定")
        card.scroll_into_view_if_needed()
        shot(page, "worker-provisional")
        assert not errors, errors
