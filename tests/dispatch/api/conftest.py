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

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from config.settings import Settings
from deploy.processes.api import create_api
from dispatch.api.auth import ApiRole, Principal, issue_token
from dispatch.cases.boot import connect
from dispatch.notices.flows import NoticeFlows
from dispatch.notices.models import Desk
from dispatch.notices.rules import CaseEventDoc, load_notice_policy
from geo.reference import ReferenceDistrict
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
