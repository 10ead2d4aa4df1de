"""Urgency and same-problem merging in a running worker, on the real broker and PostGIS.

A fight reported by a patrol (治安纠纷扰序, P2) is open and dispatched; a 110 violent-crime
report (P0) 100 m away minutes later merges into it (one problem: `config/merging.toml`) and
the case ends at P0: P0 clocks, an assist task naming the police as the leading agency, and a
`raise_priority` event naming the report. A streetlight report next to a missing-manhole case
opens a case of its own; a damaged-manhole report joins it, and an operator splits it out again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from config.policy import Priority
from config.settings import Settings
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Role
from geo.reference import ReferenceDistrict
from geo.service import load_reference_set
from schemas.report import Report
from streams.rebuild import run_rebuild
from tests.casework import harness, report_in
from tests.conftest import own_topics_and_database
from tests.streams.harness import canonical, publish_raw, running_worker, wait_caught_up

pytestmark = [pytest.mark.kafka, pytest.mark.db]


@pytest.fixture(scope="module")
def urgency(services: Settings, reference: ReferenceDistrict) -> Iterator[tuple[Settings, Engine]]:
    with own_topics_and_database(services, "urgency") as settings:
        engine = create_engine(settings.db_url)
        with engine.begin() as conn:
            load_reference_set(conn, reference)
        yield settings, engine
        engine.dispose()


def _publish(settings: Settings, *reports: Report) -> None:
    for r in reports:
        publish_raw(settings, f"reports.{r.source.value}", [canonical(r)])


def _incident_of(engine: Engine, report: Report) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT to_jsonb(i.*) FROM incidents i JOIN reports r USING (incident_id) "
                "WHERE r.report_id = :id"
            ),
            {"id": str(report.report_id)},
        ).scalar_one()
    assert isinstance(row, dict)
    return row


def test_a_merged_p0_ends_with_an_assist_task_and_p0_clocks(
    urgency: tuple[Settings, Engine], reference: ReferenceDistrict, tmp_path: Path
) -> None:
    settings, engine = urgency
    now = datetime.now(UTC)
    fight = report_in(
        reference, 10, category="public_disturbance", source="patrol", at=now - timedelta(minutes=5)
    )
    manhole = report_in(
        reference, 20, category="manhole_cover_missing", source="citymgmt", at=now - timedelta(minutes=5)
    )
    _publish(settings, fight, manhole)
    with running_worker(settings, tmp_path / "w") as worker:
        wait_caught_up(settings, [worker])
        before = _incident_of(engine, fight)
        assert (before["priority"], before["state"]) == ("P2", "dispatched")

        crime = report_in(reference, 10, category="violent_crime", source="police", at=now, offset_m=100)
        streetlight = report_in(
            reference, 20, category="streetlight_out", source="hotline", at=now, offset_m=50
        )
        damaged = report_in(
            reference, 20, category="manhole_cover_damaged", source="hotline", at=now, offset_m=80
        )
        _publish(settings, crime, streetlight, damaged)
        wait_caught_up(settings, [worker])

    after = _incident_of(engine, crime)
    assert after["incident_id"] == before["incident_id"]
    assert (after["priority"], after["category"], after["report_count"]) == ("P0", "violent_crime", 2)
    assert sorted(after["sources"]) == ["patrol", "police"]
    clocks = after["clocks"]
    assert "resolve" not in clocks  # P0 resolve is the agency's: no grid resolve clock
    assert clocks["accept"]["budget_s"] == 180 and clocks["accept"]["status"] == "running"  # P0: 3 min
    assert clocks["on_site"]["budget_s"] == 600
    with engine.connect() as conn:
        tasks = (
            conn.execute(
                text("SELECT to_jsonb(t.*) FROM tasks t WHERE incident_id = :i"), {"i": after["incident_id"]}
            )
            .scalars()
            .all()
        )
        raised = (
            conn.execute(
                text(
                    "SELECT to_jsonb(e.*) FROM events e WHERE incident_id = :i AND action = 'raise_priority'"
                ),
                {"i": after["incident_id"]},
            )
            .scalars()
            .all()
        )
    [task] = tasks
    assert (task["kind"], task["status"]) == ("assist", "active")
    assert "区公安分局 leads" in task["routing_reason"]
    [event] = raised
    doc = event["data"]["raised"]
    assert (doc["report_id"], doc["from"], doc["to"]) == (str(crime.report_id), "P2", "P0")
    assert doc["lead_department"] == "区公安分局" and doc["told"] == after["assignee_id"]
    assert event["task_id"] == task["task_id"] and event["published_at"] is not None

    # the same problem only: a streetlight never joins the manhole case; a damaged cover does
    manhole_case = _incident_of(engine, manhole)
    assert _incident_of(engine, damaged)["incident_id"] == manhole_case["incident_id"]
    assert _incident_of(engine, streetlight)["incident_id"] != manhole_case["incident_id"]
    assert Priority(manhole_case["priority"]) is Priority.P1  # the P3 report did not lower it

    # an operator splits the damaged cover out: its own case, routed; the tables stay a
    # projection of the topics (rebuilt from them, they are the same)
    async def split() -> str:
        async with harness(settings, engine, now=datetime.now(UTC)) as h:
            out = await h.flows.split(
                h.conn,
                manhole_case["incident_id"],
                str(damaged.report_id),
                actor=Actor(Role.OPERATOR, "op-test"),
                reason="另一处井盖",
            )
            return str(out.doc()["split"]["incident"]["incident_id"])

    new_case = asyncio.run(split())
    assert _incident_of(engine, damaged)["incident_id"] == new_case != manhole_case["incident_id"]
    before = _snapshot(engine)
    run_rebuild(settings)
    assert _snapshot(engine) == before
    assert _incident_of(engine, damaged)["incident_id"] == new_case


def _snapshot(engine: Engine) -> dict[str, list[object]]:
    queries = {
        "reports": "SELECT to_jsonb(t.*) - 'geom' - 'ingested_at' FROM reports t ORDER BY report_id",
        "incidents": "SELECT to_jsonb(t.*) - 'geom' FROM incidents t ORDER BY incident_id",
        "tasks": "SELECT to_jsonb(t.*) FROM tasks t ORDER BY task_id",
        "events": "SELECT to_jsonb(t.*) - 'published_at' FROM events t ORDER BY incident_id, sequence",
    }
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(q))] for name, q in queries.items()}
