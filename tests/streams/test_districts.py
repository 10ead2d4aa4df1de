"""Two districts side by side through the real broker, worker and PostGIS: a report in each lands
in its own district's grid and goes to that district's people, under its district's policy (九龙坡's
override in config/districts.toml: accept within 30 working minutes, exposed garbage in 2 h, its
own ladder) and the SLA tracker escalates each by its own; one outside both goes to the city desk
(城市运行管理中心) with the reason. The partition a report arrives in (its district's range,
config/districts.toml [report_partitions]) is only a hint: written into another district's range
it is placed exactly the same."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer
from sqlalchemy import Engine, create_engine, text

from config.districts import load_city_desk
from config.report_partitions import load_report_partitions
from config.settings import Settings
from dispatch.sla.policy_book import load_policy_book
from geo.city import CITY_DESK, add_city_desk
from geo.reference import CITY_DISTRICTS, load_reference
from geo.service import load_reference_set
from producers.publisher import Publisher
from schemas.report import decode, report_id_for
from tests.casework import WEDNESDAY_10
from tests.conftest import own_topics_and_database
from tests.streams.harness import Worker, running_worker, wait_caught_up

pytestmark = [pytest.mark.kafka, pytest.mark.db]
OUTSIDE_BOTH = (106.60, 29.56)  # Yuzhong, east of both outlines
START = WEDNESDAY_10  # the workers' clocks run from a working morning (P3 clocks are working time)


@pytest.fixture(scope="module")
def city(services: Settings) -> Iterator[tuple[Settings, Engine]]:
    """Topics and a database of this module's own, holding both reference districts."""
    with own_topics_and_database(services, "two_districts") as settings:
        engine = create_engine(settings.db_url)
        with engine.begin() as conn:
            for name in CITY_DISTRICTS:
                load_reference_set(conn, load_reference(name))
            assert add_city_desk(conn) is not None
        yield settings, engine
        engine.dispose()


def _report(n: int, lon: float, lat: float, at: datetime) -> bytes:
    ref = f"CITY-{n}"
    return orjson.dumps(
        {
            "schema_version": 1,
            "report_id": str(report_id_for("hotline", ref)),
            "source": "hotline",
            "source_ref": ref,
            "reported_at": at.isoformat(),
            "received_at": at.isoformat(),
            "category": "exposed_garbage",
            "priority": "P3",
            "location": {"lon": lon, "lat": lat, "crs": "wgs84"},
            "description": "垃圾暴露",
            "raw": {"format": "json", "text": "{}"},
        }
    )


def test_each_district_routes_its_own_and_the_city_desk_takes_the_rest(
    city: tuple[Settings, Engine], tmp_path: Path
) -> None:
    kafka, engine = city
    spb, jlp = (load_reference(n) for n in CITY_DISTRICTS)
    in_spb = spb.grids[200].geometry.representative_point()
    in_jlp = jlp.grids[300].geometry.representative_point()
    at = START - timedelta(minutes=1)
    also_spb = spb.grids[210].geometry.representative_point()
    also_jlp = jlp.grids[310].geometry.representative_point()
    points = [(in_spb.x, in_spb.y), (in_jlp.x, in_jlp.y), OUTSIDE_BOTH, (also_spb.x, also_spb.y)]
    values = [_report(i, x, y, at) for i, (x, y) in enumerate([*points, (also_jlp.x, also_jlp.y)])]
    shares = load_report_partitions()
    wrong = [shares.range_of(spb.code if i == 1 else jlp.code)[0] for i in range(3)]  # the others' ranges
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    for value, partition in zip(values[:3], wrong, strict=True):
        producer.send(kafka.topic("reports.hotline"), value=value, key=b"k", partition=partition)
    producer.flush()
    producer.close()
    publisher = Publisher(kafka, linger_ms=5)  # CITY-3 and CITY-4: as the producers write them
    hinted = [publisher.send_report(decode(v)).get(timeout=10).partition for v in values[3:]]
    publisher.close()
    assert [p in shares.range_of(d.code) for p, d in zip(hinted, (spb, jlp), strict=True)] == [True, True]
    with running_worker(kafka.model_copy(update={"clock_from": START}), tmp_path / "w") as worker:
        wait_caught_up(kafka, [worker])
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                """
                SELECT r.source_ref, i.district_code, i.grid_code, i.placement_reason, i.incident_id,
                       i.policy_id, i.clocks, t.assignee_id, t.assignee_level,
                       w.district_code AS assignee_district
                FROM reports r JOIN incidents i USING (incident_id)
                JOIN tasks t ON t.incident_id = i.incident_id
                JOIN workers w ON w.worker_id = t.assignee_id
                ORDER BY r.source_ref
                """
            )
        ).all()
    by_ref = {r.source_ref: r for r in rows}
    assert sorted(by_ref) == ["CITY-0", "CITY-1", "CITY-2", "CITY-3", "CITY-4"], rows
    for ref, district, grid in (
        ("CITY-0", spb, spb.grids[200]),
        ("CITY-1", jlp, jlp.grids[300]),
        ("CITY-3", spb, spb.grids[210]),
        ("CITY-4", jlp, jlp.grids[310]),
    ):
        row = by_ref[ref]
        assert (row.district_code, row.grid_code, row.placement_reason) == (district.code, grid.code, None)
        assert row.assignee_district == district.code, row  # never the other district's person
    outside = by_ref["CITY-2"]
    assert (outside.district_code, outside.grid_code) == (CITY_DESK, None)
    assert outside.placement_reason == (
        "outside every district (500106, 500107): to the city desk (城市运行管理中心)"
    )
    assert (outside.assignee_id, outside.assignee_district) == (load_city_desk().desk_id, CITY_DESK)

    # each case opened under its district's policy: 九龙坡's limits and ladder, 沙坪坝 the shared
    book = load_policy_book()
    spb_case, jlp_case = by_ref["CITY-0"], by_ref["CITY-1"]
    budgets = {
        ref: {c: by_ref[ref].clocks[c]["budget_s"] for c in ("accept", "resolve")}
        for ref in ("CITY-0", "CITY-1")
    }
    assert budgets == {
        "CITY-0": {"accept": 3600, "resolve": 4 * 3600},
        "CITY-1": {"accept": 1800, "resolve": 2 * 3600},
    }
    assert spb_case.policy_id == book.shared.escalation.fingerprint == outside.policy_id
    assert jlp_case.policy_id == book.of(jlp.code).escalation.fingerprint != spb_case.policy_id

    # 40 working minutes on, the tracker takes 九龙坡's yellow (24 min) and red (30 min, with the
    # reassignment) and nothing of 沙坪坝's (yellow at 48 min)
    later = Worker(kafka.model_copy(update={"clock_from": START + timedelta(minutes=40)}), tmp_path / "w2")
    try:
        deadline = time.monotonic() + 120
        while _steps(engine, jlp_case.incident_id) != ["yellow", "red"]:
            assert later.alive() and time.monotonic() < deadline, later.tail()
            time.sleep(0.3)
    finally:
        later.stop()
    assert _steps(engine, spb_case.incident_id) == []
    with engine.connect() as conn:
        holder = conn.execute(
            text("SELECT assignee_id FROM incidents WHERE incident_id = :i"), {"i": jlp_case.incident_id}
        ).scalar_one()
    assert holder not in (None, jlp_case.assignee_id)  # reassigned at 九龙坡's red step


def _steps(engine: Engine, incident_id: object) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT data->'escalation'->>'step' FROM events"
                    " WHERE incident_id = :i AND action = 'escalate' ORDER BY sequence"
                ),
                {"i": incident_id},
            ).scalars()
        )
