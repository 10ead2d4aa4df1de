"""API fixtures: a small world of real cases (made by the real intake) in two streets of 沙坪坝
and one case of 九龙坡 (the district boundary), the app
as the API process builds it (`deploy.processes.api.create_api`: its lifespan, real pool, real
producer, the dead-letter desk wired), and tokens for every kind of caller."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from config.settings import Settings
from deploy.processes.api import create_api
from dispatch.api.auth import ApiRole, Principal, issue_token
from dispatch.cases.boot import connect
from dispatch.notices.flows import NoticeFlows
from dispatch.notices.models import Desk
from dispatch.notices.rules import CaseEventDoc, load_notice_policy
from geo.reference import ReferenceDistrict
from producers.publisher import Publisher
from schemas.dead_letter import Stage, dead_letter
from schemas.report import Report
from tests.casework import (
    JIULONGPO,
    anyio_backend,
    cases,
    cases_engine,
    copy_into_district,
    district,
    engine,
    harness,
    kafka,
    report_in,
)

__all__ = ["JIULONGPO", "anyio_backend", "cases", "cases_engine", "district", "engine", "kafka"]
STREET_A, STREET_B = "500106001", "500106002"
SHAPINGBA = "500106"


@dataclass(frozen=True)
class Case:
    incident_id: str
    task_id: str
    assignee: str
    report: Report


@dataclass(frozen=True)
class World:
    a1: Case  # street A, hotline: the authorisation matrix (stays dispatched)
    a2: Case  # street A, hotline: a worker's flow to closing over HTTP
    a3: Case  # street A, patrol: idempotency and refusals
    b1: Case  # street B, police
    j1: Case  # 九龙坡 (district 500107), police: b1's rows moved there (`_moved_to_jiulongpo`)


def _grids(district: ReferenceDistrict, street: str) -> list[int]:
    return [i for i, g in enumerate(district.grids) if g.street_code == street]


async def _make(settings: Settings, engine: Engine, district: ReferenceDistrict) -> World:
    a, b = _grids(district, STREET_A), _grids(district, STREET_B)
    reports = [
        report_in(district, a[0], category="manhole_cover_missing", source="hotline"),
        report_in(district, a[4], category="water_outage", source="hotline"),
        report_in(district, a[8], category="fallen_tree", source="patrol"),
        report_in(district, b[0], category="road_blocked", source="police"),
    ]
    async with harness(settings, engine) as h:
        ids = await h.report(reports)
        cases = []
        for iid, report in zip(ids, reports, strict=True):
            cur = await h.conn.execute(
                "SELECT current_task_id::text, assignee_id FROM incidents WHERE incident_id = %s", (iid,)
            )
            row = await cur.fetchone()
            assert row is not None and row[0] is not None, "the reference district routes every test case"
            cases.append(Case(iid, row[0], row[1], report))
        j1 = await _moved_to_jiulongpo(h.conn, cases[3])
    return World(*cases, j1)


async def _moved_to_jiulongpo(conn: Any, template: Case) -> Case:
    """b1 in 九龙坡 (`tests.casework.copy_into_district`)."""
    moved = await copy_into_district(conn, template.incident_id)
    report = template.report.model_copy(
        update={"report_id": uuid.UUID(moved.report_id), "source_ref": moved.source_ref}
    )
    return Case(moved.incident_id, moved.task_id, moved.assignee, report)


@pytest.fixture(scope="session")
def world(kafka: Settings, engine: Engine, district: ReferenceDistrict) -> World:
    return asyncio.run(_make(kafka, engine, district))


@pytest.fixture(scope="session")
def client(kafka: Settings, world: World) -> Iterator[TestClient]:
    with TestClient(create_api(kafka)) as c:
        yield c


@dataclass(frozen=True)
class Tokens:
    settings: Settings

    def of(
        self, principal: Principal, *, ttl: timedelta | None = None, now: datetime | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.settings, principal, ttl=ttl, now=now)}"}

    def worker(self, worker_id: str) -> dict[str, str]:
        return self.of(Principal(ApiRole.GRID_WORKER, worker_id))

    def operator(self, street: str | None = None, *, district: str = SHAPINGBA) -> dict[str, str]:
        return self.of(Principal(ApiRole.OPERATOR, f"op-{street or district}", street, district=district))

    def city(self) -> dict[str, str]:
        return self.of(Principal(ApiRole.CITY_OPERATOR, "op-city"))

    def agency(self, source: str) -> dict[str, str]:
        return self.of(Principal(ApiRole.AGENCY, source))

    def volunteer(self, volunteer_id: str, community: str) -> dict[str, str]:
        return self.of(Principal(ApiRole.VOLUNTEER, volunteer_id, community=community))

    def partner(self, partner_id: str) -> dict[str, str]:
        return self.of(Principal(ApiRole.PARTNER, partner_id))

    def desk(self, desk: str) -> dict[str, str]:
        return self.of(Principal(ApiRole.DESK, f"lead-{desk}", desk=desk))

    def expired(self, principal: Principal) -> dict[str, str]:
        return self.of(principal, ttl=timedelta(minutes=5), now=datetime.now(UTC) - timedelta(hours=1))

    def forged(self, principal: Principal) -> dict[str, str]:
        other = self.settings.model_copy(update={"jwt_secret": "not-the-secret-but-just-as-long-as-it-0123"})
        return {"Authorization": f"Bearer {issue_token(other, principal)}"}


@pytest.fixture(scope="session")
def tokens(kafka: Settings) -> Tokens:
    return Tokens(kafka)


@dataclass(frozen=True)
class Notices:
    desk_a: str  # the community lead of a1's community
    desk_b: str
    a1_sent: str  # a notice on a1 not received yet
    a1_received: str  # a notice on a1 received
    b1_received: str


def _escalated(incident: dict[str, object], sequence: int) -> CaseEventDoc:
    """An operator's escalation of the case to its community lead, as `dispatch.events` carries it
    (recorded straight into the notices: the world's cases themselves must not change)."""
    return CaseEventDoc.model_validate(
        {
            "incident_id": incident["incident_id"],
            "sequence": sequence,
            "action": "escalate",
            "actor_id": "op-district",
            "at": datetime.now(UTC).isoformat(),
            "reason": "群众反复投诉",
            "grid_code": incident["grid_code"],
            "street_code": incident["street_code"],
            "data": {"escalation": {"step": "manual", "action": "escalate", "target": "community_lead"}},
        }
    )


async def _notices(settings: Settings, world: World) -> Notices:
    flows = NoticeFlows(load_notice_policy())
    conn = await connect(settings, application_name="yiwang-test")
    try:
        cur = await conn.execute(
            "SELECT incident_id::text, grid_code, street_code FROM incidents "
            "WHERE incident_id = ANY(%s::uuid[])",
            ([world.a1.incident_id, world.b1.incident_id],),
        )
        rows = {
            r[0]: {"incident_id": r[0], "grid_code": r[1], "street_code": r[2]} for r in await cur.fetchall()
        }
        a1, b1 = rows[world.a1.incident_id], rows[world.b1.incident_id]
        a_sent, a_received = (
            await flows.record(conn, [_escalated(a1, 9001)]),
            await flows.record(conn, [_escalated(a1, 9002)]),
        )
        (b_received,) = await flows.record(conn, [_escalated(b1, 9001)])
        desk_a, desk_b = (
            f"community_lead:{str(a1['grid_code'])[:12]}",
            f"community_lead:{str(b1['grid_code'])[:12]}",
        )
        await flows.receive(conn, Desk.parse(desk_a), a_received[0], "lead-a")
        await flows.receive(conn, Desk.parse(desk_b), b_received, "lead-b")
        return Notices(desk_a, desk_b, a_sent[0], a_received[0], b_received)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def world_notices(kafka: Settings, world: World) -> Notices:
    return asyncio.run(_notices(kafka, world))


@dataclass(frozen=True)
class Crew:
    """One active volunteer in a1's community, one in b1's (imported by the district)."""

    a: str
    a_community: str
    b: str
    b_community: str


def phone_number() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


@pytest.fixture(scope="session")
def crew(client: TestClient, world: World, tokens: Tokens) -> Crew:
    op = tokens.operator()
    communities = [
        client.get(f"/incidents/{c.incident_id}", headers=op).json()["incident"]["community_code"]
        for c in (world.a1, world.b1)
    ]
    body = [
        {"name": name, "phone": phone_number(), "community_code": code, "pin": "2468"}
        for name, code in zip(("志愿者甲", "志愿者乙"), communities, strict=True)
    ]
    made = client.post("/volunteers/import", json=body, headers=op)
    assert made.status_code == 201, made.text
    a, b = (v["volunteer_id"] for v in made.json())
    return Crew(a, communities[0], b, communities[1])


@dataclass(frozen=True)
class Scoped:
    """沙坪坝's own resources beside the cases (and one letter that is the city's only), for the
    district rows of the matrix; and a 九龙坡 case at its district's centre (no street,
    community or grid: placed only by its district)."""

    sb_letter: str  # a dead letter of the intake stage whose report lies in 沙坪坝
    city_letter: str  # one whose point lies outside every district loaded: the city's only
    sb_agency_letter: str  # a police record refused by its adapter, its own point fields in 沙坪坝
    mark: str  # the field both letters name (unique to the session)
    sb_worker: str  # an active person of 沙坪坝 (none of the world's cases' streets)
    sb_surge: str  # a surge declared by 沙坪坝's operator over one of its streets, starting later
    unplaced: Case  # 九龙坡's case at its district's centre


async def _unplaced(conn: Any, template: Case) -> Case:
    case = await _moved_to_jiulongpo(conn, template)
    async with conn.transaction():
        await conn.execute(
            "UPDATE incidents SET street_code = NULL, community_code = NULL, grid_code = NULL, "
            "placement_reason = 'no grid holds it: to its district centre' WHERE incident_id = %s::uuid",
            (case.incident_id,),
        )
        await conn.execute(
            "UPDATE tasks SET street_code = NULL, grid_code = NULL WHERE incident_id = %s::uuid",
            (case.incident_id,),
        )
        await conn.execute(
            "UPDATE reports SET grid_code = NULL WHERE incident_id = %s::uuid", (case.incident_id,)
        )
    return case


@pytest.fixture(scope="session")
def scoped(kafka: Settings, engine: Engine, client: TestClient, tokens: Tokens, world: World) -> Scoped:
    mark = f"probe_{uuid.uuid4().hex[:12]}"
    point = world.a1.report.location
    inside = {"location": {"lon": point.lon, "lat": point.lat, "crs": str(point.crs)}, "mark": mark}
    outside = {"location": {"lon": 106.60, "lat": 29.56, "crs": "wgs84"}, "mark": mark}
    letters = [
        dead_letter("hotline", Stage.INTAKE, orjson.dumps(doc), mark, f"{mark}: a probe")
        for doc in (inside, outside)
    ]
    police = {"jjdbh": mark, "ajlb": "0698", "zbx": point.lon, "zby": point.lat, "zbxt": str(point.crs)}
    letters.append(dead_letter("police", Stage.ADAPTER, orjson.dumps(police), mark, f"{mark}: a probe"))
    publisher = Publisher(kafka)
    try:
        for letter in letters:
            publisher.send_dead_letter(letter).get(timeout=30)
    finally:
        publisher.close()
    with engine.connect() as conn:
        worker = conn.execute(
            text(
                "SELECT worker_id FROM workers WHERE active AND district_code = '500106' AND grid_code "
                "IS NOT NULL AND street_code NOT IN (:a, :b) ORDER BY worker_id LIMIT 1"
            ),
            {"a": STREET_A, "b": STREET_B},
        ).scalar_one()
    later = datetime.now(UTC) + timedelta(days=30)
    surge = client.post(
        "/surges",
        headers=tokens.operator(),
        json={
            "warning": "暴雨",
            "level": "红色",
            "area": {"geocodes": [worker[:9]]},
            "starts_at": later.isoformat(),
            "until": (later + timedelta(days=1)).isoformat(),
        },
    )
    assert surge.status_code == 201, surge.text

    async def unplaced() -> Case:
        conn = await connect(kafka, application_name="yiwang-test")
        try:
            return await _unplaced(conn, world.b1)
        finally:
            await conn.close()

    return Scoped(
        sb_letter=str(letters[0].dlq_id),
        city_letter=str(letters[1].dlq_id),
        sb_agency_letter=str(letters[2].dlq_id),
        mark=mark,
        sb_worker=str(worker),
        sb_surge=surge.json()["surge_id"],
        unplaced=asyncio.run(unplaced()),
    )
