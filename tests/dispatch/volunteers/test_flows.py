"""The volunteer flows on the real PostGIS, with cases made by the real intake: the loop from
claim to redemption, lapses and hand-overs, and the races that exactly one side must win."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from psycopg import errors
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.api.accounts import hash_secret
from dispatch.cases.boot import connect
from dispatch.cases.commands import Command
from dispatch.cases.flows import CaseNotFound
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.errors import IllegalTransition
from dispatch.lifecycle.states import Action, Role
from dispatch.volunteers import service as q
from dispatch.volunteers.errors import FieldError, NotFound, Refused
from dispatch.volunteers.flows import VolunteerFlows
from dispatch.volunteers.ledger import Entry, EntryKind
from dispatch.volunteers.policy import load_volunteer_policy
from dispatch.volunteers.service import Item, Volunteer
from dispatch.volunteers.values import ItemKind
from geo.reference import ReferenceDistrict
from tests.casework import Harness, harness, later, report_in

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
OPERATOR = Actor(Role.OPERATOR, "op-district")
PIN = hash_secret("2468", salt=b"\1" * 16)


@dataclass
class Scene:
    h: Harness
    flows: VolunteerFlows
    incident_id: str
    worker: str
    community: str


async def _facts(h: Harness, iid: str) -> tuple[str, str]:
    cur = await h.conn.execute(
        "SELECT assignee_id, community_code FROM incidents WHERE incident_id = %s", (iid,)
    )
    row = await cur.fetchone()
    assert row is not None and row[0] and row[1]
    return row[0], row[1]


@asynccontextmanager
async def scene(
    kafka: Settings, engine: Engine, district: ReferenceDistrict, *, grid: int, category: str
) -> AsyncIterator[Scene]:
    async with harness(kafka, engine) as h:
        (iid,) = await h.report(
            [report_in(district, grid, category=category, description="共享单车堆放，张三丰 13812345678")]
        )
        worker, community = await _facts(h, iid)
        yield Scene(
            h,
            VolunteerFlows(load_volunteer_policy(), h.flows, clock=lambda: h.now[0]),
            iid,
            worker,
            community,
        )


async def volunteer(s: Scene, name: str) -> Volunteer:
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    return await s.flows.register(
        s.h.conn,
        name=name,
        phone=phone,
        community=s.community,
        skills=["劝导"],
        pin_hash=PIN,
        approved_by="op-district",
    )


async def test_claim_resolve_verify_earn_and_redeem(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with scene(kafka, engine, district, grid=30, category="shared_bikes_disorder") as s:
        conn = s.h.conn
        pending = await s.flows.register(
            conn,
            name="李四",
            phone=f"137{uuid.uuid4().int % 10**8:08d}",
            community=s.community,
            skills=[],
            pin_hash=PIN,
        )
        assert pending.status == "pending"
        with pytest.raises(Refused, match="not active"):
            await s.flows.active(conn, pending.volunteer_id)
        v = await volunteer(s, "王五")
        listed = {t["incident_id"]: t for t in await s.flows.tasks(conn, v)}
        assert listed[s.incident_id]["status"] == "offered"
        assert not {"description", "reporter", "sources"} & set(listed[s.incident_id])

        later(s.h, minutes=5)
        held = await s.flows.claim(conn, s.incident_id, v)
        assert (held["status"], held["mine"], held["round"]) == ("claimed", True, 1)
        with pytest.raises(FieldError, match="photos"):
            await s.flows.resolve(conn, s.incident_id, v, note="已摆放整齐", photos=[])
        later(s.h, minutes=30)
        out = await s.flows.resolve(conn, s.incident_id, v, note="已摆放整齐", photos=["p-1.jpg"])
        assert out.incident["state"] == "resolved"
        assert [(e["action"], e["actor_role"]) for e in out.events] == [("volunteer_resolve", "volunteer")]
        offer = await q.offer_of(conn, s.incident_id)
        assert offer is not None and offer.status == "resolved"

        # the grid worker may not verify their own work, but may check the volunteer's
        later(s.h, minutes=10)
        out = await s.flows.verify(conn, s.incident_id, Actor(Role.GRID_WORKER, s.worker), passed=True)
        assert out.incident["state"] == "verified"
        me = await q.volunteer(conn, v.volunteer_id)
        assert me is not None and me.balance == 15  # 10 for the category, 5 on time
        entries = await q.entries_of(conn, v.volunteer_id)
        assert [(e.kind, e.points) for e in entries] == [("earn", 10), ("bonus", 5)]
        with pytest.raises(IllegalTransition):  # verifying again changes nothing
            await s.flows.verify(conn, s.incident_id, Actor(Role.GRID_WORKER, s.worker), passed=True)
        async with conn.transaction():
            assert await s.flows.post(conn, entries[0]) is False  # a cause is posted once
        assert (await q.volunteer(conn, v.volunteer_id)).balance == 15  # type: ignore[union-attr]

        item = Item(
            f"soap-{uuid.uuid4().hex[:6]}", s.community, "肥皂", "Soap", ItemKind.GOODS, 12, 3, "p-shop", True
        )
        async with conn.transaction():
            await q.upsert_item(conn, item, at=s.h.now[0])
        request = str(uuid.uuid4())
        done = await s.flows.redeem(conn, me, item.item_id, request)  # type: ignore[arg-type]
        again = await s.flows.redeem(conn, me, item.item_id, request)  # type: ignore[arg-type]
        assert done == again and done["status"] == "pending" and done["points"] == 12
        assert (await q.volunteer(conn, v.volunteer_id)).balance == 3  # type: ignore[union-attr]
        assert (await q.lock_item(conn, item.item_id)).stock == 2  # type: ignore[union-attr]
        with pytest.raises(Refused, match="12 points asked, 3 available"):
            await s.flows.redeem(conn, me, item.item_id)  # type: ignore[arg-type]
        assert (await q.lock_item(conn, item.item_id)).stock == 2  # type: ignore[union-attr]
        with pytest.raises(NotFound):
            await s.flows.fulfil(conn, done["redemption_id"], "p-other")
        fulfilled = await s.flows.fulfil(conn, done["redemption_id"], "p-shop")
        assert fulfilled["status"] == "fulfilled"

        with pytest.raises(Refused, match="5 points asked, 3 available"):  # already spent
            await s.flows.reverse(conn, f"bonus:{s.incident_id}:1", OPERATOR, "核查发现超时")
        assert [e.kind for e in await q.entries_of(conn, v.volunteer_id)] == ["earn", "bonus", "redeem"]
        with pytest.raises(errors.RaiseException, match="append-only"):
            async with conn.transaction():
                await conn.execute(
                    "UPDATE points_entries SET points = 100 WHERE volunteer_id = %s", (v.volunteer_id,)
                )


async def test_two_volunteers_claim_the_same_task_and_exactly_one_wins(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with scene(kafka, engine, district, grid=130, category="exposed_garbage") as s:
        a, b = await volunteer(s, "甲"), await volunteer(s, "乙")
        other = await connect(kafka, application_name="yiwang-test-2")
        try:
            results = await asyncio.gather(
                s.flows.claim(s.h.conn, s.incident_id, a),
                s.flows.claim(other, s.incident_id, b),
                return_exceptions=True,
            )
        finally:
            await other.close()
        won = [r for r in results if isinstance(r, dict)]
        lost = [r for r in results if isinstance(r, Refused)]
        assert len(won) == 1 and len(lost) == 1, results
        offer = await q.offer_of(s.h.conn, s.incident_id)
        assert offer is not None and offer.holder in (a.volunteer_id, b.volunteer_id) and offer.round == 1
        loser = b if offer.holder == a.volunteer_id else a
        with pytest.raises(Refused, match="do not hold"):
            await s.flows.resolve(s.h.conn, s.incident_id, loser, note="x", photos=["p.jpg"])

        # the claim lapses: the task returns, the loser may take it, the first holder may not resolve
        later(s.h, hours=2)
        listed = {t["incident_id"]: t["status"] for t in await s.flows.tasks(s.h.conn, loser)}
        assert listed[s.incident_id] == "offered"
        held = await s.flows.claim(s.h.conn, s.incident_id, loser)
        assert held["round"] == 2
        first = a if loser is b else b
        with pytest.raises(Refused, match="do not hold"):
            await s.flows.resolve(s.h.conn, s.incident_id, first, note="x", photos=["p.jpg"])

        # an operator verifies on the board: the points follow the case transition (round 2's)
        await s.flows.resolve(s.h.conn, s.incident_id, loser, note="已清理", photos=["p.jpg"])
        await s.h.flows.transition(s.h.conn, s.incident_id, Command(Action.VERIFY, OPERATOR))
        causes = [e.cause for e in await q.entries_of(s.h.conn, loser.volunteer_id)]
        assert causes[0] == f"earn:{s.incident_id}:2"
        assert await q.entries_of(s.h.conn, first.volunteer_id) == []


async def test_two_redemptions_of_the_last_item_and_exactly_one_wins(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with scene(kafka, engine, district, grid=230, category="road_dirt") as s:
        a, b = await volunteer(s, "丙"), await volunteer(s, "丁")
        conn = s.h.conn
        for v in (a, b):
            async with conn.transaction():
                await s.flows.post(
                    conn, Entry(v.volunteer_id, f"earn:gift-{v.volunteer_id}", EntryKind.EARN, 50, s.h.now[0])
                )
        item = Item(
            f"last-{uuid.uuid4().hex[:6]}",
            None,
            "最后一件",
            "The last one",
            ItemKind.VOUCHER,
            30,
            1,
            "p-shop",
            True,
        )
        async with conn.transaction():
            await q.upsert_item(conn, item, at=s.h.now[0])
        a, b = (await q.volunteer(conn, a.volunteer_id)), (await q.volunteer(conn, b.volunteer_id))
        assert a is not None and b is not None
        other = await connect(kafka, application_name="yiwang-test-2")
        try:
            results = await asyncio.gather(
                s.flows.redeem(conn, a, item.item_id),
                s.flows.redeem(other, b, item.item_id),
                return_exceptions=True,
            )
        finally:
            await other.close()
        won = [r for r in results if isinstance(r, dict)]
        lost = [r for r in results if isinstance(r, Refused)]
        assert len(won) == 1 and len(lost) == 1, results
        assert "out of stock" in str(lost[0])
        assert (await q.lock_item(conn, item.item_id)).stock == 0  # type: ignore[union-attr]
        balances = sorted([(await q.volunteer(conn, v.volunteer_id)).balance for v in (a, b)])  # type: ignore[union-attr]
        assert balances == [20, 50]  # the winner paid 30, the loser nothing


async def test_a_worker_hands_over_what_is_not_offered_by_itself(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with scene(kafka, engine, district, grid=330, category="street_vending") as s:
        v = await volunteer(s, "戊")
        assert s.incident_id not in {t["incident_id"] for t in await s.flows.tasks(s.h.conn, v)}
        with pytest.raises(NotFound):
            await s.flows.claim(s.h.conn, s.incident_id, v)
        with pytest.raises(NotFound):
            await s.flows.hand(s.h.conn, s.incident_id, Actor(Role.GRID_WORKER, "someone-else"))
        handed = await s.flows.hand(s.h.conn, s.incident_id, Actor(Role.GRID_WORKER, s.worker))
        assert handed["status"] == "offered" and handed["handed_by"] == s.worker
        assert s.incident_id in {t["incident_id"] for t in await s.flows.tasks(s.h.conn, v)}
        await s.flows.claim(s.h.conn, s.incident_id, v)
        await s.flows.resolve(s.h.conn, s.incident_id, v, note="已劝离", photos=["p.jpg"])
        with pytest.raises(CaseNotFound):  # only the holder of the case checks the volunteer's work
            await s.flows.verify(
                s.h.conn, s.incident_id, Actor(Role.GRID_WORKER, "someone-else"), passed=False
            )
        out = await s.flows.verify(
            s.h.conn, s.incident_id, Actor(Role.GRID_WORKER, s.worker), passed=False, reason="摊位仍在"
        )
        assert out.incident["state"] == "rework"
        offer = await q.offer_of(s.h.conn, s.incident_id)
        assert offer is not None and offer.status == "failed"
        assert await q.entries_of(s.h.conn, v.volunteer_id) == []


async def test_an_urgent_case_is_never_handed_to_volunteers(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with scene(kafka, engine, district, grid=430, category="manhole_cover_missing") as s:
        with pytest.raises(Refused, match="not work for volunteers"):
            await s.flows.hand(s.h.conn, s.incident_id, Actor(Role.GRID_WORKER, s.worker))
        v = await volunteer(s, "己")
        with pytest.raises(NotFound):
            await s.flows.claim(s.h.conn, s.incident_id, v)
