"""Notices end to end on the real broker and PostGIS: a case escalated through the real case
flows publishes its events on `dispatch.events`; the notices runtime reads those records as the
agent does, stores the notices once, and a desk receives and answers them; an unreceived 督办
climbs; a case at its district's center (no street) notifies that center on its channel; a bad
record goes to the DLQ."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.cases.commands import Command
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.notices import service as sv
from dispatch.notices.channels import Channel, ChannelConfig, ChannelKind
from dispatch.notices.deliveries import DeliveryMetrics, DeliverySender
from dispatch.notices.flows import NoticeFlows, NoticeNotFound
from dispatch.notices.models import Desk, DeskLevel, NoticeKind
from dispatch.notices.rules import CaseEventDoc, NoticeRefused, load_notice_policy
from dispatch.sla.ladder import LadderTarget
from geo.reference import ReferenceDistrict
from schemas.dead_letter import decode
from schemas.report import Crs, Location
from streams.agents.notices import NoticesRuntime
from streams.outputs import Outputs
from streams.read import records_to_end
from tests.casework import harness, later, report_in
from tests.dispatch.notices.receivers import http_receiver

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
OPERATOR = Actor(Role.OPERATOR, "op-district")
SUPERVISE = {"step": "district", "action": "supervise", "target": "community_lead"}
OUTSIDE = Location(lon=106.60, lat=29.56, crs=Crs.WGS84)  # Yuzhong, east of the district's outline


def event_records(settings: Settings, incident_id: str) -> list[tuple[str, int, int, bytes]]:
    topic = settings.topic("dispatch.events")
    out = []
    for r in records_to_end(settings.bootstrap_servers, topic, timeout_s=20):
        if orjson.loads(r.value)["event"]["incident_id"] == incident_id:
            out.append((topic, r.partition, r.offset, r.value))
    return out


async def test_an_escalation_reaches_the_desk_once_and_is_received_and_answered(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    outputs = Outputs(kafka)
    runtime = NoticesRuntime(kafka, outputs)
    async with harness(kafka, engine) as h:
        runtime.flows = NoticeFlows(load_notice_policy(), clock=lambda: h.now[0])
        (iid,) = await h.report([report_in(district, 40)])
        later(h, minutes=20)
        await h.flows.transition(
            h.conn,
            iid,
            Command(Action.ESCALATE, OPERATOR, reason="群众反复投诉", level=LadderTarget.COMMUNITY_LEAD),
        )
        records = event_records(kafka, iid)
        assert await runtime.handle(records) == 1
        assert await runtime.handle(records) == 0  # redelivered: nothing new
        community = district.grids[40].code[:12]
        desk = Desk(DeskLevel.COMMUNITY_LEAD, community)
        (notice,) = [n for n in await sv.inbox(h.conn, desk) if n["incident_id"] == iid]  # others' cases too
        assert notice["kind"] == "manual" and notice["state"] == "sent"
        assert notice["description"] and notice["lon"] is not None

        other = Desk(DeskLevel.COMMUNITY_LEAD, "500106099099")
        with pytest.raises(NoticeNotFound):
            await runtime.flows.receive(h.conn, other, notice["notice_id"], "someone")
        with pytest.raises(NoticeRefused):
            await runtime.flows.answer(
                h.conn, desk, notice["notice_id"], "lead", what="马上处理", by=h.now[0] + timedelta(hours=2)
            )
        later(h, minutes=7)
        await runtime.flows.receive(h.conn, desk, notice["notice_id"], "lead")
        later(h, minutes=3)
        await runtime.flows.answer(
            h.conn,
            desk,
            notice["notice_id"],
            "lead",
            what="今天下午派人处理",
            by=h.now[0] + timedelta(hours=4),
        )
        (done,) = await sv.of_incident(h.conn, iid)
        assert done["state"] == "answered" and done["answer"] == "今天下午派人处理"
        events = (await sv.history(h.conn, [notice["notice_id"]]))[notice["notice_id"]]
        assert [e["action"] for e in events] == ["receive", "answer"]
        kpi = {r["desk"]: r for r in await sv.kpi(h.conn, h.now[0] - timedelta(days=1))}
        assert kpi[str(desk)]["receive_min"] == 7.0 and kpi[str(desk)]["answer_min"] == 10.0
    await outputs.stop()


async def test_an_unreceived_supervision_climbs_to_the_street_center(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    policy = load_notice_policy()
    async with harness(kafka, engine) as h:
        flows = NoticeFlows(policy, clock=lambda: h.now[0])
        (iid,) = await h.report([report_in(district, 41)])
        out = await h.flows.transition(
            h.conn, iid, Command(Action.ESCALATE, OPERATOR, reason="督办", level=LadderTarget.COMMUNITY_LEAD)
        )
        # the same event read as a 督办 step addressed to the community lead (the shipped ladder's
        # 督办 goes to the district center already; a deployment's ladder may start it lower)
        event = out.events[0] | {"data": {"escalation": out.events[0]["data"]["escalation"] | SUPERVISE}}
        supervise = CaseEventDoc.model_validate(event)
        (made,) = await flows.record(h.conn, [supervise])
        assert await flows.climb_due(h.conn, now=h.now[0] + timedelta(minutes=29)) == []
        (up,) = await flows.climb_due(h.conn, now=h.now[0] + policy.receive_within[NoticeKind.SUPERVISE])
        assert up == made + "^"
        street = Desk(DeskLevel.STREET_CENTER, district.grids[41].street_code)
        # that street's inbox holds this case's climbed notice (other tests' cases may be there too)
        mine = [n["notice_id"] for n in await sv.inbox(h.conn, street) if n["incident_id"] == iid]
        assert mine == [up]
        (old,) = [n for n in await sv.of_incident(h.conn, iid) if n["notice_id"] == made]
        assert old["state"] == "climbed" and old["climbed_to"] == up


async def test_a_case_at_its_districts_center_notifies_that_center_on_its_channel(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    outputs = Outputs(kafka)
    runtime = NoticesRuntime(kafka, outputs)
    center = Desk(DeskLevel.DISTRICT_CENTER, district.code)
    with http_receiver() as http:
        robot = Channel("center-robot", ChannelKind.WECOM, url=f"{http.url}/cgi-bin/webhook/send?key=center")
        channels = ChannelConfig({robot.name: robot}, by_desk={str(center): (robot.name,)})
        async with harness(kafka, engine) as h:
            runtime.flows = NoticeFlows(load_notice_policy(), channels=channels, clock=lambda: h.now[0])
            (iid,) = await h.report([report_in(district, 42).model_copy(update={"location": OUTSIDE})])
            cur = await h.conn.execute(
                "SELECT district_code, street_code FROM incidents WHERE incident_id = %s", (iid,)
            )
            assert await cur.fetchone() == (district.code, None)  # 属地兜底: no street
            later(h, minutes=30)
            level = LadderTarget.DISTRICT_CENTER
            await h.flows.transition(
                h.conn, iid, Command(Action.ESCALATE, OPERATOR, reason="督办", level=level)
            )
            assert await runtime.handle(event_records(kafka, iid)) == 1
            (notice,) = await sv.of_incident(h.conn, iid)
            assert (notice["desk"], notice["kind"]) == (str(center), "manual")
            sender = DeliverySender(
                channels, DeliveryMetrics.create(CollectorRegistry()), clock=lambda: h.now[0]
            )
            await sender.run_once(h.conn)
            cur = await h.conn.execute(
                "SELECT channel, state FROM notice_deliveries WHERE notice_id = %s", (notice["notice_id"],)
            )
            assert await cur.fetchall() == [(robot.name, "sent")]
    (message,) = http.on("/cgi-bin/webhook/send")
    assert "人工提级：督办" in message.body["text"]["content"]
    await outputs.stop()


async def test_a_record_that_is_not_an_event_goes_to_the_dlq(kafka: Settings) -> None:
    outputs = Outputs(kafka)
    runtime = NoticesRuntime(kafka, outputs)
    topic = kafka.topic("dispatch.events")
    no_sequence = b'{"event": {"incident_id": "6f1c0e0e-0000-4000-8000-000000000001"}}'
    event = {
        "incident_id": "x",
        "sequence": 1,
        "action": "escalate",
        "actor_id": "sla",
        "at": "2026-11-25T02:00Z",
    }
    bad_id = orjson.dumps({"event": event})
    assert await runtime.handle([(topic, 0, 12345, no_sequence), (topic, 0, 12346, bad_id)]) == 0
    await outputs.stop()
    letters = [decode(r.value) for r in records_to_end(kafka.bootstrap_servers, kafka.topic("reports.dlq"))]
    mine = {d.origin.offset: d for d in letters if d.stage == "notices" and d.origin.offset in (12345, 12346)}
    assert mine[12345].field == "event.sequence" and "event.sequence" in mine[12345].reason
    assert mine[12346].field == "event.incident_id" and "UUID" in mine[12346].reason
