"""Shared support for tests of the case flows, the SLA tracker and the API (real PostGIS and
Kafka): the reference district loaded once, canonical reports placed in its grids, and a
harness that runs the real intake (`IntakeRuntime` → `IntakeService.process`) and the real
case flows over one database connection and one real producer.

Conftests of the case tests' folders import the fixtures from here; `kafka` and
`engine` are overridden there, so those tests run on a database and topics of their own.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, create_engine

from config.policy import Priority, Taxonomy, load_taxonomy
from config.settings import Settings
from dispatch.cases.boot import connect, load_people, store_policy
from dispatch.cases.flows import CaseFlows
from dispatch.intake.decode import Inbound
from dispatch.intake.rules import IntakeRules
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.sla.deadlines import calendar_for
from dispatch.sla.policy import load_sla
from geo import service
from geo.reference import ReferenceDistrict, load_reference
from schemas.report import Crs, Location, Report, Reporter, encode, report_id_for
from streams.metrics import PipelineMetrics
from streams.runtime import IntakeRuntime
from tests.conftest import own_topics_and_database
from tests.reports import canonical_report

SH = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
"""A working morning (Wednesday 2026-11-25, 10:00 Asia/Shanghai): grid workers are on shift."""
NEW_YEARS_EVE_16 = datetime(calendar_for(load_sla()).authoritative_last.year, 12, 31, 16, 0, tzinfo=SH)
"""16:00 on the last day the published calendar knows (2026-12-31 with chinese-calendar 1.11): a
P3 case opened then has deadlines in provisional time, whatever year the installed package knows."""
_refs = itertools.count(1)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def cases(services: Settings) -> Iterator[Settings]:
    """Settings with a database and a topic prefix of their own for the case tests, so that
    tests elsewhere that reconcile whole tables or topics (the pipeline test) never see them."""
    with own_topics_and_database(services, "cases") as settings:
        yield settings


@pytest.fixture(scope="session")
def cases_engine(cases: Settings) -> Iterator[Engine]:
    eng = create_engine(cases.db_url, pool_size=5)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def kafka(cases: Settings) -> Settings:
    """Overrides the root `kafka` in the case tests' folders: their own database and topics."""
    return cases


@pytest.fixture(scope="session")
def engine(cases_engine: Engine) -> Engine:
    """Overrides the root `engine` in the case tests' folders."""
    return cases_engine


@pytest.fixture(scope="session")
def district(cases_engine: Engine) -> ReferenceDistrict:
    """The reference district's layers, buildings and workers in the case tests' database."""
    reference = load_reference()
    with cases_engine.begin() as conn:
        service.load_reference_set(conn, reference)
    return reference


def report_in(
    district: ReferenceDistrict,
    grid_index: int,
    *,
    category: str = "manhole_cover_missing",
    source: str = "hotline",
    at: datetime = WEDNESDAY_10,
    priority: Priority | None = None,
    description: str = "井盖缺失，行人有危险",
    offset_m: float = 0.0,
) -> Report:
    """A canonical report at (near) the representative point of one of the district's grids."""
    grid = district.grids[grid_index]
    point = grid.geometry.representative_point()
    return canonical_report(
        Location(lon=point.x + offset_m / 97_000, lat=point.y, crs=Crs.WGS84),
        ref=f"t-{uuid.uuid4().hex[:12]}-{next(_refs)}",
        at=at,
        source=source,
        category=category,
        priority=priority or _default_priority(category),
        description=description,
        reporter=Reporter(name="张三丰", phone="13812345678"),
    )


@cache
def _taxonomy() -> Taxonomy:
    return load_taxonomy()


def _default_priority(category: str) -> Priority:
    return _taxonomy().categories[category].priority


@dataclass
class Harness:
    settings: Settings
    conn: AsyncConnection[Any]
    flows: CaseFlows
    intake: IntakeRuntime
    producer: AIOKafkaProducer
    now: list[datetime]  # the injected clock: set now[0]

    async def report(self, reports: Sequence[Report], at: datetime | None = None) -> list[str]:
        """Run the real intake on `reports` at `at` (default: the harness clock); incident ids."""
        when_ = at or self.now[0]
        assert self.intake.service is not None
        self.intake.service.clock = lambda: when_
        records = [
            Inbound(self.settings.topic(f"reports.{r.source.value}"), 0, i, None, encode(r), None)
            for i, r in enumerate(reports)
        ]
        result = await self.intake.handle(records)
        assert result.dead_letters == 0, result
        cur = await self.conn.execute(
            "SELECT report_id::text, incident_id::text FROM reports WHERE report_id = ANY(%s::uuid[])",
            ([str(r.report_id) for r in reports],),
        )
        where = dict(await cur.fetchall())
        return [where[str(r.report_id)] for r in reports]


