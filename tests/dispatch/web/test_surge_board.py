"""Surge and risk on the board, in the Debian Chromium against the running worker and API: a
CAP rainstorm warning published on the emergency feed turns the grids under its polygon to
surge on the map (banner with counts) and raises the open waterlogging case there; the
forecast rings the tasks likely to breach and lists them. A district operator draws a warning
area on the map, declares it (the open case under it is raised) and ends it from its banner;
picks grids on the map, or a whole street, instead of drawing; a street operator's board has
no tool to declare one, and the API refuses them."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from config.settings import Settings
from producers.outcome import Companion, Rejection
from producers.publisher import Publisher
from tests.casework import report_in
from tests.dispatch.surge.test_cap import SAMPLE
from tests.dispatch.web.browser import login, open_page, shot
from tests.dispatch.web.conftest import (
    OPERATOR,
    PASSWORD,
    STREET,
    STREET_OPERATOR,
    STREET_OPERATOR_PASSWORD,
    Stack,
    grid_in,
    publish,
)
from tests.producers.helpers import adapt

pytestmark = [pytest.mark.db, pytest.mark.kafka]
SURGE_STREET = "500106002"  # not the street the other board tests work in
PICK_STREET = "500106003"  # nor the one the surges above covered
SH = "+08:00"


def _cap(identifier: str, now: datetime, ring: str) -> bytes:
    local = now.astimezone(UTC) + timedelta(hours=8)
    stamp = lambda at: at.strftime("%Y-%m-%dT%H:%M:%S") + SH  # noqa: E731
    text = SAMPLE.read_text(encoding="utf-8")
    for tag, value in {
        "identifier": identifier,
        "sent": stamp(local - timedelta(minutes=1)),
        "effective": stamp(local - timedelta(minutes=1)),
        "expires": stamp(local + timedelta(hours=6)),
        "severity": "Extreme",
        "headline": "沙坪坝区气象台发布暴雨红色预警信号",
        "polygon": ring,
    }.items():
        text = re.sub(f"<{tag}>.*?</{tag}>", f"<{tag}>{value}</{tag}>", text, count=1, flags=re.S)
    return text.encode()


def publish_record(settings: Settings, record: Companion) -> None:
    """An adapter's life-cycle record onto its topic (`alerts.cap`), as the feeder sends it."""
    publisher = Publisher(settings)
    publisher.send(settings.topic(record.topic), record.value, key=record.key, headers=list(record.headers))
    publisher.close()


