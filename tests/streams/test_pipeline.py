"""Simulator output through the real broker and the real worker ends as the right rows.

Every valid report is a task or merged into an incident, every invalid one is on the DLQ,
and the counts reconcile exactly. Publishing everything again changes nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, create_engine, text

from config.settings import Settings
from geo.reference import ReferenceDistrict
from geo.service import load_reference_set
from producers.simulator import generate
from schemas.report import report_id_for
from streams.rebuild import run_rebuild
from tests.conftest import own_topics_and_database
from tests.streams.harness import (
    publish_raw,
    publish_simulated,
    read_topic,
    running_worker,
    wait_caught_up,
)

pytestmark = [pytest.mark.kafka, pytest.mark.db]
COUNT = 1200


@pytest.fixture(scope="module")
def pipeline(services: Settings, reference: ReferenceDistrict) -> Iterator[tuple[Settings, Engine]]:
    """Topics and a database of this test's own: it reconciles them whole."""
    with own_topics_and_database(services, "pipeline") as settings:
        engine = create_engine(settings.db_url)
        with engine.begin() as conn:
            load_reference_set(conn, reference)
        yield settings, engine
        engine.dispose()


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in ("reports", "incidents", "tasks", "events")
        }


def _bad_records(settings: Settings) -> int:
    """Records that pass no adapter: published straight onto the topics, as a rogue agency might."""
    valid = {
        "schema_version": 1,
        "report_id": str(report_id_for("police", "RAW-1")),
        "source": "police",
        "source_ref": "RAW-1",
        "reported_at": "2025-06-10T09:00:00+08:00",
        "received_at": "2025-06-10T09:00:01+08:00",
        "category": "theft",
        "priority": "P2",
        "location": {"lon": 106.45, "lat": 29.55, "crs": "wgs84"},
        "description": "x",
        "raw": {"format": "json", "text": "{}"},
    }
    nul = {
        **valid,
        "source_ref": "RAW-2",
        "report_id": str(report_id_for("police", "RAW-2")),
        "description": "bad \u0000 byte",
    }
    wrong_topic = {
        **valid,
        "source": "fire",
        "source_ref": "RAW-3",
        "report_id": str(report_id_for("fire", "RAW-3")),
    }
    unknown = {
        **valid,
        "source_ref": "RAW-4",
        "report_id": str(report_id_for("police", "RAW-4")),
        "category": "alien_landing",
    }
    values = [
        b"\xff\xfe not json",
        b"[1, 2]",
        orjson.dumps({"source": "police"}),
        orjson.dumps(nul),
        orjson.dumps(wrong_topic),
        orjson.dumps(unknown),
    ]
    publish_raw(settings, "reports.police", values)
    return len(values)


