"""The exact reconciliation of a fault scenario, shared by the single-broker and the
three-broker fault tests.

A scenario starts real worker processes, runs simulated agency traffic at a steady rate,
injects one fault in the middle of it, waits for the pipeline to catch up, and checks that
every report the adapters published is stored exactly once (a task or merged into one),
that every refused payload is on the DLQ, that no case has two tasks or a gap in its events,
and that no SLA deadline was lost. The table is printed and kept as a test artefact.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from sqlalchemy import Connection, Engine, text

from config.settings import Settings
from dispatch.codec import clocks_from
from dispatch.intake.rules import IntakeRules
from tests.reliability.load import Load
from tests.streams.harness import INTAKE_GROUP, Worker, read_topic, wait_caught_up

RATE, SECONDS, FAULT_AT = 500.0, 16.0, 6.0
ARTEFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def dlq_by_stage(settings: Settings) -> dict[str, int]:
    out: dict[str, int] = {}
    for letter in read_topic(settings, "reports.dlq"):
        out[letter["stage"]] = out.get(letter["stage"], 0) + 1
    return out


def lost_deadlines(conn: Connection) -> int:
    """Open cases whose stored next SLA check is missing or later than their clocks say."""
    rules, now = IntakeRules.load(), datetime.now(UTC)
    lost = 0
    rows = conn.execute(
        text("SELECT clocks, next_sla_at FROM incidents WHERE state NOT IN ('closed', 'merged', 'rejected')")
    )
    for clocks, stored in rows:
        due, _ = rules.next_check(clocks_from(clocks), now)
        if due is not None and (stored is None or stored > due + timedelta(seconds=1)):
            lost += 1
    return lost


def reconcile(engine: Engine, expected: set[str]) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT report_id::text, merged FROM reports WHERE report_id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": list(expected)},
        ).all()
        return {
            "expected reports": len(expected),
            "stored reports": len(rows),
            "opened an incident": sum(not merged for _, merged in rows),
            "merged into one": sum(merged for _, merged in rows),
            "cases with 2+ active tasks": conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT incident_id FROM tasks WHERE status = 'active' "
                    "GROUP BY incident_id HAVING count(*) > 1) x"
                )
            ).scalar_one(),
            "cases with gaps in events": conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT incident_id FROM events GROUP BY incident_id "
                    "HAVING count(*) <> max(sequence) OR min(sequence) <> 1) x"
                )
            ).scalar_one(),
            "report counts off": conn.execute(
                text(
                    "SELECT count(*) FROM incidents i WHERE report_count <> "
                    "(SELECT count(*) FROM reports r WHERE r.incident_id = i.incident_id)"
                )
            ).scalar_one(),
            "escalation steps taken": conn.execute(
                text("SELECT count(*) FROM events WHERE action = 'escalate'")
            ).scalar_one(),
            "steps taken twice": conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT data->'escalation'->>'key' FROM events "
                    "WHERE action = 'escalate' GROUP BY 1 HAVING count(*) > 1) x"
                )
            ).scalar_one(),
            "deadlines lost or late": lost_deadlines(conn),
        }


def wait_joined(settings: Settings, workers: list[Worker], *, timeout_s: float = 120) -> None:
    """Until every worker has joined the intake group and the group is stable: the fault must
    hit a running pipeline, and on a busy machine a worker's start takes longer than any fixed
    pause (one still starting when the broker went down never came up)."""
    group = settings.topic(INTAKE_GROUP)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for w in workers:
            assert w.alive(), f"worker died while starting:\n{w.tail()}"
        admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="yiwang-joined")
        try:
            described = admin.describe_groups([group]).get(group) or {}
        except KafkaError:
            described = {}
        finally:
            admin.close()
        if described.get("group_state") == "Stable" and len(described.get("members") or []) >= len(workers):
            return
        time.sleep(0.3)
    raise AssertionError(f"the workers did not join {group} within {timeout_s}s:\n{workers[0].tail()}")


def run_scenario(
    name: str,
    settings: Settings,
    engine: Engine,
    tmp_path: Path,
    *,
    seed: int,
    fault: Callable[[list[Worker]], None],
    workers: int = 1,
    seconds: float = SECONDS,
) -> None:
    dlq_before = dlq_by_stage(settings)
    running = [Worker(settings, tmp_path / f"{name}-{i}", f"w{i}") for i in range(workers)]
    try:
        wait_joined(settings, running)
        load = Load(settings, seed, RATE, seconds).start()
        time.sleep(FAULT_AT)
        fault(running)
        load.wait()
        wait_caught_up(settings, [w for w in running if w.alive()], timeout_s=240)
    finally:
        for w in running:
            w.stop()
    dlq_after = dlq_by_stage(settings)
    table = reconcile(engine, load.expected_ids())
    table |= {
        "payloads sent": load.sent,
        "refused by adapters (planned)": load.planned_rejections,
        "adapter dead letters": dlq_after.get("adapter", 0) - dlq_before.get("adapter", 0),
        "failed to publish": load.failed,
        "reports/s sent": round(load.sent / load.took_s) if load.took_s else 0,
    }
    ARTEFACTS.mkdir(exist_ok=True)
    (ARTEFACTS / f"reliability-{name}.json").write_text(json.dumps(table, indent=2, ensure_ascii=False))
    print(f"\nreconciliation after {name}:")
    for key, value in table.items():
        print(f"  {key:<32}{value:>8}")
    assert table["payloads sent"] == int(RATE * seconds) and table["failed to publish"] == 0
    assert table["stored reports"] == table["expected reports"], "a published report was lost"
    assert table["adapter dead letters"] == table["refused by adapters (planned)"]
    assert table["cases with 2+ active tasks"] == 0
    assert table["cases with gaps in events"] == 0 and table["report counts off"] == 0
    assert table["steps taken twice"] == 0 and table["deadlines lost or late"] == 0