def _until(check: object, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise AssertionError(what)


def test_a_cap_polygon_puts_its_grids_in_surge_and_the_forecast_marks_at_risk_tasks(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    district = stack.district
    index = grid_in(district, SURGE_STREET, 5)
    grid = district.grids[index]
    now = datetime.now(UTC)
    flooded = stack.publish(report_in(district, index, category="waterlogging", at=now))
    assert stack.one("SELECT priority FROM incidents WHERE incident_id = :i", i=flooded.incident_id) == "P1"

    point, d = grid.geometry.representative_point(), 0.0004
    lat, lon = point.y, point.x
    corners = [
        (lat - d, lon - d),
        (lat - d, lon + d),
        (lat + d, lon + d),
        (lat + d, lon - d),
        (lat - d, lon - d),
    ]
    identifier = f"SPB-TEST-{uuid.uuid4().hex[:8]}"
    alert, _record = adapt(  # the Alert's report and its life-cycle record (alerts.cap)
        "emergency", _cap(identifier, now, " ".join(f"{a:.6f},{b:.6f}" for a, b in corners)), received_at=now
    )
    assert not isinstance(alert, Rejection), alert
    publish(stack.settings, alert)  # type: ignore[arg-type]
    assert isinstance(_record, Companion)
    publish_record(stack.settings, _record)  # what the surge agent reads
    _until(
        lambda: stack.one("SELECT count(*) FROM surges WHERE reference = :r", r=identifier) == 1,
        f"the worker declared no surge for {identifier}:\n{stack.worker.tail()}",
    )
    surge_grids = stack.one("SELECT grids FROM surges WHERE reference = :r", r=identifier)
    assert grid.code in surge_grids  # type: ignore[operator]
    _until(
        lambda: (
            stack.one("SELECT priority FROM incidents WHERE incident_id = :i", i=flooded.incident_id) == "P0"
        ),
        "the open waterlogging case under the warning was not raised",
    )
    reason = stack.one(
        "SELECT reason FROM events WHERE incident_id = :i AND action = 'raise_priority'",
        i=flooded.incident_id,
    )
    assert "暴雨红色预警" in str(reason)

    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator(f".surge-layer path.surge-grid[data-code='{grid.code}']")).to_have_count(1)
        banner = page.locator("#surge-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("暴雨红色预警")
        expect(banner).to_contain_text(f"{len(surge_grids)} 网格")  # type: ignore[arg-type]
        expect(banner).to_contain_text("已提级 1")
        expect(page.locator(f"circle.marker[data-id='{flooded.incident_id}']")).to_have_class(
            re.compile(r"\bP0\b")
        )
        # the seeded cases three hours past their 2 h limit: the forecast is sure they breach
        for incident_id in stack.overdue:
            expect(page.locator(f".risk-layer circle.risk[data-id='{incident_id}']")).to_have_count(1)
        expect(page.locator("#risk-panel h2")).to_contain_text("可能超期")
        expect(page.locator(f"#risk-list li[data-id='{stack.overdue[0]}']")).to_contain_text("已超期")
        shot(page, "board-surge")
        banner.locator(".surge").first.click()  # zooms the map onto the surge's grids
        expect(page.locator(f".surge-layer path.surge-grid[data-code='{grid.code}']")).to_be_visible()
        page.wait_for_timeout(300)
        shot(page, "board-surge-zoomed")
        page.click("#lang")
        expect(page.locator("#risk-panel h2")).to_contain_text("Likely to breach", timeout=5000)
        assert not errors, errors


def test_a_district_operator_draws_a_warning_area_declares_it_and_ends_it(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    district = stack.district
    index = grid_in(district, SURGE_STREET, 9)
    grid = district.grids[index]
    flooded = stack.publish(report_in(district, index, category="waterlogging"))
    assert stack.one("SELECT priority FROM incidents WHERE incident_id = :i", i=flooded.incident_id) == "P1"

    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        outline = page.locator(f"#map path.grid[data-code='{grid.code}']")
        for _ in range(12):  # the wheel zooms in around the pointer until the grid is large
            box = outline.bounding_box()
            assert box is not None
            if min(box["width"], box["height"]) > 120:
                break
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.wheel(0, -400)
            page.wait_for_timeout(150)
        box = outline.bounding_box()
        assert box is not None and min(box["width"], box["height"]) > 120, box
        x, y, d = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 25
        page.click("#surge-draw")
        expect(page.locator("#surge-form")).to_be_visible()
        for cx, cy in ((x - d, y - d), (x + d, y - d), (x + d, y + d)):
            page.mouse.click(cx, cy)
        page.mouse.dblclick(x - d, y + d)  # the fourth corner closes the ring
        expect(page.locator("#surge-form .corners")).to_contain_text("4 个角点")
        expect(page.locator("path.surge-draft.closed")).to_have_count(1)
        page.select_option("#surge-form [name=rule]", label="暴雨红色预警")
        shot(page, "board-surge-draw")
        page.click("#surge-form button[type=submit]")

        surge_id = None

        def declared() -> bool:
            nonlocal surge_id
            surge_id = stack.one(  # type: ignore[assignment]
                "SELECT (SELECT surge_id FROM surges WHERE origin = 'operator' AND :g = ANY(grids)"
                " AND ended_at IS NULL LIMIT 1)",
                g=grid.code,
            )
            return surge_id is not None

        _until(declared, "the drawn surge was not declared", timeout_s=10)
        assert (
            stack.one("SELECT priority FROM incidents WHERE incident_id = :i", i=flooded.incident_id) == "P0"
        )
        row = page.locator(f"#surge-banner .surge[data-surge='{surge_id}']")
        expect(row).to_contain_text("暴雨红色预警")
        expect(row).to_contain_text("已提级 1")
        expect(
            page.locator(f".surge-layer path.surge-grid[data-surge='{surge_id}'][data-code='{grid.code}']")
        ).to_have_count(1)
        expect(page.locator("#surge-form")).to_be_hidden()
        shot(page, "board-surge-drawn")

        row.locator("button.end").click()
        expect(row).to_have_count(0)
        assert stack.one("SELECT end_reason FROM surges WHERE surge_id = :s", s=surge_id) == "operator"
        assert not errors, errors


def _active_surge(stack: Stack, grid_code: str) -> str | None:
    found = stack.one(
        "SELECT (SELECT surge_id::text FROM surges WHERE origin = 'operator' AND :g = ANY(grids)"
        " AND ended_at IS NULL ORDER BY declared_at DESC LIMIT 1)",
        g=grid_code,
    )
    return None if found is None else str(found)


def test_a_district_operator_picks_grids_or_a_whole_street_for_a_warning(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    district = stack.district
    picked = [district.grids[grid_in(district, PICK_STREET, n)] for n in (2, 3)]
    flooded = stack.publish(report_in(district, grid_in(district, PICK_STREET, 2), category="waterlogging"))
    assert stack.one("SELECT priority FROM incidents WHERE incident_id = :i", i=flooded.incident_id) == "P1"
    street = district.grids[-1].street_code  # a street the other page tests leave alone
    street_grids = [g.code for g in district.grids if g.street_code == street]

    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_selector("body[data-ready=true]")
        page.click("#surge-pick")
        form = page.locator("#surge-form[data-mode=pick]")
        expect(form).to_be_visible()
        expect(form.locator("button[type=submit]")).to_be_disabled()
        for grid in picked:  # the click event itself: a case's marker may cover the grid's middle
            page.locator(f"#map path.grid[data-code='{grid.code}']").dispatch_event("click")
        page.locator(f"#map path.grid[data-code='{picked[1].code}']").dispatch_event("click")  # dropped
        page.locator(f"#map path.grid[data-code='{picked[1].code}']").dispatch_event("click")  # again
        expect(form.locator(".picked")).to_contain_text("2 个网格")
        expect(page.locator("path.surge-pick")).to_have_count(2)
        expect(page.locator("#crumbs .crumb")).to_have_count(1)  # picking never drilled down
        form.locator("[name=rule]").select_option(label="暴雨红色预警")
        shot(page, "board-surge-pick")
        form.locator("button[type=submit]").click()
        expect(page.locator("#surge-form")).to_be_hidden()
        surge_id = _active_surge(stack, picked[0].code)
        assert surge_id is not None
        grids = stack.one("SELECT grids FROM surges WHERE surge_id = :s", s=surge_id)
        assert sorted(grids) == sorted(g.code for g in picked)  # type: ignore[arg-type]
        assert (
            stack.one("SELECT priority FROM incidents WHERE incident_id = :i", i=flooded.incident_id) == "P0"
        )
        row = page.locator(f"#surge-banner .surge[data-surge='{surge_id}']")
        expect(row).to_contain_text("2 网格")
        expect(row).to_contain_text("已提级 1")
        row.locator("button.end").click()
        expect(row).to_have_count(0)

        # a whole street, chosen from the list (暴雨黄色 raises nothing: other tests' cases stay)
        page.click("#surge-pick")
        form.locator("[name=street]").select_option(street)
        expect(page.locator(f"path.surge-pick[data-code='{street}']")).to_have_count(1)
        form.locator("[name=rule]").select_option(label="暴雨黄色预警")
        shot(page, "board-surge-pick-street")
        form.locator("button[type=submit]").click()
        expect(page.locator("#surge-form")).to_be_hidden()
        whole = _active_surge(stack, street_grids[0])
        assert whole is not None
        area = stack.one("SELECT area FROM surges WHERE surge_id = :s", s=whole)
        assert area["geocodes"] == [street]  # type: ignore[index]
        assert sorted(stack.one("SELECT grids FROM surges WHERE surge_id = :s", s=whole)) == sorted(  # type: ignore[arg-type]
            street_grids
        )
        page.locator(f"#surge-banner .surge[data-surge='{whole}'] button.end").click()
        expect(page.locator(f"#surge-banner .surge[data-surge='{whole}']")).to_have_count(0)
        assert not errors, errors


def test_a_street_operator_has_no_tool_to_declare_a_surge(
    stack: Stack, chromium: Path, tmp_path: Path
) -> None:
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=STREET_OPERATOR, password=STREET_OPERATOR_PASSWORD)
        page.wait_for_url("**/board")
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#map path.grid").first).to_be_attached()
        for tool in ("#surge-draw", "#surge-pick", "#surge-form", ".surge-tools", "path.surge-draft"):
            expect(page.locator(tool)).to_have_count(0)
        expect(page.locator("#surge-banner button.end")).to_have_count(0)
        shot(page, "board-street-no-surge-tool")
        # nor does the API take one from them, drawn or picked (their own street included)
        ring = [[106.4, 29.5], [106.41, 29.5], [106.41, 29.51], [106.4, 29.5]]
        refused = page.evaluate(
            """async (areas) => {
              const token = JSON.parse(localStorage.getItem('yiwang.session')).token;
              const out = [];
              for (const area of areas) {
                const r = await fetch('/surges', {
                  method: 'POST',
                  headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
                  body: JSON.stringify({ warning: '暴雨', level: '红色', area }),
                });
                out.push(r.status);
              }
              return out;
            }""",
            [{"geocodes": [STREET]}, {"polygons": [ring]}],
        )
        assert refused == [403, 403]
        assert all("403" in e for e in errors), errors  # only the two refusals asked for above
    assert stack.one("SELECT count(*) FROM surges WHERE declared_by = :who", who=STREET_OPERATOR) == 0
