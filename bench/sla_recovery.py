"""SLA recovery after a restart, catch-up, and process memory, against the real services.

    .venv/bin/python -m bench.sla_recovery [--open 100000] [--due 5000]

1. `--open` open cases with running clocks are written (the real intake rules decide them;
   rows go in through the same store), plus `--due` cases whose steps fell due two hours ago.
2. A `yiwang worker` is started: "recovered" is the time from the process start until its SLA
   tracker has finished its first pass (the `yiwang_sla_lag_seconds` gauge appears on its
   metrics port) — target: 100,000 open deadlines back in <= 10 s. Beside it, in the same
   run: the time to read every open clock into memory, which a timer-based tracker would need.
3. Catch-up: how long the tracker takes to work off the `--due` overdue cases (steps/s), once
   right after the restart (beside the worker's own start) and once more with a second `--due`
   backlog that falls due at once in the running, idle worker.
4. Memory: the worker's RSS with the district index and the open cases (<= 300 MB), and the
   API's RSS after serving the board's queries (<= 200 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, text

from bench.harness import REPO, env_for, free_port, isolated, rss_mb, stop
from config.settings import Settings
from dispatch import store
from dispatch.codec import clocks_from
from dispatch.directory import Directory
from dispatch.intake.rules import IntakeRules, LocatedReport, Opened
from dispatch.rows import event_row, incident_row, task_row
from geo.index import index_from_reference
from geo.reference import load_reference
from streams.runtime import connect

TARGET_RECOVERY_S = 10.0
TARGET_STEPS_S = 2_000
TARGET_WORKER_MB = 300
TARGET_API_MB = 200
POLL_S = 0.05
WARM_S = 5.0
"""How long the worker runs idle after the restart's catch-up before the second backlog is due."""
PARK = (
    "CREATE TABLE bench_parked AS SELECT incident_id, next_sla_at FROM incidents WHERE next_sla_at <= now();"
    " UPDATE incidents SET next_sla_at = NULL WHERE incident_id IN (SELECT incident_id FROM bench_parked)"
)
UNPARK = (
    "UPDATE incidents i SET next_sla_at = p.next_sla_at FROM bench_parked p"
    " WHERE i.incident_id = p.incident_id"
)
"""The second backlog falls due at once in a worker that is up and idle (the database or the
tracker was away while the worker ran): the catch-up without the process's own start beside it."""
"""How often the bench looks for due cases left: a coarse poll (0.5 s) was a quarter of a
2 s catch-up."""


def _located(n: int, seed: int) -> list[LocatedReport]:
    """`n` reports spread over the district's grids (P1–P4 categories the grid can handle)."""
    district = load_reference()
    index = index_from_reference(district)
    rules_tax = IntakeRules.load().taxonomy
    categories = [c for c in rules_tax.categories.values() if not c.agency_led]
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = district.outline.bounds
    out: list[LocatedReport] = []
    while len(out) < n:
        xs, ys = rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)
        hits = index.locate_many(xs, ys)
        for x, y, h in zip(xs.tolist(), ys.tolist(), hits.tolist(), strict=True):
            if h < 0 or len(out) >= n:
                continue
            grid = index.grids[h]
            cat = categories[int(rng.integers(len(categories)))]
            out.append(
                LocatedReport(
                    report_id=f"{seed:08x}-0000-4000-8000-{len(out):012x}",
                    source="patrol",
                    category=cat,
                    priority=cat.priority,
                    received_at=datetime.now(UTC),
                    reported_at=datetime.now(UTC),
                    lon=x,
                    lat=y,
                    district_code=district.code,
                    street_code=grid.street_code,
                    street_name=grid.street_name,
                    community_code=grid.community_code,
                    grid_code=grid.code,
                    placement_reason=None,
                    layer_version=index.layer_version,
                )
            )
    return out


