"""The command-center board in the Debian Chromium, against the running worker and API:
login, the seven queues in sight with a case in each (the task a Kafka report became, the
overdue cases the SLA tracker escalated, cases resolved, waiting on an extension, handed back
by everyone who could take them, escalated by hand), a new report arriving live (no reload),
drill-down, the language switch, the case's deep link, an operator action on the page that
changes the case in PostgreSQL, and triage: a triage source's reports published through Kafka
wait on the 待立案 list with their register clock, one is registered (and routed) and one
rejected with a reason from the board."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from config.policy import Duration
from dispatch.cases.commands import Command
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.sla.ladder import LadderTarget
from tests.casework import NEW_YEARS_EVE_16, harness, report_in
from tests.dispatch.web.browser import login, open_page, shot
from tests.dispatch.web.conftest import OPERATOR, PASSWORD, STREET, Stack, grid_in, publish

pytestmark = [pytest.mark.db, pytest.mark.kafka]
QUEUES = ("triage", "new", "verify", "extension", "returned", "overdue", "escalated")
OP = Actor(Role.OPERATOR, OPERATOR)


@dataclass(frozen=True)
class Queued:
    verify: str  # resolved by its assignee
    extension: str  # an extension requested
    escalated: str  # escalated by hand to the street center
    returned: str  # handed back (回退) by everyone the router would give it to: waits for the operator


async def _seed_queues(stack: Stack) -> Queued:
    """A case in each queue the SLA tracker does not fill itself, through the real flows."""
    now = datetime.now(UTC)
    async with harness(stack.settings, stack.engine, now=now) as h:
        ids = await h.report(
            [
                report_in(
                    stack.district, grid_in(stack.district, STREET, 23), category="fallen_tree", at=now
                ),
                report_in(
                    stack.district, grid_in(stack.district, STREET, 24), category="exposed_garbage", at=now
                ),
                report_in(
                    stack.district, grid_in(stack.district, STREET, 25), category="road_blocked", at=now
                ),
                report_in(
                    stack.district, grid_in(stack.district, STREET, 26), category="exposed_garbage", at=now
                ),
            ]
        )
        cur = await h.conn.execute(
            "SELECT incident_id::text, assignee_id FROM incidents WHERE incident_id = ANY(%s::uuid[])", (ids,)
        )
        who = {iid: Actor(Role.GRID_WORKER, w) for iid, w in await cur.fetchall()}
        verify, extension, escalated, returned = ids
        for iid in (verify, extension):
            await h.flows.transition(h.conn, iid, Command(Action.ACCEPT, who[iid]))
        await h.flows.transition(h.conn, verify, Command(Action.RESOLVE, who[verify], note="已清理倒伏树木"))
        await h.flows.transition(
            h.conn,
            extension,
            Command(
                Action.REQUEST_EXTENSION, who[extension], reason="需环卫车辆", extension=Duration(3, "d")
            ),
        )
        await h.flows.transition(
            h.conn,
            escalated,
            Command(Action.ESCALATE, OP, reason="需街道协调", level=LadderTarget.STREET_CENTER),
        )
        # each holder hands it back ("not mine") and the router never offers it to them again,
        # until nobody is left: the case waits as `returned`
        for _ in range(40):
            cur = await h.conn.execute(
                "SELECT state, assignee_id FROM incidents WHERE incident_id = %s", (returned,)
            )
            row = await cur.fetchone()
            assert row is not None
            if row[0] == "returned":
                break
            holder = Actor(Role.GRID_WORKER, row[1])
            await h.flows.transition(h.conn, returned, Command(Action.RETURN, holder, reason="不属于本网格"))
        else:
            raise AssertionError("the case was never left unrouted")
        return Queued(verify, extension, escalated, returned)


@pytest.fixture(scope="module")
def queued(stack: Stack) -> Queued:
    return asyncio.run(_seed_queues(stack))


def test_every_queue_is_in_sight_with_its_cases(
    stack: Stack, queued: Queued, chromium: Path, tmp_path: Path
) -> None:
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password="not-the-password")
        expect(page.locator("#login-error")).to_contain_text("登录失败")
        errors.clear()  # the refused login's 401 is the point of the step above
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_url("**/board")
        page.wait_for_selector("body[data-ready=true]")
        for name in QUEUES:  # all six at a glance: none below the fold
            expect(page.locator(f"#queue-{name}")).to_be_in_viewport(ratio=1)
            expect(page.locator(f"#queue-{name} .count")).to_have_text(re.compile(r"^\d+$"))
        case = stack.case
        expect(page.locator(f"#queue-list li[data-id='{case.incident_id}']")).to_be_visible()
        expect(page.locator(f"circle.marker[data-id='{case.incident_id}']")).to_have_count(1)
        for name, incident_id in (
            ("verify", queued.verify),
            ("extension", queued.extension),
            ("returned", queued.returned),
            ("escalated", queued.escalated),
        ):
            page.click(f"#queue-{name}")
            expect(page.locator("#queue-list")).to_have_attribute("data-queue", name)
            expect(page.locator(f"#queue-list li[data-id='{incident_id}']")).to_be_visible()
        expect(page.locator(f"#queue-list li[data-id='{queued.escalated}'] .level")).to_have_text("街镇")
        # the worker's SLA tracker escalates the cases seeded three hours ago; the board hears it live
        for incident_id in stack.overdue:
            expect(page.locator(f"#queue-list li[data-id='{incident_id}']")).to_be_visible(timeout=30_000)
        page.click("#queue-overdue")
        for incident_id in stack.overdue:
            expect(page.locator(f"#queue-list li[data-id='{incident_id}']")).to_be_visible()
        expect(page.locator("#queues")).not_to_contain_text("assignee")
        overdue_grid = stack.district.grids[grid_in(stack.district, STREET, 1)].code
        expect(page.locator(f"path.grid[data-code='{overdue_grid}']")).to_have_class("grid overdue1")
        expect(page.locator(f"circle.marker[data-id='{stack.overdue[0]}']")).to_have_class(
            "marker P1 light-red"
        )
        expect(page.locator("#live")).to_have_class("live on")
        shot(page, "board")
        page.click("#lang")
        expect(page.locator("header.top h1")).to_contain_text("Command center")
        expect(page.locator("#queue-new")).to_contain_text("New")
        expect(page.locator("#queue-list h2")).to_contain_text("Overdue")
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
        expect(page.locator(f"#queue-list li[data-id='{case.incident_id}']")).to_be_visible(timeout=20_000)
        assert page.evaluate("window.__same_page") is True, "the board reloaded instead of updating"
        expect(page.locator(f"#ticker li[data-id='{case.incident_id}']").first).to_be_visible()

        # drill-down: street, community, grid; the columns follow the focus
        code = district.grids[grid].code
        for _ in range(3):  # the click event itself: the case's marker covers the middle of its grid
            page.locator(f"path.grid[data-code='{code}']").dispatch_event("click")
        expect(page.locator("#crumbs .crumb")).to_have_count(4)
        expect(page.locator(f"path.grid[data-code='{code}']")).to_have_class("grid open1 picked")
        expect(page.locator("#queue-list li.item")).to_have_count(1)
        shot(page, "board-drilldown")

        page.locator(f"#queue-list li[data-id='{case.incident_id}']").click()
        expect(page.locator("#detail")).to_be_visible()
        assert page.evaluate("location.hash") == f"#case={case.incident_id}"
        # people, not ids: the holder's name, force, phone and shift; the address; the time left
        holder = page.locator("#detail .assignee")
        expect(holder).to_have_attribute("data-id", case.assignee)
        name = stack.one("SELECT name FROM workers WHERE worker_id = :id", id=case.assignee)
        expect(holder.locator(".name")).to_have_text(str(name))
        expect(holder.locator(".phone")).to_have_text(
            str(stack.one("SELECT phone FROM workers WHERE worker_id = :id", id=case.assignee))
        )
        expect(holder.locator(".shift")).to_have_attribute("data-shift", re.compile("on_shift|off_shift"))
        expect(page.locator("#detail .deadlines li[data-clock=accept] .left")).to_contain_text("剩余")
        expect(page.locator("#detail ul.reports li")).to_have_count(1)
        expect(page.locator("#detail ul.reports .who")).to_contain_text("138****5678")
        page.click("#detail ul.reports button.reveal")
        expect(page.locator("#detail ul.reports .who .phone")).to_have_text("13812345678")
        expect(page.locator("#detail ul.reports .revealed")).to_be_visible()

        # reassign from the picker: the people eligible and on shift, never an id typed in
        page.click("#detail button[data-action=reassign]")
        picker = page.locator("#detail .action-form select[name=assignee]")
        choices = picker.locator("option[value]:not([value=''])")
        expect(choices.first).to_be_attached()
        chosen = choices.first.get_attribute("value")
        assert chosen and chosen != case.assignee
        expect(choices.first).to_contain_text("在办")
        picker.select_option(chosen)
        page.fill("#detail .action-form [name=reason]", "人手调整，改派")
        shot(page, "board-detail")
        page.click("#detail .action-form button[type=submit]")
        expect(page.locator("#detail .assignee")).to_have_attribute("data-id", chosen)
        assert not errors, errors
    assert (
        stack.one("SELECT assignee_id FROM incidents WHERE incident_id = :id", id=case.incident_id) == chosen
    )
    reassigned = (
        "SELECT count(*) FROM events WHERE incident_id = :id AND action = 'reassign' AND actor_role = :role"
    )
    assert stack.one(reassigned, id=case.incident_id, role="operator") == 1
    revealed = "SELECT revealed_by FROM reporter_reveals WHERE incident_id = :id"
    assert stack.one(revealed, id=case.incident_id) == OPERATOR


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
        page.goto(f"{stack.url}/board#case={iid}")  # the case's deep link opens its panel
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#detail")).to_have_attribute("data-id", iid)
        resolve = page.locator("#detail ul.deadlines li[data-clock=resolve]")
        expect(resolve).to_have_attribute("data-provisional", "true")
        expect(resolve.locator(".provisional")).to_have_text("暂定")
        accept = page.locator("#detail ul.deadlines li[data-clock=accept]")
        expect(accept).to_have_attribute("data-provisional", "false")  # 17:00 on 31 December
        expect(accept.locator(".provisional")).to_have_count(0)
        shot(page, "board-detail-provisional")
        assert not errors, errors


def _wait_for_case(stack: Stack, report_id: str, timeout_s: float = 60) -> str:
    """The case the running worker made of a report (a triage report has no task to wait for)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert stack.worker.alive(), stack.worker.tail()
        with stack.engine.connect() as conn:
            found = conn.execute(
                text("SELECT incident_id::text FROM reports WHERE report_id = :id"), {"id": report_id}
            ).scalar()
        if found:
            return str(found)
        time.sleep(0.3)
    raise AssertionError(f"no case for report {report_id}:\n{stack.worker.tail()}")