def test_simulated_feeds_end_as_tasks_merges_or_dead_letters(
    pipeline: tuple[Settings, Engine], tmp_path: Path
) -> None:
    kafka, engine = pipeline
    items = list(generate(11, COUNT, start=datetime.now(UTC) - timedelta(hours=2), span=timedelta(hours=2)))
    planned_rejections = sum(not i.expected.ok for i in items)
    published, adapter_rejections = publish_simulated(kafka, items)
    assert adapter_rejections == planned_rejections > 0
    intake_bad = _bad_records(kafka)

    with running_worker(kafka, tmp_path / "w1") as worker:
        wait_caught_up(kafka, [worker])
        counts = _counts(engine)

        with engine.connect() as conn:
            stored = {r[0] for r in conn.execute(text("SELECT report_id::text FROM reports"))}
            merged = conn.execute(text("SELECT count(*) FROM reports WHERE merged")).scalar_one()
            opened = conn.execute(text("SELECT count(*) FROM reports WHERE NOT merged")).scalar_one()
            per_incident = conn.execute(
                text(
                    "SELECT i.report_count, count(r.*) FROM incidents i JOIN reports r USING (incident_id) "
                    "GROUP BY i.incident_id, i.report_count"
                )
            ).all()
            dispatched = conn.execute(
                text("SELECT count(*) FROM incidents WHERE state = 'dispatched'")
            ).scalar_one()
            unrouted = conn.execute(
                text("SELECT count(*) FROM incidents WHERE state = 'registered'")
            ).scalar_one()
            waiting = conn.execute(  # triage sources' reports (config/sources.toml): for an operator
                text("SELECT count(*) FROM incidents WHERE state = 'reported'")
            ).scalar_one()
            tasks_per_incident = conn.execute(
                text("SELECT count(*) FROM tasks GROUP BY incident_id HAVING count(*) > 1")
            ).all()
            gaps = conn.execute(
                text(
                    "SELECT incident_id FROM events GROUP BY incident_id "
                    "HAVING count(*) <> max(sequence) OR min(sequence) <> 1"
                )
            ).all()
            versions = conn.execute(
                text(
                    "SELECT count(*) FROM incidents i WHERE version <> "
                    "(SELECT max(sequence) FROM events e WHERE e.incident_id = i.incident_id)"
                )
            ).scalar_one()
            event_ids = conn.execute(text("SELECT incident_id::text FROM incidents")).scalars().all()

        letters = read_topic(kafka, "reports.dlq")
        by_stage = Counter(letter["stage"] for letter in letters)
        print("\nreconciliation:")
        print(f"  simulated payloads        {COUNT}")
        print(f"  adapter rejections        {adapter_rejections} (planned {planned_rejections})")
        print(f"  reports published         {len(published)}")
        print(f"  rogue records             {intake_bad}")
        print(f"  reports stored            {len(stored)}  = opened {opened} + merged {merged}")
        print(f"  incidents                 {counts['incidents']}")
        print(f"  dispatched / unrouted     {dispatched} / {unrouted} (awaiting triage {waiting})")
        print(f"  tasks / events            {counts['tasks']} / {counts['events']}")
        print(f"  dead letters              {dict(by_stage)}")

        # every valid report is stored exactly once; nothing else is
        assert stored == published
        assert opened == counts["incidents"] and merged > 0
        # every incident counts its reports; every one is dispatched, on the district board, or
        # (from a triage source) waiting for an operator
        assert all(count == n for count, n in per_incident)
        assert dispatched + unrouted + waiting == counts["incidents"] and waiting > 0
        assert counts["tasks"] == dispatched and not tasks_per_incident
        # events are contiguous per case and the case version matches them
        assert not gaps and versions == 0
        assert len(event_ids) == counts["incidents"]
        # every invalid record is on the DLQ, at the stage that refused it
        assert by_stage["adapter"] == adapter_rejections
        assert by_stage["intake"] == intake_bad

        # the same event reported by several agencies ends as one incident
        ok = [i for i in items if i.expected.ok and i.expected.source_ref]
        by_event: dict[str, set[str]] = defaultdict(set)
        with engine.connect() as conn:
            incident_of = dict(
                conn.execute(text("SELECT source || ':' || source_ref, incident_id::text FROM reports")).all()
            )
        for item in ok:
            iid = incident_of.get(f"{item.source.value}:{item.expected.source_ref}")
            if iid is not None:
                by_event[item.expected.event_id].add(iid)
        multi = {e: s for e, s in by_event.items() if sum(1 for i in ok if i.expected.event_id == e) > 1}
        assert multi, "the simulator should have reported some events through several agencies"
        assert sum(len(s) == 1 for s in multi.values()) / len(multi) >= 0.9, multi

        # publishing everything again (an agency re-sending its export) changes nothing
        publish_simulated(kafka, items)
        wait_caught_up(kafka, [worker])
        assert _counts(engine) == counts

    # the tables are a projection of the topics: rebuilt from them, they are the same, and the
    # frozen escalation policies come back from their topic even when the table lost them
    before = _snapshot(engine)
    with engine.begin() as conn:
        policies = conn.execute(text("SELECT policy_id, body FROM sla_policies ORDER BY 1")).all()
        conn.execute(text("DELETE FROM sla_policies"))
    result = run_rebuild(kafka)
    assert result.rows["incidents"] >= counts["incidents"]
    assert result.missing_policies == [] and result.rows["sla_policies"] >= 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT policy_id, body FROM sla_policies ORDER BY 1")).all() == policies
    after = _snapshot(engine)
    assert before["cap_messages"], "the simulated emergency feed should have sent CAP alerts"
    assert result.rows["cap_messages"] == len(before["cap_messages"]), result.rows
    for table in before:
        assert after[table] == before[table], f"{table} differs after rebuild"


def _snapshot(engine: Engine) -> dict[str, list[object]]:
    queries = {
        "reports": "SELECT to_jsonb(t.*) - 'geom', ST_AsText(geom) FROM reports t ORDER BY report_id",
        "incidents": "SELECT to_jsonb(t.*) - 'geom', ST_AsText(geom) FROM incidents t ORDER BY incident_id",
        "tasks": "SELECT to_jsonb(t.*) FROM tasks t ORDER BY task_id",
        "events": "SELECT to_jsonb(t.*) FROM events t ORDER BY incident_id, sequence",
        # what became of each CAP message is derived from the cases: its outcome text is not kept
        "cap_messages": "SELECT to_jsonb(t.*) - 'outcome' - 'updated_at' FROM cap_messages t "
        "ORDER BY sender, identifier",
    }
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(q))] for name, q in queries.items()}