async def _write_cases(settings: Settings, reports: list[LocatedReport], now: datetime) -> int:
    """Open cases for `reports` as if the intake had decided them at `now` (no merging)."""
    rules = IntakeRules.load()
    engine = create_engine(settings.db_url)
    with engine.connect() as sync_conn:
        directory = Directory.load(sync_conn)
    engine.dispose()
    conn = await connect(settings)
    written = 0
    for start in range(0, len(reports), 2000):
        batch = [
            r.__class__(**{f: getattr(r, f) for f in r.__slots__} | {"received_at": now, "reported_at": now})
            for r in reports[start : start + 2000]
        ]
        decided = rules.decide(
            batch,
            nearby=[[] for _ in batch],
            candidates=directory.for_batch(batch, {}, at=now, calendar=rules.tk.working),
            now=now,
        )
        opened = [d for d in decided if isinstance(d, Opened)]
        incidents, tasks, events = [], [], []
        for d in opened:
            incidents.append(
                incident_row(d, _report_stub(d), now=now, policy_id=rules.escalation.fingerprint)
            )
            task = task_row(d, now=now)
            if task:
                tasks.append(task)
            events += [
                event_row(
                    e,
                    grid_code=d.report.grid_code,
                    district_code=d.report.district_code,
                    task_id=None,
                    published_at=now,
                )
                for e in d.events
            ]
        async with conn.transaction():
            await store.upsert(conn, store.INCIDENTS, incidents)
            await store.upsert(conn, store.TASKS, tasks)
            await store.upsert(conn, store.EVENTS, events)
        written += len(opened)
    await conn.close()
    return written


class _Stub:
    """What incident_row reads of the canonical report (the bench has no agency payload)."""

    class location:
        address = None

    description = "bench"


def _report_stub(_: Opened) -> Any:
    return _Stub()


def _write_all(settings: Settings, n_open: int, n_due: int) -> tuple[int, int, int]:
    """The open cases, the restart's overdue ones and the warm round's (parked): their counts."""
    t = time.perf_counter()
    opened = asyncio.run(_write_cases(settings, _located(n_open, 1), datetime.now(UTC)))
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    parked = asyncio.run(_write_cases(settings, _located(n_due, 3), two_hours_ago))
    engine = create_engine(settings.db_url)
    with engine.begin() as c:  # the warm round's backlog, held out of the tracker's sight
        c.execute(text(PARK))
    engine.dispose()
    due = asyncio.run(_write_cases(settings, _located(n_due, 2), two_hours_ago))
    took = time.perf_counter() - t
    print(f"wrote {opened:,} open and {due:,} + {parked:,} overdue cases in {took:.0f} s")
    return opened, due, parked


def _count(engine: Engine, query: str) -> int:
    with engine.connect() as c:
        return int(c.execute(text(query)).scalar_one())


def _warm_catch_up(
    engine: Engine, due_now: Callable[[], int], escalations: Callable[[], int]
) -> tuple[int, float, int]:
    """The parked backlog falls due at once: (cases due, seconds to work them off, steps)."""
    before = escalations()
    with engine.begin() as c:
        due = int(c.execute(text(UNPARK)).rowcount)
    started = time.perf_counter()
    while due_now() > 0 and time.perf_counter() - started < 900:
        time.sleep(POLL_S)
    return due, time.perf_counter() - started, escalations() - before