@asynccontextmanager
async def harness(
    settings: Settings, engine: Engine, *, now: datetime = WEDNESDAY_10
) -> AsyncIterator[Harness]:
    """The real intake and case flows on one connection, a real producer, an injected clock."""
    clock = [now]
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, enable_idempotence=True, acks="all"
    )
    await producer.start()

    async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        return await producer.send(topic, value, key=key, headers=headers)

    async def publish(topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        return await producer.send(topic, value, key=key, headers=headers)

    rules = IntakeRules.load()
    people = load_people(engine, rules.taxonomy)
    flows = CaseFlows(
        settings,
        rules,
        people,
        send,
        metrics=DispatchMetrics.create(CollectorRegistry()),
        clock=lambda: clock[0],
    )
    intake = IntakeRuntime(settings, PipelineMetrics.create(CollectorRegistry()), publish)
    await intake.start()
    conn = await connect(settings, application_name="yiwang-test")
    await store_policy(conn, rules.escalation)
    try:
        yield Harness(settings, conn, flows, intake, producer, clock)
    finally:
        await conn.close()
        await intake.close()
        await producer.stop()


def later(h: Harness, **delta: float) -> datetime:
    """Move the harness clock forward and return the new time."""
    h.now[0] = h.now[0] + timedelta(**delta)
    return h.now[0]


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


Clock = Callable[[], datetime]


JIULONGPO = "500107"
JIULONGPO_POINT = (106.511, 29.506)  # inside 九龙坡's outline (geo/city.py)
_AREAS = {  # table -> its columns that name an area (their district digits are replaced)
    "incidents": ("street_code", "community_code", "grid_code"),
    "tasks": ("street_code", "grid_code"),
    "reports": ("grid_code",),
}


@dataclass(frozen=True)
class Moved:
    incident_id: str
    task_id: str
    report_id: str
    source_ref: str
    assignee: str


async def copy_into_district(
    conn: AsyncConnection[Any],
    incident_id: str,
    *,
    district: str = JIULONGPO,
    point: tuple[float, float] = JIULONGPO_POINT,
) -> Moved:
    """A case of another district for the district boundary: the case's incident, current task
    and first report copied with new ids, their area codes moved to `district` (the digits
    after the district's stay) and their point to `point`. Written by SQL: the worker of a
    one-district test world places no report in a second district (the two-district pipeline
    is tested where it is built)."""
    cur = await conn.execute(
        "SELECT i.current_task_id::text, i.assignee_id, r.report_id::text, r.source FROM incidents i "
        "JOIN reports r USING (incident_id) WHERE i.incident_id = %s::uuid "
        "ORDER BY r.received_at LIMIT 1",
        (incident_id,),
    )
    row = await cur.fetchone()
    assert row is not None, f"no case {incident_id} with a report to copy"
    task_id, assignee, report_id, source = row
    new_incident, new_task = str(uuid.uuid4()), str(uuid.uuid4())
    ref = f"D{district}-{new_task[:8]}"
    new_report = str(report_id_for(source, ref))
    worker = district + str(assignee)[6:]
    changes = {
        "incidents": {
            "incident_id": new_incident,
            "current_task_id": new_task,
            "assignee_id": worker,
            "district_code": district,
        },
        "tasks": {"task_id": new_task, "incident_id": new_incident, "assignee_id": worker},
        "reports": {"report_id": new_report, "incident_id": new_incident, "source_ref": ref},
    }
    old = {"incidents": incident_id, "tasks": task_id, "reports": report_id}
    async with conn.transaction():
        for table, change in changes.items():
            moved = "".join(f", '{c}', %(d)s || substr(t.{c}, 7)" for c in _AREAS[table])
            await conn.execute(
                f"INSERT INTO {table} SELECT (jsonb_populate_record(NULL::{table}, to_jsonb(t) || "
                f"jsonb_build_object('geom', NULL, 'reporter_phone_hash', NULL{moved}) || %(new)s::jsonb)).* "
                f"FROM {table} t WHERE t.{table[:-1]}_id = %(old)s::uuid",
                {"d": district, "new": Jsonb(change), "old": old[table]},
            )
        for table, value in (("incidents", new_incident), ("reports", new_report)):
            await conn.execute(
                f"UPDATE {table} SET geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326) "
                f"WHERE {table[:-1]}_id = %s::uuid",
                (*point, value),
            )
    return Moved(new_incident, new_task, new_report, ref, worker)
