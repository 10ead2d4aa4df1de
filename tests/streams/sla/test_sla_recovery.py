"""Deadline recovery: a real `yiwang worker` process is killed with SIGKILL while steps are
falling due, then restarted; every due step must have fired exactly once (in PostgreSQL) and
reached `sla.escalations` on the real broker (the outbox relay publishes what the kill left)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, text

from config.settings import Settings
from dispatch.cases.commands import Command
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from geo.reference import ReferenceDistrict
from tests.casework import harness, report_in
from tests.producers.helpers import read_topic
from tests.streams.harness import worker_env

pytestmark = [pytest.mark.db, pytest.mark.kafka]
REPO = Path(__file__).resolve().parents[3]
N = 12
FIRST_DUE_S = 15.0  # the district steps fall due from 15 s after setup, one every 0.75 s
LADDER = ["yellow", "red", "street", "district"]


async def _setup(settings: Settings, engine: Engine, district: ReferenceDistrict) -> list[str]:
    """N accepted P1 cases whose resolve clocks started ~6 h ago: yellow, red and street are
    due already (a worker catches up), the district step (360 min) falls due during the test."""
    start = datetime.now(UTC)
    ids: list[str] = []
    async with harness(settings, engine) as h:
        for i in range(N):
            t0 = start - timedelta(minutes=360) + timedelta(seconds=FIRST_DUE_S + 0.75 * i)
            h.now[0] = t0
            (iid,) = await h.report([report_in(district, 40 + 75 * i, category="pipe_burst", at=t0)])
            cur = await h.conn.execute("SELECT assignee_id FROM incidents WHERE incident_id = %s", (iid,))
            row = await cur.fetchone()
            assert row is not None and row[0]
            me = Actor(Role.GRID_WORKER, row[0])
            h.now[0] = t0 + timedelta(minutes=1)
            await h.flows.transition(h.conn, iid, Command(Action.ACCEPT, me))
            h.now[0] = t0 + timedelta(minutes=2)
            await h.flows.transition(h.conn, iid, Command(Action.ARRIVE, me))
            ids.append(iid)
    return ids


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = worker_env(settings, settings.home)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.cli",
            "--log-level",
            "INFO",
            "worker",
            "--metrics-port",
            "0",
            "--faust-log-level",
            "info",
        ],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _steps(engine: Engine, ids: list[str]) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT incident_id::text, data #>> '{escalation,step}' FROM events "
                "WHERE action = 'escalate' AND incident_id = ANY(CAST(:ids AS uuid[])) "
                "ORDER BY incident_id, sequence"
            ),
            {"ids": ids},
        ).all()
    out: dict[str, list[str]] = {i: [] for i in ids}
    for iid, step in rows:
        out[iid].append(step)
    return out


def _unpublished(engine: Engine, ids: list[str]) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM events "
                    "WHERE published_at IS NULL AND incident_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": ids},
            ).scalar_one()
        )


def _wait(what: str, check: object, timeout_s: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if proc.poll() is not None:
            pytest.fail(
                f"the worker exited ({proc.returncode}) waiting for {what}:\n{log.read_text()[-3000:]}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def test_kill_9_loses_no_deadline_and_fires_none_twice(
    kafka: Settings, engine: Engine, district: ReferenceDistrict, tmp_path: Path
) -> None:
    ids = asyncio.run(_setup(kafka, engine, district))
    log = tmp_path / "worker.log"
    first = _worker(kafka, log)
    try:
        _wait(
            "a third of the district steps",
            lambda: sum("district" in s for s in _steps(engine, ids).values()) >= N // 3,
            FIRST_DUE_S + 60,
            first,
            log,
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    at_kill = _steps(engine, ids)
    fired = sum("district" in s for s in at_kill.values())
    assert fired < N, "the kill came after every step had fired: nothing was left to recover"
    assert all(Counter(s)[name] <= 1 for s in at_kill.values() for name in LADDER), at_kill

    second = _worker(kafka, log)
    try:
        _wait(
            "every district step",
            lambda: all("district" in s for s in _steps(engine, ids).values()),
            90,
            second,
            log,
        )
        _wait("the outbox to drain", lambda: _unpublished(engine, ids) == 0, 30, second, log)
    finally:  # still joining its consumer group (the killed member's session is open): no clean stop
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait(10)

    assert _steps(engine, ids) == {i: LADDER for i in ids}  # each step once, in order
    docs = [orjson.loads(v) for _, v, _ in read_topic(kafka, kafka.topic("sla.escalations"))]
    keys = {d["key"] for d in docs if d["incident_id"] in ids}
    assert len(keys) == N * len(LADDER)
    assert {(d["incident_id"], d["step"]) for d in docs if d["incident_id"] in ids} == {
        (i, step) for i in ids for step in LADDER
    }
