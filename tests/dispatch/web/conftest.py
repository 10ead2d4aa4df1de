"""The pages' tests run against the whole system, as a user would meet it: a real
`yiwang worker` process (intake + SLA tracker) and a real `yiwang api` process on the real
broker and PostGIS (a database and topics of their own), and the Debian Chromium.

Set up once for the folder:
- the reference district is loaded;
- four P1 cases are made three hours in the past through the real intake (tests/casework's
  harness), so the running worker's SLA tracker escalates them for real when it starts;
- one report is published on `reports.hotline` with the project's producer, and the worker
  turns it into a task (the case the page tests work on);
- an accounts file with an operator and that task's assignee (PIN), and the API started
  with it, its pages built from the npm sources if they changed.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from config.settings import Settings
from deploy.services.chromium import ensure_chromium
from dispatch.api.accounts import hash_secret
from dispatch.cases.commands import Command
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.web.bundle import ensure_bundle
from geo import service as geo_service
from geo.reference import ReferenceDistrict, load_reference
from producers.publisher import Publisher
from schemas.report import Report
from tests.casework import harness, report_in
from tests.conftest import own_topics_and_database
from tests.dispatch.web.browser import ARTIFACTS
from tests.net import free_port
from tests.streams.harness import REPO, Worker, worker_env

OPERATOR, PASSWORD = "board-op", "board-op-pass"
LEAD, LEAD_PASSWORD = "lead-test", "lead-test-pass"  # the community lead over stack.overdue[0]
STREET_DESK, STREET_DESK_PASSWORD = "street-desk-test", "street-desk-test-pass"
STREET_OPERATOR, STREET_OPERATOR_PASSWORD = "street-op-test", "street-op-test-pass"  # STREET only
PIN = "9876"
STREET = "500106001"


@dataclass(frozen=True)
class LiveCase:
    incident_id: str
    task_id: str
    assignee: str


def publish(settings: Settings, report: Report) -> None:
    """Through the project's producer onto `reports.<source>`, as an agency adapter does."""
    publisher = Publisher(settings)
    publisher.send_report(report)
    publisher.close()


def wait_for_task(engine: Engine, worker: Worker, report: Report, timeout_s: float = 60) -> LiveCase:
    """Until the worker has made the report's case and its task; the case."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert worker.alive(), worker.tail()
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT i.incident_id::text, i.current_task_id::text, i.assignee_id FROM reports r "
                    "JOIN incidents i USING (incident_id) WHERE r.report_id = :id"
                ),
                {"id": str(report.report_id)},
            ).first()
        if row is not None and row[1] is not None:
            return LiveCase(row[0], row[1], row[2])
        time.sleep(0.3)
    raise AssertionError(f"no task for report {report.report_id}:\n{worker.tail()}")


@dataclass
class Stack:
    settings: Settings
    engine: Engine
    district: ReferenceDistrict
    url: str
    worker_metrics_port: int
    case: LiveCase
    overdue: list[str]
    home: Path
    worker: Worker

    def publish(self, report: Report) -> LiveCase:
        publish(self.settings, report)
        return wait_for_task(self.engine, self.worker, report)

    def one(self, sql: str, **params: object) -> object:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()


def grid_in(district: ReferenceDistrict, street: str, n: int) -> int:
    return [i for i, g in enumerate(district.grids) if g.street_code == street][n]


async def _seed_overdue(settings: Settings, engine: Engine, district: ReferenceDistrict) -> list[str]:
    """Pipe bursts reported and accepted three hours ago, never resolved (P1: 2 h): red and
    escalated to the street center as soon as the worker's SLA tracker looks at them."""
    t0 = datetime.now(UTC) - timedelta(hours=3)
    async with harness(settings, engine, now=t0) as h:
        reports = [
            report_in(
                district,
                grid_in(district, STREET, 3 * i + 1),
                category="pipe_burst",
                at=t0,
                description=f"供水管道爆裂，路面积水（第{i + 1}处）",
            )
            for i in range(4)
        ]
        ids = await h.report(reports)
        h.now[0] = t0 + timedelta(minutes=1)
        for iid in ids:
            cur = await h.conn.execute("SELECT assignee_id FROM incidents WHERE incident_id = %s", (iid,))
            row = await cur.fetchone()
            assert row is not None and row[0]
            await h.flows.transition(h.conn, iid, Command(Action.ACCEPT, Actor(Role.GRID_WORKER, row[0])))
        return ids


def lead_desk(district: ReferenceDistrict) -> str:
    """The community lead's desk over the first overdue case (seeded in grid_in(STREET, 1))."""
    return f"community_lead:{district.grids[grid_in(district, STREET, 1)].code[:12]}"


def _accounts(path: Path, assignee: str, district: ReferenceDistrict) -> Path:
    path.write_text(
        f'[[operator]]\nlogin = "{OPERATOR}"\nname = "测试值班员"\ndistrict = "{district.code}"\n'
        f'password = "{hash_secret(PASSWORD)}"\n\n'
        f'[[operator]]\nlogin = "{STREET_OPERATOR}"\nname = "街道值班员"\ndistrict = "{district.code}"\n'
        f'street = "{STREET}"\npassword = "{hash_secret(STREET_OPERATOR_PASSWORD)}"\n\n'
        f'[[worker]]\nworker_id = "{assignee}"\npin = "{hash_secret(PIN)}"\n\n'
        f'[[desk]]\nlogin = "{LEAD}"\ndesk = "{lead_desk(district)}"\n'
        f'password = "{hash_secret(LEAD_PASSWORD)}"\n\n'
        f'[[desk]]\nlogin = "{STREET_DESK}"\ndesk = "street_center:{STREET}"\n'
        f'password = "{hash_secret(STREET_DESK_PASSWORD)}"\n'
    )
    return path


def _start_api(settings: Settings, home: Path, port: int, accounts: Path) -> subprocess.Popen[bytes]:
    log = home / "api.log"
    env = worker_env(settings, home) | {"YIWANG_ACCOUNTS_FILE": str(accounts)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "deploy.cli", "api", "--port", str(port), "--no-open311", "--no-build"],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"API did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def chromium(base_settings: Settings) -> Path:
    return ensure_chromium(base_settings)


@pytest.fixture(scope="session")
def stack(services: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ensure_bundle()  # npm ci + esbuild when the sources changed; the API below only serves it
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with own_topics_and_database(services, "pages") as settings:
        engine = create_engine(settings.db_url, pool_size=2)
        district = load_reference()
        with engine.begin() as conn:
            geo_service.load_reference_set(conn, district)
        home = tmp_path_factory.mktemp("pages-home")
        overdue = asyncio.run(_seed_overdue(settings, engine, district))
        worker_port = free_port()
        worker = Worker(settings, home, "worker", metrics_port=worker_port)
        api: subprocess.Popen[bytes] | None = None
        try:
            report = report_in(
                district, grid_in(district, STREET, 0), category="manhole_cover_missing", at=datetime.now(UTC)
            )
            publish(settings, report)
            case = wait_for_task(engine, worker, report)
            port = free_port()
            api = _start_api(settings, home, port, _accounts(home / "accounts.toml", case.assignee, district))
            yield Stack(
                settings,
                engine,
                district,
                f"http://127.0.0.1:{port}",
                worker_port,
                case,
                overdue,
                home,
                worker,
            )
        finally:
            if api is not None:
                api.terminate()
                api.wait(timeout=30)
            worker.stop()
            engine.dispose()
