"""The New Year boundary end to end: a real `yiwang worker` on the real broker, run on a clock
set to 31 December 16:00 of the last year the calendar knows (`YIWANG_CLOCK_FROM`), opens a P3
case whose deadline is provisional; the API and `yiwang sla deadline` say so; `yiwang calendar
import` refuses a bad file whole and imports a good one; the worker, the API and the case all
move to the published schedule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from config.settings import Settings, child_environment
from dispatch.api.app import create_app
from dispatch.api.auth import ApiRole, Principal, issue_token
from dispatch.intake.rules import incident_id_for
from geo.reference import ReferenceDistrict
from tests.casework import SH, report_in
from tests.net import free_port
from tests.streams.harness import REPO, Worker, canonical, publish_raw
from tests.streams.sla.test_calendar_import import LAST, NEXT, START

pytestmark = [pytest.mark.db, pytest.mark.kafka]
GAUGE = "yiwang_calendar_authoritative_until_timestamp_seconds"


def wait_for(what: str, check: Callable[[], Any], worker: Worker, timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert worker.alive(), f"the worker died waiting for {what}:\n{worker.tail()}"
        found = check()
        if found:
            return found
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}:\n{worker.tail()}")


def gauge(port: int) -> float | None:
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return None
    for line in body.splitlines():
        if line.startswith(GAUGE + " "):
            return float(line.split()[1])
    return None


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy.cli", *args],
        cwd=REPO,
        env=child_environment(settings, os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def midnight(year: int) -> float:
    return datetime(year, 1, 1, tzinfo=SH).timestamp()


def test_a_case_opened_on_new_years_eve_gets_a_provisional_deadline_until_the_notice_is_imported(
    kafka: Settings, engine: Engine, district: ReferenceDistrict, tmp_path: Path
) -> None:
    settings = kafka.model_copy(update={"clock_from": START})
    port = free_port()
    worker = Worker(settings, tmp_path, "calendar-worker", metrics_port=port)
    try:
        report = report_in(district, 160, category="exposed_garbage", at=START)
        publish_raw(settings, "reports.hotline", [canonical(report)])
        iid = incident_id_for(str(report.report_id))

        def row() -> dict[str, Any] | None:
            with engine.connect() as conn:
                found = conn.execute(
                    text("SELECT to_jsonb(i) - 'geom' FROM incidents i WHERE incident_id = :i"), {"i": iid}
                ).scalar_one_or_none()
            return dict(found) if found else None

        opened = wait_for("the case", row, worker)
        assert datetime.fromisoformat(opened["created_at"]) >= START  # the worker ran on the set clock
        assert wait_for("the gauge", lambda: gauge(port) == midnight(NEXT), worker)

        operator = {
            "Authorization": "Bearer "
            + issue_token(settings, Principal(ApiRole.OPERATOR, "op-d", district="500106"))
        }
        with TestClient(create_app(settings)) as api:
            before = api.get(f"/incidents/{iid}", headers=operator).json()["incident"]["deadlines"]
            assert before["resolve"]["provisional"] is True
            assert datetime.fromisoformat(before["resolve"]["deadline"]).astimezone(SH).year == NEXT
            assert before["accept"]["provisional"] is False  # 17:00 on 31 December

            asked = cli(
                settings, "sla", "deadline", "--category", "exposed_garbage", "--priority", "P3",
                "--from", START.isoformat(), "--street", opened["street_code"], "--json",
            )  # fmt: skip
            assert asked.returncode == 0, asked.stderr
            plan = json.loads(asked.stdout)
            assert set(plan) >= {"register", "accept", "resolve"}
            assert plan["resolve"]["provisional"] is True and plan["accept"]["provisional"] is False
            wrong = cli(
                settings,
                "sla",
                "deadline",
                "--category",
                "exposed_garbage",
                "--priority",
                "P9",
                "--from",
                "x",
            )
            assert wrong.returncode == 2 and "--from: 'x' is not an ISO-8601 instant" in wrong.stderr

            bad = tmp_path / "bad.toml"
            bad.write_text(f'[[year]]\nyear = {NEXT}\nholidays = ["{NEXT}-01-01",\n  "{NEXT}-01-01"]\n')
            refused = cli(settings, "calendar", "import", str(bad))
            assert refused.returncode == 2
            assert f"bad.toml:4: year {NEXT}: holidays: '{NEXT}-01-01' is listed twice" in refused.stderr
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM calendar_years")).scalar_one() == 0

            first = date(NEXT, 1, 1)
            workday = next(
                first + timedelta(days=d) for d in range(1, 9) if (first + timedelta(days=d)).weekday() < 5
            )
            good = tmp_path / "notice.json"
            good.write_text(
                json.dumps(
                    {"year": [{"year": NEXT, "source": "test", "holidays": [str(first), str(workday)]}]}
                )
            )
            done = cli(settings, "calendar", "import", str(good))
            assert done.returncode == 0, done.stderr
            assert "deadline_revised" in done.stdout

            with engine.connect() as conn:
                revised = conn.execute(
                    text(
                        "SELECT data, published_at FROM events "
                        "WHERE incident_id = :i AND action = 'deadline_revised'"
                    ),
                    {"i": iid},
                ).one()
            moved = {m["clock"]: m for m in revised[0]["revised"]}
            assert moved["resolve"]["old_due"] == before["resolve"]["deadline"]
            assert datetime.fromisoformat(moved["resolve"]["new_due"]) > datetime.fromisoformat(
                moved["resolve"]["old_due"]
            )
            assert revised[1] is not None  # published after commit, as every case flow does
            assert wait_for(
                "the worker to take the import", lambda: gauge(port) == midnight(NEXT + 1), worker
            )

            def answered() -> dict[str, Any] | None:  # the API's relay loop re-reads the calendar
                shown = api.get(f"/incidents/{iid}", headers=operator).json()["incident"]["deadlines"]
                return None if shown["resolve"]["provisional"] else dict(shown)

            after = wait_for("the API to take the import", answered, worker, timeout_s=30)
            assert after["resolve"]["deadline"] == moved["resolve"]["new_due"]

        shown = cli(settings, "calendar", "show", "--year", str(NEXT), "--json")
        assert shown.returncode == 0, shown.stderr
        doc = json.loads(shown.stdout)
        assert doc["authoritative_until"] == datetime(NEXT + 1, 1, 1, tzinfo=SH).isoformat()
        assert doc["year"]["origin"].startswith("imported") and str(workday) in doc["year"]["holidays"]
        status = json.loads(cli(settings, "status", "--json").stdout)["calendar"]
        assert status["authoritative_until"] == doc["authoritative_until"]
        assert status["provisional_until"] == doc["provisional_until"]
        assert LAST < NEXT
    finally:
        worker.stop()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM calendar_years"))