def test_triage_reports_wait_and_are_registered_or_rejected_from_the_board(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    district = stack.district
    tips = [
        report_in(
            district,
            grid_in(district, STREET, n),
            source="cyberspace",
            category="fraud_tip",
            at=datetime.now(UTC),
            description=f"网信转来线索：疑似电信诈骗窝点（第{n}条）",
        )
        for n in (14, 27)
    ]
    for tip in tips:
        publish(stack.settings, tip)
    kept, refused = (_wait_for_case(stack, str(tip.report_id)) for tip in tips)
    state_of = "SELECT state FROM incidents WHERE incident_id = :id"
    assert stack.one(state_of, id=kept) == stack.one(state_of, id=refused) == "reported"
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#queue-triage")).to_be_in_viewport(ratio=1)
        expect(page.locator("#queue-triage .count")).to_have_text(re.compile(r"^[1-9]\d*$"))
        expect(page.locator(f"#queue-list li[data-id='{kept}']")).to_have_count(0)  # not among the new
        page.click("#queue-triage")
        expect(page.locator("#queue-list")).to_have_attribute("data-queue", "triage")
        row = page.locator(f"#queue-list li[data-id='{kept}']")
        expect(row.locator(".register-clock")).to_contain_text("立案派遣 剩余")
        expect(page.locator(f"#queue-list li[data-id='{refused}']")).to_be_visible()
        shot(page, "board-triage")

        row.locator("button[data-action=register]").click()
        expect(page.locator("#detail")).to_have_attribute("data-id", kept)
        page.click("#detail .action-form[data-action=register] button[type=submit]")
        expect(page.locator("#detail .state")).to_have_text("已派遣")
        expect(page.locator(f"#queue-list li[data-id='{kept}']")).to_have_count(0)

        page.click("#detail button.close")  # the panel covers the list
        page.locator(f"#queue-list li[data-id='{refused}'] button[data-action=reject]").click()
        form = page.locator("#detail .action-form[data-action=reject]")
        expect(form.locator("textarea[name=reason]")).to_have_attribute("required", "")
        form.locator("button[type=submit]").click()  # no reason: the browser keeps the form
        expect(page.locator("#detail .state")).to_have_text("已上报")
        form.locator("textarea[name=reason]").fill("经核实为网络谣言，不予立案")
        shot(page, "board-triage-reject")
        form.locator("button[type=submit]").click()
        expect(page.locator("#detail .state")).to_have_text("不予立案")
        expect(page.locator(f"#queue-list li[data-id='{refused}']")).to_have_count(0)
        assert not errors, errors
    registered = "SELECT state, assignee_id IS NOT NULL FROM incidents WHERE incident_id = :id"
    with stack.engine.connect() as conn:
        assert tuple(conn.execute(text(registered), {"id": kept}).one()) == ("dispatched", True)
        actions = conn.execute(
            text("SELECT action, actor_role FROM events WHERE incident_id = :id ORDER BY sequence"),
            {"id": kept},
        ).all()
        assert [tuple(a) for a in actions] == [
            ("report", "system"),
            ("register", "operator"),
            ("dispatch", "system"),
        ]
    assert stack.one(state_of, id=refused) == "rejected"
    reason = "SELECT reason FROM events WHERE incident_id = :id AND action = 'reject'"
    assert stack.one(reason, id=refused) == "经核实为网络谣言，不予立案"
