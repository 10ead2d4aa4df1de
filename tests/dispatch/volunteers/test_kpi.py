"""The volunteer KPIs on a constructed data set: in one community on one October day, a case a
volunteer resolved on time and one its grid worker resolved; points issued and redeemed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.cases.commands import Command
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.kpi.queries import KpiGroup, kpis
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.scope import Scope
from dispatch.volunteers import service as q
from dispatch.volunteers.flows import VolunteerFlows
from dispatch.volunteers.policy import load_volunteer_policy
from dispatch.volunteers.service import Item
from dispatch.volunteers.values import ItemKind
from geo.reference import ReferenceDistrict
from tests.casework import harness, later, report_in
from tests.dispatch.volunteers.test_flows import PIN

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
T0 = datetime(2025, 10, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Wednesday


async def test_volunteers_share_on_time_rate_and_points(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    by_community: dict[str, list[int]] = {}
    for i, g in enumerate(district.grids):
        by_community.setdefault(g.code[:12], []).append(i)
    community, grids = next(
        (c, g) for c, g in sorted(by_community.items()) if len(g) >= 4 and c[:9] == district.streets[5].code
    )
    async with harness(kafka, engine, now=T0) as h:
        flows = VolunteerFlows(load_volunteer_policy(), h.flows, clock=lambda: h.now[0])
        mine, theirs = await h.report(
            [
                report_in(district, grids[0], category="shared_bikes_disorder", at=T0),
                report_in(district, grids[3], category="exposed_garbage", at=T0),
            ]
        )
        cur = await h.conn.execute(
            "SELECT incident_id::text, assignee_id, community_code FROM incidents "
            "WHERE incident_id = ANY(%s::uuid[])",
            ([mine, theirs],),
        )
        rows = {iid: (w, c) for iid, w, c in await cur.fetchall()}
        assert {c for _, c in rows.values()} == {community}
        v = await flows.register(
            h.conn,
            name="钱七",
            phone="13700001111",
            community=community,
            skills=[],
            pin_hash=PIN,
            approved_by="op",
        )
        later(h, minutes=10)
        await flows.claim(h.conn, mine, v)
        later(h, minutes=40)
        await flows.resolve(h.conn, mine, v, note="已摆放", photos=["p.jpg"])
        later(h, minutes=10)
        await flows.verify(h.conn, mine, Actor(Role.GRID_WORKER, rows[mine][0]), passed=True)
        worker = Actor(Role.GRID_WORKER, rows[theirs][0])
        for action in (Action.ACCEPT, Action.RESOLVE):
            later(h, minutes=5)
            await h.flows.transition(h.conn, theirs, Command(action, worker, note="已清理"))
        item = Item("kpi-soap", community, "肥皂", "Soap", ItemKind.GOODS, 6, 5, "p-shop", True)
        async with h.conn.transaction():
            await q.upsert_item(h.conn, item, at=h.now[0])
        me = await q.volunteer(h.conn, v.volunteer_id)
        assert me is not None
        await flows.redeem(h.conn, me, item.item_id)

        window = {"since": T0 - timedelta(hours=1), "until": T0 + timedelta(days=1)}
        (row,) = [r for r in await kpis(h.conn, group=KpiGroup.COMMUNITY, **window) if r["key"] == community]
        assert (row["resolved"], row["resolved_by_volunteers"]) == (2, 1)
        assert (row["volunteer_share"], row["volunteer_on_time"]) == (0.5, 1.0)
        assert (row["points_issued"], row["points_redeemed"]) == (15, 6)
        (street,) = [
            r for r in await kpis(h.conn, group=KpiGroup.STREET, scope=Scope(street=community[:9]), **window)
        ]
        assert (street["points_issued"], street["points_redeemed"]) == (15, 6)
        grid_rows = await kpis(h.conn, group=KpiGroup.GRID, **window)
        assert all(r["points_issued"] is None for r in grid_rows)  # points have no grid

        metrics = DispatchMetrics.create(registry := CollectorRegistry())
        await metrics.refresh(h.conn, T0 + timedelta(hours=3))
        share = registry.get_sample_value(
            "yiwang_kpi_ratio", {"kpi": "volunteer_share", "street": community[:9]}
        )
        assert share == 0.5
        labels = {"street": community[:9]}
        assert registry.get_sample_value("yiwang_volunteer_points", {"flow": "issued", **labels}) == 15
        assert registry.get_sample_value("yiwang_volunteer_points", {"flow": "redeemed", **labels}) == 6