def _metric(port: int, name: str) -> float | None:
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return None
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--due", type=int, default=5_000)
    ap.add_argument("--log", action="store_true", help="print each tracker pass: when it began, its steps")
    args = ap.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, isolated(Settings(), "sla") as settings:
        home = Path(tmp)
        n_open, n_due, n_parked = _write_all(settings, args.open, args.due)
        engine = create_engine(settings.db_url)

        def escalations() -> int:
            return _count(engine, "SELECT count(*) FROM events WHERE action = 'escalate'")

        def due_now() -> int:
            return _count(engine, "SELECT count(*) FROM incidents WHERE next_sla_at <= now()")

        t = time.perf_counter()
        with engine.connect() as c:
            in_memory = [clocks_from(r[0]) for r in c.execute(text("SELECT clocks FROM incidents"))]
        load_all = time.perf_counter() - t
        print(f"read {len(in_memory):,} cases' clocks into memory in {load_all:.1f} s")
        before = due_now()
        port = free_port()
        started = time.perf_counter()
        log = (home / "worker.log").open("ab")
        worker = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "worker", "--metrics-port", str(port)],
            cwd=REPO,
            env=env_for(settings, home),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            while _metric(port, "yiwang_sla_lag_seconds") is None:
                if worker.poll() is not None or time.perf_counter() - started > 120:
                    raise RuntimeError(f"the worker did not come up; see {home / 'worker.log'}")
                time.sleep(0.1)
            recovered = time.perf_counter() - started
            while due_now() > 0 and time.perf_counter() - started < 900:
                time.sleep(POLL_S)
            caught_up = time.perf_counter() - started - recovered
            steps = escalations()
            time.sleep(WARM_S)
            warm_due, warm, warm_steps = _warm_catch_up(engine, due_now, escalations)
            worker_rss = rss_mb(worker.pid)
            with engine.connect() as c:
                passes = c.execute(
                    text("SELECT at, count(*) FROM events WHERE action = 'escalate' GROUP BY at ORDER BY at")
                ).all()
        finally:
            stop(worker)
        if args.log:
            first = passes[0][0] if passes else None
            for at, n in passes:
                print(f"pass at +{(at - first).total_seconds():6.2f} s: {n:,} steps")
        api_rss = _api_rss(settings, home)
        engine.dispose()
    rows += [
        (
            f"SLA recovered after a restart ({n_open + n_due + n_parked:,} open cases)",
            f"{recovered:.1f} s",
            f"{recovered / TARGET_RECOVERY_S:.2f} x target 10 s",
            f"reading every clock into memory instead: {load_all:.1f} s",
        ),
        (
            f"catch-up: {before:,} overdue cases",
            f"{caught_up:.1f} s",
            f"{steps / max(caught_up, 1e-9):,.0f} steps/s",
            f"{steps:,} steps; {steps / max(caught_up, 1e-9) / TARGET_STEPS_S:.2f} x target 2,000/s",
        ),
        (
            f"catch-up in a running worker: {warm_due:,} overdue",
            f"{warm:.1f} s",
            f"{warm_steps / max(warm, 1e-9):,.0f} steps/s",
            f"{warm_steps:,} steps; {warm_steps / max(warm, 1e-9) / TARGET_STEPS_S:.2f} x target 2,000/s",
        ),
        (
            "worker RSS (district index + open cases)",
            f"{worker_rss:,.0f} MB",
            f"{worker_rss / TARGET_WORKER_MB:.2f} x limit 300 MB",
            "",
        ),
        (
            "API RSS after the board's queries",
            f"{api_rss:,.0f} MB",
            f"{api_rss / TARGET_API_MB:.2f} x limit 200 MB",
            "",
        ),
    ]
    print(f"\n{'measure':<52}{'value':>10}   {'beside':<28}{'note'}")
    for name, value, beside, note in rows:
        print(f"{name:<52}{value:>10}   {beside:<28}{note}")


def _api_rss(settings: Settings, home: Path) -> float:
    port = free_port()
    log = (home / "api.log").open("ab")
    api = subprocess.Popen(
        [sys.executable, "-m", "deploy.cli", "api", "--port", str(port), "--no-build"],
        cwd=REPO,
        env=env_for(settings, home),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        token = subprocess.run(
            # an operator's token names its district
            [
                sys.executable,
                "-m",
                "deploy.cli",
                "token",
                "--role",
                "operator",
                "--district",
                load_reference().code,
            ],
            cwd=REPO,
            env=env_for(settings, home),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        for path in (
            "/incidents?limit=200",
            "/map",
            "/kpi?group=street",
            "/tasks?limit=200",
            "/reference/layers",
        ):
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"authorization": f"Bearer {token}"}
            )
            urllib.request.urlopen(req, timeout=60).read()
        return rss_mb(api.pid)
    finally:
        stop(api)


if __name__ == "__main__":
    main()
