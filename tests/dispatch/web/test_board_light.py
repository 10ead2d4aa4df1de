"""The light board with thousands of open cases, in the Debian Chromium against the running
worker and API: the map's points come once, and live events (new reports through Kafka, the
real worker) change only the markers and lists they name — no reload of /map.

The open cases are seeded straight into PostgreSQL (copies of one real case, one per grid
point, no events: nothing for the SLA tracker) to keep the test fast, and removed at the end.
The figures (bytes per minute over the live window, the first draw and the incremental
redraws) are printed and written to tests/artifacts/board-light.json for the README; nothing
here asserts a time.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Request, expect
from sqlalchemy import text

from dispatch.api.auth import ApiRole, Principal, issue_token
from dispatch.models import IncidentRow
from tests.casework import report_in
from tests.dispatch.web.browser import ARTIFACTS, login, open_page, shot
from tests.dispatch.web.conftest import OPERATOR, PASSWORD, Stack

pytestmark = [pytest.mark.db, pytest.mark.kafka]
SEEDED = 3000
MARK = "灯箱批量测试：积水"  # the seeded cases' description, to remove them afterwards
OVERRIDES = {
    "incident_id": "md5(random()::text || p.n::text)::uuid",
    "state": "'dispatched'",
    "grid_code": "p.code",
    "community_code": "left(p.code, 12)",
    "street_code": "left(p.code, 9)",
    "geom": "ST_Translate(p.pt, (p.k - 2) * 0.0002, 0)",
    "description": f"'{MARK}'",
    "light": "CASE WHEN p.n % 10 = 0 THEN 'red' ELSE 'green' END",
    "first_reported_at": "now() - interval '10 days'",
    "next_sla_at": "NULL",
    "assignee_id": "NULL",
    "current_task_id": "NULL",
    "merged_into": "NULL",
    "escalation_level": "NULL",
    "closed_at": "NULL",
}


@pytest.fixture
def crowd(stack: Stack) -> Iterator[int]:
    """SEEDED open cases copied from the stack's case, spread over every grid point."""
    columns = [c.name for c in IncidentRow.__table__.columns]
    chosen = ", ".join(OVERRIDES.get(c, f't."{c}"') for c in columns)
    seed = f"""
        WITH grids AS (
            SELECT DISTINCT ON (code) code, ST_PointOnSurface(geom) AS pt
            FROM geo_grid ORDER BY code, version_id DESC
        ), points AS (
            SELECT g.code, g.pt, k, row_number() OVER () AS n
            FROM grids g, generate_series(1, 4) AS k LIMIT :n
        )
        INSERT INTO incidents ({", ".join(f'"{c}"' for c in columns)})
        SELECT {chosen} FROM incidents t CROSS JOIN points p WHERE t.incident_id = :template
    """
    with stack.engine.begin() as conn:
        made = conn.execute(text(seed), {"n": SEEDED, "template": stack.case.incident_id}).rowcount
    try:
        yield made
    finally:
        with stack.engine.begin() as conn:
            conn.execute(text("DELETE FROM incidents WHERE description = :mark"), {"mark": MARK})


def test_live_events_move_markers_without_reloading_the_map(
    stack: Stack, crowd: int, chromium: Path, tmp_path: Path
) -> None:
    assert crowd == SEEDED
    open_now = stack.one(
        "SELECT count(*) FROM incidents "
        "WHERE state NOT IN ('closed', 'merged', 'rejected') AND geom IS NOT NULL"
    )
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        login(page, stack.url, username=OPERATOR, password=PASSWORD)
        page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        expect(page.locator("#live")).to_have_class("live on")
        expect(page.locator("circle.marker")).to_have_count(int(str(open_now)))
        first = page.evaluate("window.__board.draws[0]")
        requests: list[Request] = []
        page.on("requestfinished", lambda r: requests.append(r))  # noqa: PLW0108 - Playwright wraps a function, not a bound builtin
        page.evaluate("window.__same_page = true")

        started = time.monotonic()
        cases = []
        for i in range(8):  # new reports through Kafka and the running worker, one after another
            report = report_in(
                stack.district,
                50 + i * 101,  # grids far apart: eight cases, not one merged
                category="waterlogging",
                source="patrol",
                at=datetime.now(UTC),
                description=f"路面积水（实时{i + 1}）",
            )
            cases.append(stack.publish(report))
        assert len({c.incident_id for c in cases}) == len(cases)
        for case in cases:
            expect(page.locator(f"circle.marker[data-id='{case.incident_id}']")).to_have_count(
                1, timeout=20_000
            )
        page.wait_for_timeout(1500)  # the last settle
        window_s = time.monotonic() - started
        stats = page.evaluate("window.__board")
        assert page.evaluate("window.__same_page") is True, "the board reloaded"
        shot(page, "board-light")
        paths = [r.url.split("?")[0].removeprefix(stack.url) for r in requests]
        sizes = [r.sizes()["responseBodySize"] for r in requests]
        assert not errors, errors

    # behaviour: the points came once, live events fetched only the cases they named
    assert stats["full"] == 1 and "/map" not in paths
    assert stats["incremental"] >= 1 and "/map/points" in paths
    assert sum(u["cases"] for u in stats["updates"]) >= len(cases)
    full_map = requests_size_of_map(stack)
    figures = {
        "open_cases": open_now,
        "first_draw_ms": round(first["ms"], 1),
        "markers": first["markers"],
        "live_window_s": round(window_s, 1),
        "live_reports": len(cases),
        "requests": len(requests),
        "bytes_per_minute": round(sum(sizes) / window_s * 60),
        "map_points_requests": paths.count("/map/points"),
        "incremental_updates": stats["incremental"],
        "incremental_redraw_ms_median": round(statistics.median(u["ms"] for u in stats["updates"]), 2),
        "incremental_redraw_ms_max": round(max(u["ms"] for u in stats["updates"]), 2),
        "one_full_map_bytes": full_map,
    }
    (ARTIFACTS / "board-light.json").write_text(json.dumps(figures, indent=2))
    print("board-light:", json.dumps(figures))


def requests_size_of_map(stack: Stack) -> int:
    """What one reload of the whole map (GET /map, as the board did on every event) weighs."""
    token = issue_token(stack.settings, Principal(ApiRole.OPERATOR, OPERATOR, district=stack.district.code))
    plain = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    return len(httpx.get(f"{stack.url}/map", headers=plain, timeout=60).content)
