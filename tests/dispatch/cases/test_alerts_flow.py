"""CAP warnings through their life, end to end: the real adapter makes the report and the
life-cycle records, the real intake opens the case, the alerts flow applies Update, Cancel and
expiry in PostgreSQL, and the feedback is read back from the real broker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from config.policy import load_taxonomy
from config.settings import Settings
from dispatch.alerts.flows import AlertFlows, AlertMetrics
from dispatch.alerts.restore import restore
from dispatch.alerts.rules import orphan_report
from dispatch.kpi.metrics import DispatchMetrics
from geo.index import load_indexes
from producers.adapters.registry import ADAPTERS
from producers.outcome import Companion, Context
from producers.sources import load_sources
from schemas.cap_record import CAP_TOPIC, CapRecord
from schemas.cap_record import decode as decode_record
from schemas.cap_record import encode as encode_record
from schemas.dead_letter import Origin
from schemas.report import Report, Source, report_id_for
from streams.agents.alerts import AlertsRuntime
from streams.outputs import Outputs
from tests.casework import harness, later
from tests.producers.helpers import SAMPLES, read_topic

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
SENDER = "yjj@spb.cq.gov.cn"


def cap(
    kind: str,
    identifier: str,
    sent: datetime,
    *,
    refs: str = "",
    severity: str = "Extreme",
    expires: datetime | None = None,
    headline: str = "土湾街道燃气管道泄漏",
    circle: str = "29.5461,106.4688 0.3",
) -> bytes:
    """The project's gas-leak sample as another message of a chain."""
    text = (SAMPLES / "emergency" / "gas-circle.xml").read_text("utf-8")
    text = text.replace("SPB-YJ-2025-0601-0007", identifier).replace(
        "2025-06-01T08:10:27+08:00", sent.isoformat()
    )
    text = text.replace("<msgType>Alert</msgType>", f"<msgType>{kind}</msgType>")
    text = text.replace("<severity>Extreme</severity>", f"<severity>{severity}</severity>")
    text = text.replace(
        "<headline>土湾街道燃气管道泄漏，周边 300 米疏散</headline>", f"<headline>{headline}</headline>"
    )
    text = text.replace("29.5461,106.4688 0.3", circle)
    if refs:
        text = text.replace("<scope>Public</scope>", f"<scope>Public</scope><references>{refs}</references>")
    if expires is not None:
        text = text.replace("<headline>", f"<expires>{expires.isoformat()}</expires><headline>")
    return text.encode()


def adapted(data: bytes, now: datetime) -> tuple[list[Report], list[CapRecord]]:
    ctx = Context(load_sources()[Source.EMERGENCY], load_taxonomy(), now, Origin(file="test"))
    outcomes = list(ADAPTERS[Source.EMERGENCY](data, ctx))
    reports = [o for o in outcomes if isinstance(o, Report)]
    records = [decode_record(o.value) for o in outcomes if isinstance(o, Companion)]
    assert len(reports) + len(records) == len(outcomes), outcomes
    return reports, records


async def rows(conn: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    cur = await conn.execute(sql, args)
    return list(await cur.fetchall())


def ref(identifier: str, sent: datetime) -> str:
    return f"{SENDER},{identifier},{sent.isoformat()}"


async def test_alert_update_cancel_ends_as_one_case_withdrawn_with_feedback(
    kafka: Settings, engine: Engine, district: object
) -> None:
    async with harness(kafka, engine) as h:
        alerts = AlertFlows(h.flows, AlertMetrics.create(registry := CollectorRegistry()))
        tag = uuid.uuid4().hex[:8]
        t0 = h.now[0] - timedelta(minutes=10)
        alert_id, update_id, cancel_id = (f"T-{tag}-{n}" for n in ("A", "U", "C"))
        (report,), (alert,) = adapted(cap("Alert", alert_id, t0, severity="Severe"), h.now[0])
        assert report.priority == "P1"  # Immediate × Severe
        _, (update,) = adapted(
            cap(
                "Update",
                update_id,
                t0 + timedelta(minutes=5),
                refs=ref(alert_id, t0),
                headline="燃气泄漏范围扩大",
            ),
            h.now[0],
        )
        # the records can arrive before the intake opened the case: the Update waits for it
        assert await alerts.record(h.conn, [alert, update]) == 2
        waiting = await rows(
            h.conn, "SELECT identifier, state FROM cap_messages WHERE identifier LIKE %s", f"T-{tag}-%"
        )
        assert sorted(waiting) == [(alert_id, "recorded"), (update_id, "pending")]

        (iid,) = await h.report([report])
        later(h, minutes=1)
        assert await alerts.settle(h.conn) == 1
        ((state, description, priority),) = await rows(
            h.conn, "SELECT state, description, priority FROM incidents WHERE incident_id = %s", iid
        )
        assert state == "dispatched" and description.startswith("燃气泄漏范围扩大")
        assert priority == "P0"  # Immediate × Extreme: raised, its clocks tightened
        events = await rows(
            h.conn,
            "SELECT action, actor_role, data FROM events WHERE incident_id = %s ORDER BY sequence",
            iid,
        )
        assert [(a, r) for a, r, _ in events][-2:] == [
            ("source_update", "agency"),
            ("raise_priority", "system"),
        ]
        change = events[-2][2]["update"]
        assert change["before"]["priority"] == "P1" and change["after"]["priority"] == "P0"
        assert change["area"]["circles"][0]["radius_m"] == 300.0

        later(h, minutes=10)
        cancel_sent = t0 + timedelta(minutes=15)
        _, (cancel,) = adapted(
            cap("Cancel", cancel_id, cancel_sent, refs=f"{ref(alert_id, t0)} {ref(update_id, t0)}"), h.now[0]
        )
        await alerts.record(h.conn, [cancel, update])  # the Update again: redelivered, changes nothing
        ((state, closed_at),) = await rows(
            h.conn, "SELECT state, closed_at FROM incidents WHERE incident_id = %s", iid
        )
        assert state == "closed" and closed_at is not None
        last = await rows(
            h.conn,
            "SELECT action, reason FROM events WHERE incident_id = %s ORDER BY sequence DESC LIMIT 1",
            iid,
        )
        assert last[0][0] == "withdraw" and last[0][1].startswith("cancelled by the source")
        statuses = await rows(h.conn, "SELECT status, end_reason FROM tasks WHERE incident_id = %s", iid)
        assert statuses and all(
            s == "cancelled" and r.startswith("cancelled by the source") for s, r in statuses
        )
        states = await rows(
            h.conn,
            "SELECT identifier, state, incident_id::text FROM cap_messages WHERE identifier LIKE %s",
            f"T-{tag}-%",
        )
        assert sorted(states) == [
            (alert_id, "recorded", None),
            (cancel_id, "applied", iid),
            (update_id, "applied", iid),
        ]
        one_case = await rows(
            h.conn, "SELECT count(DISTINCT incident_id) FROM reports WHERE source_ref LIKE %s", f"T-{tag}-%"
        )
        assert one_case == [(1,)]

        feedback = [orjson.loads(v) for _, v, _ in read_topic(kafka, kafka.topic("feedback.emergency"))]
        (mine,) = [d for d in feedback if d["incident_id"] == iid]
        assert (mine["source_ref"], mine["outcome"]) == (alert_id, "cancelled by the source")
        counted = registry.get_sample_value(
            "yiwang_cap_messages_total", {"msg_type": "Cancel", "outcome": "applied"}
        )
        assert counted == 1.0


async def test_an_update_whose_point_lies_in_another_grid_re_places_the_case_there(
    kafka: Settings, engine: Engine, district: object
) -> None:
    async with harness(kafka, engine) as h:
        alerts = AlertFlows(h.flows, AlertMetrics.create(CollectorRegistry()))  # layers from the DB
        tag = uuid.uuid4().hex[:8]
        t0 = h.now[0] - timedelta(minutes=10)
        alert_id, update_id = f"G-{tag}-A", f"G-{tag}-U"
        (report,), (alert,) = adapted(cap("Alert", alert_id, t0), h.now[0])
        (iid,) = await h.report([report])
        ((grid_before,),) = await rows(h.conn, "SELECT grid_code FROM incidents WHERE incident_id = %s", iid)
        layer = load_indexes(engine).at(h.now[0])
        far = next(g for g in reversed(layer.grids) if g.code != grid_before)
        p = far.geometry.representative_point()
        _, (update,) = adapted(
            cap(
                "Update",
                update_id,
                t0 + timedelta(minutes=5),
                refs=ref(alert_id, t0),
                circle=f"{p.y},{p.x} 0.1",
            ),
            h.now[0],
        )
        assert update.location is not None
        there = layer.locate(float(update.location["lon"]), float(update.location["lat"]))
        assert there.grid_code not in (None, grid_before)
        later(h, minutes=1)
        await alerts.record(h.conn, [alert, update])
        ((grid, street, community),) = await rows(
            h.conn,
            "SELECT grid_code, street_code, community_code FROM incidents WHERE incident_id = %s",
            iid,
        )
        assert (grid, street, community) == (there.grid_code, there.street_code, there.community_code)
        events = await rows(
            h.conn, "SELECT action, data FROM events WHERE incident_id = %s ORDER BY sequence", iid
        )
        actions = [a for a, _ in events]
        assert actions.index("source_update") < actions.index("rehome")
        (moved,) = [d["rehome"] for a, d in events if a == "rehome"]
        assert (moved["from"]["grid_code"], moved["to"]["grid_code"]) == (grid_before, there.grid_code)

        # the same point again (a redelivered or a second Update there) moves nothing more
        _, (again,) = adapted(
            cap(
                "Update",
                f"G-{tag}-V",
                t0 + timedelta(minutes=6),
                refs=ref(alert_id, t0),
                circle=f"{p.y},{p.x} 0.2",
            ),
            h.now[0],
        )
        await alerts.record(h.conn, [again])
        after = await rows(
            h.conn, "SELECT count(*) FROM events WHERE incident_id = %s AND action = 'rehome'", iid
        )
        assert after == [(1,)]

        # withdrawn, so later tests' alerts at the first point do not join this case
        _, (cancel,) = adapted(
            cap("Cancel", f"G-{tag}-C", t0 + timedelta(minutes=7), refs=ref(alert_id, t0)), h.now[0]
        )
        await alerts.record(h.conn, [cancel])
        assert await rows(h.conn, "SELECT state FROM incidents WHERE incident_id = %s", iid) == [("closed",)]


async def test_ack_and_error_are_recorded_and_an_expired_alert_closes_or_lapses(
    kafka: Settings, engine: Engine, district: object
) -> None:
    async with harness(kafka, engine) as h:
        alerts = AlertFlows(h.flows, AlertMetrics.create(CollectorRegistry()))
        tag = uuid.uuid4().hex[:8]
        t0 = h.now[0] - timedelta(minutes=10)
        soon = h.now[0] + timedelta(minutes=30)
        (waits,), (waiting,) = adapted(cap("Alert", f"E-{tag}-W", t0, expires=soon), h.now[0])
        (sent,), (dispatched,) = adapted(
            cap("Alert", f"E-{tag}-D", t0, expires=soon, circle="29.5800,106.4300 0.3"), h.now[0]
        )
        _, (ack,) = adapted(cap("Ack", f"E-{tag}-K", t0, refs=ref(f"E-{tag}-W", t0)), h.now[0])
        _, (error,) = adapted(cap("Error", f"E-{tag}-E", t0, refs=ref(f"E-{tag}-W", t0)), h.now[0])
        assert h.intake.service is not None
        rules = h.intake.service.rules
        rules.triage = frozenset({"emergency"})  # this alert waits for an operator: nobody dispatched
        try:
            (kept,) = await h.report([waits])
        finally:
            rules.triage = frozenset()
        (went,) = await h.report([sent])
        await alerts.record(h.conn, [waiting, dispatched, ack, error])
        recorded = await rows(
            h.conn,
            "SELECT identifier, state FROM cap_messages WHERE identifier LIKE %s ORDER BY identifier",
            f"E-{tag}-%",
        )
        assert recorded == [
            (f"E-{tag}-D", "active"),
            (f"E-{tag}-E", "recorded"),
            (f"E-{tag}-K", "recorded"),
            (f"E-{tag}-W", "active"),
        ]
        assert await rows(h.conn, "SELECT count(*) FROM reports WHERE source_ref LIKE %s", f"E-{tag}-%") == [
            (2,)
        ]

        assert await alerts.expire_due(h.conn) == 0  # not yet
        later(h, minutes=31)
        assert await alerts.expire_due(h.conn) == 1
        states = dict(
            await rows(
                h.conn,
                "SELECT incident_id::text, state FROM incidents WHERE incident_id = ANY(%s::uuid[])",
                [kept, went],
            )
        )
        assert states == {kept: "closed", went: "dispatched"}
        outcomes = await rows(
            h.conn,
            "SELECT identifier, state, outcome FROM cap_messages WHERE identifier = ANY(%s) "
            "ORDER BY identifier",
            [f"E-{tag}-D", f"E-{tag}-W"],
        )
        assert outcomes == [
            (f"E-{tag}-D", "lapsed", "expired while dispatched"),
            (f"E-{tag}-W", "expired", "expired with nothing dispatched"),
        ]
        feedback = [orjson.loads(v) for _, v, _ in read_topic(kafka, kafka.topic("feedback.emergency"))]
        assert [d["outcome"] for d in feedback if d["incident_id"] == kept] == ["expired"]


async def test_the_alerts_agent_records_a_batch_and_dead_letters_what_is_not_a_record(
    kafka: Settings, engine: Engine, district: object
) -> None:
    outputs = Outputs(kafka)
    runtime = AlertsRuntime(
        kafka, outputs, AlertMetrics.create(CollectorRegistry()), DispatchMetrics.create(CollectorRegistry())
    )
    tag = uuid.uuid4().hex[:8]
    at = datetime.now(UTC)
    _, (ack,) = adapted(cap("Ack", f"K-{tag}", at, refs=ref(f"K-{tag}-x", at)), at)
    topic = kafka.topic(CAP_TOPIC)
    try:
        new = await runtime.handle([(topic, 0, 1, encode_record(ack)), (topic, 0, 2, b'{"sender": 1}')])
        assert new == 1
        await runtime.tick()  # the timer pass runs on the same connection
        _, conn = await runtime.ready()
        cur = await conn.execute("SELECT state FROM cap_messages WHERE identifier = %s", (f"K-{tag}",))
        assert await cur.fetchall() == [("recorded",)]
    finally:
        await runtime.reset()
        await outputs.stop()
    letters = [orjson.loads(v) for _, v, _ in read_topic(kafka, kafka.topic("reports.dlq"))]
    (letter,) = [
        d
        for d in letters
        if d["stage"] == "alerts" and d["origin"].get("topic") == topic and d["origin"].get("offset") == 2
    ]
    assert letter["source"] == "emergency" and letter["field"]


def at_grid(district: Any, index: int) -> tuple[float, float]:
    p = district.grids[index].geometry.representative_point()
    return float(p.x), float(p.y)


async def test_an_orphan_update_opens_its_own_case_and_an_orphan_cancel_is_recorded(
    kafka: Settings, engine: Engine, district: Any
) -> None:
    async with harness(kafka, engine) as h:
        alerts = AlertFlows(h.flows, AlertMetrics.create(registry := CollectorRegistry()))
        tag = uuid.uuid4().hex[:8]
        t0 = h.now[0] - timedelta(minutes=10)
        lon, lat = at_grid(district, 410)
        never, update_id = f"O-{tag}-A", f"O-{tag}-U"  # the Alert was before our time
        _, (update,) = adapted(
            cap("Update", update_id, t0, refs=ref(never, t0 - timedelta(hours=1)), circle=f"{lat},{lon} 0.2"),
            h.now[0],
        )
        assert await alerts.record(h.conn, [update]) == 1
        # its report went to the intake's topic, as an Alert's does: read back from the broker
        published = [
            Report.model_validate_json(v)
            for _, v, headers in read_topic(kafka, kafka.topic("reports.emergency"))
            if headers.get("schema") == b"report.v1"
        ]
        (report,) = [r for r in published if update_id.encode() in r.raw.text.encode()]
        # under its Alert's reference and report id: that Alert, arriving late, joins this case
        assert (report.source_ref, report.report_id) == (never, report_id_for("emergency", never))
        ((state, outcome),) = await rows(
            h.conn, "SELECT state, outcome FROM cap_messages WHERE identifier = %s", update_id
        )
        assert state == "pending" and "were never seen: opened a case of its own" in outcome
        assert await alerts.settle(h.conn) == 0  # waits for the intake's case, publishes nothing again

        (iid,) = await h.report([report])
        later(h, minutes=1)
        assert await alerts.settle(h.conn) == 1
        ((action, reason, data),) = await rows(
            h.conn,
            "SELECT action, reason, data FROM events WHERE incident_id = %s ORDER BY sequence DESC LIMIT 1",
            iid,
        )
        assert action == "source_update" and f"{SENDER},{never}" in reason and "never seen" in reason
        assert data["orphan"]["references"][0]["identifier"] == never
        assert await rows(
            h.conn, "SELECT state, incident_id::text FROM cap_messages WHERE identifier = %s", update_id
        ) == [("applied", iid)]
        republished = [
            v for _, v, _ in read_topic(kafka, kafka.topic("reports.emergency")) if update_id.encode() in v
        ]
        assert len(republished) == 1

        # a second orphan Update of the chain, naming only the unseen Alert, changes this case
        _, (second,) = adapted(
            cap(
                "Update",
                f"O-{tag}-V",
                t0 + timedelta(minutes=2),
                refs=ref(never, t0 - timedelta(hours=1)),
                headline="燃气泄漏已控制",
                circle=f"{lat},{lon} 0.2",
            ),
            h.now[0],
        )
        await alerts.record(h.conn, [second])
        assert await rows(
            h.conn, "SELECT state, incident_id::text FROM cap_messages WHERE identifier = %s", f"O-{tag}-V"
        ) == [("applied", iid)]
        ((description,),) = await rows(
            h.conn, "SELECT description FROM incidents WHERE incident_id = %s", iid
        )
        assert description.startswith("燃气泄漏已控制")
        # the chain goes on: a Cancel naming only the lost Alert ends the case its Updates made
        _, (cancel,) = adapted(
            cap("Cancel", f"O-{tag}-C", t0 + timedelta(minutes=5), refs=ref(never, t0)), h.now[0]
        )
        await alerts.record(h.conn, [cancel])
        assert await rows(h.conn, "SELECT state FROM incidents WHERE incident_id = %s", iid) == [("closed",)]
        # the Alert arrives late (a worker that was behind): its report is the case's already
        (late,), (late_record,) = adapted(
            cap("Alert", never, t0 - timedelta(hours=1), circle=f"{lat},{lon} 0.2"), h.now[0]
        )
        assert await h.report([late]) == [iid]
        await alerts.record(h.conn, [late_record])
        assert await rows(
            h.conn, "SELECT count(DISTINCT incident_id) FROM reports WHERE source_ref LIKE %s", f"O-{tag}-%"
        ) == [(1,)]

        # a Cancel whose alert was never seen opens nothing and is recorded as such
        lost = f"O-{tag}-X"
        _, (orphan_cancel,) = adapted(cap("Cancel", lost, t0, refs=ref(f"O-{tag}-gone", t0)), h.now[0])
        await alerts.record(h.conn, [orphan_cancel])
        ((state, outcome, report_id),) = await rows(
            h.conn, "SELECT state, outcome, report_id FROM cap_messages WHERE identifier = %s", lost
        )
        assert (state, report_id) == ("recorded", None) and "never seen: nothing to withdraw" in outcome
        assert await rows(h.conn, "SELECT count(*) FROM reports WHERE source_ref = %s", lost) == [(0,)]
        assert (
            registry.get_sample_value(
                "yiwang_cap_messages_total", {"msg_type": "Cancel", "outcome": "recorded"}
            )
            == 1.0
        )


async def test_an_orphan_update_naming_another_sender_waits_before_it_opens_a_case(
    kafka: Settings, engine: Engine, district: Any
) -> None:
    async with harness(kafka, engine) as h:
        alerts = AlertFlows(h.flows, AlertMetrics.create(CollectorRegistry()))
        tag = uuid.uuid4().hex[:8]
        t0 = h.now[0] - timedelta(minutes=10)
        update_id = f"P-{tag}-U"
        _, (update,) = adapted(
            cap("Update", update_id, t0, refs=f"cma@weather.cn,P-{tag}-A,{t0.isoformat()}"), h.now[0]
        )
        update = update.model_copy(update={"received_at": h.now[0]})
        await alerts.record(h.conn, [update])
        assert await rows(
            h.conn, "SELECT state, report_id FROM cap_messages WHERE identifier = %s", update_id
        ) == [("pending", None)]  # the other sender's Alert may be on another partition still
        later(h, seconds=alerts.policy.orphan_after.total_seconds() + 1)
        await alerts.settle(h.conn)
        ((outcome,),) = await rows(
            h.conn, "SELECT outcome FROM cap_messages WHERE identifier = %s", update_id
        )
        assert outcome.endswith("opened a case of its own")


async def test_an_update_that_moves_the_case_moves_where_later_reports_merge(
    kafka: Settings, engine: Engine, district: Any
) -> None:
    async with harness(kafka, engine) as h:
        alerts = AlertFlows(h.flows, AlertMetrics.create(CollectorRegistry()))
        tag = uuid.uuid4().hex[:8]
        t0 = h.now[0] - timedelta(minutes=10)
        (old_lon, old_lat), (new_lon, new_lat) = at_grid(district, 300), at_grid(district, 640)
        alert_id = f"M-{tag}-A"
        (report,), (alert,) = adapted(cap("Alert", alert_id, t0, circle=f"{old_lat},{old_lon} 0.1"), h.now[0])
        (iid,) = await h.report([report])
        ((street_before,),) = await rows(
            h.conn, "SELECT street_code FROM merge_window WHERE incident_id = %s", iid
        )
        _, (update,) = adapted(
            cap(
                "Update",
                f"M-{tag}-U",
                t0 + timedelta(minutes=2),
                refs=ref(alert_id, t0),
                circle=f"{new_lat},{new_lon} 0.1",
            ),
            h.now[0],
        )
        later(h, minutes=1)
        await alerts.record(h.conn, [alert, update])
        ((x, y),) = await rows(
            h.conn, "SELECT ST_X(geom), ST_Y(geom) FROM merge_window WHERE incident_id = %s", iid
        )
        assert (round(x, 6), round(y, 6)) == (round(new_lon, 6), round(new_lat, 6))
        ((street_window, street_case),) = await rows(
            h.conn,
            "SELECT m.street_code, i.street_code FROM merge_window m JOIN incidents i USING (incident_id) "
            "WHERE incident_id = %s",
            iid,
        )
        assert street_window == street_case != street_before  # re-placed: the window's street too

        # a later warning at the old point is a case of its own; one at the new point joins this one
        (at_old,), _ = adapted(
            cap("Alert", f"M-{tag}-old", t0 + timedelta(minutes=4), circle=f"{old_lat},{old_lon} 0.1"),
            h.now[0],
        )
        (at_new,), _ = adapted(
            cap("Alert", f"M-{tag}-new", t0 + timedelta(minutes=4), circle=f"{new_lat},{new_lon} 0.1"),
            h.now[0],
        )
        old_case, new_case = await h.report([at_old, at_new])
        assert old_case != iid and new_case == iid

        for n, case_ref in enumerate((alert_id, f"M-{tag}-old")):  # withdrawn: later tests start clean
            _, (cancel,) = adapted(
                cap("Cancel", f"M-{tag}-C{n}", t0 + timedelta(minutes=6), refs=ref(case_ref, t0)), h.now[0]
            )
            await alerts.record(h.conn, [cancel])


CAP_ROW = (
    "SELECT sender, identifier, msg_type, state, sent, expires, received_at, report_id::text, "
    "incident_id::text, record FROM cap_messages WHERE identifier LIKE %s ORDER BY identifier"
)


async def test_the_rows_restored_from_the_records_and_the_cases_are_the_rows_the_flow_wrote(
    kafka: Settings, engine: Engine, district: Any
) -> None:
    async with harness(kafka, engine) as h:
        alerts = AlertFlows(h.flows, AlertMetrics.create(CollectorRegistry()))
        tag = uuid.uuid4().hex[:8]
        t0 = h.now[0] - timedelta(minutes=10)
        soon = h.now[0] + timedelta(minutes=20)
        here = [at_grid(district, i) for i in (120, 220, 520, 720)]

        def msg(kind: str, name: str, *, refs: str = "", at: int = 0, **extra: Any) -> Any:
            return adapted(
                cap(kind, f"R-{tag}-{name}", t0 + timedelta(minutes=at), refs=refs, **extra), h.now[0]
            )

        def to(name: str, at: int = 0) -> str:
            return ref(f"R-{tag}-{name}", t0 + timedelta(minutes=at))

        circle = [f"{lat},{lon} 0.1" for lon, lat in here]
        (chain,), (a,) = msg("Alert", "A", circle=circle[0])
        _, (u,) = msg("Update", "U", refs=to("A"), at=1, headline="范围扩大", circle=circle[0])
        _, (c,) = msg("Cancel", "C", refs=f"{to('A')} {to('U', 1)}", at=2)
        _, (orphan,) = msg("Update", "OU", refs=to("lost"), at=1, circle=circle[1])
        _, (orphan_cancel,) = msg("Cancel", "OC", refs=to("gone"), at=1)
        _, (ack,) = msg("Ack", "K", refs=to("A"), at=1)
        (lapsing,), (x,) = msg("Alert", "X", expires=soon, circle=circle[2])
        (_unseen,), (w,) = msg("Alert", "W", circle=circle[3])  # its report never reached the intake
        _, (waits,) = msg("Update", "WU", refs=to("W"), at=1, circle=circle[3])
        await h.report([chain])
        assert h.intake.service is not None
        h.intake.service.rules.triage = frozenset({"emergency"})  # nobody dispatched: it expires
        try:
            (xid,) = await h.report([lapsing])
        finally:
            h.intake.service.rules.triage = frozenset()
        later(h, minutes=1)
        await alerts.record(h.conn, [a, u, orphan, orphan_cancel, ack, x, w, waits])
        opened = orphan_report(orphan)  # what the flow published for it
        assert opened is not None
        await h.report([opened])
        later(h, minutes=1)
        await alerts.record(h.conn, [c])
        later(h, minutes=30)
        assert await alerts.expire_due(h.conn) == 1
        before = await rows(h.conn, CAP_ROW, f"R-{tag}-%")
        states = {i.rsplit("-", 1)[1]: s for _, i, _, s, *_ in before}
        assert states == {
            "A": "recorded",
            "U": "applied",
            "C": "applied",
            "OU": "applied",
            "OC": "recorded",
            "K": "recorded",
            "X": "expired",
            "W": "recorded",
            "WU": "pending",
        }
        assert await rows(h.conn, "SELECT state FROM incidents WHERE incident_id = %s", xid) == [("closed",)]

        await h.conn.execute("DELETE FROM cap_messages WHERE identifier LIKE %s", (f"R-{tag}-%",))
        records = [a, u, c, orphan, orphan_cancel, ack, x, w, waits, u]  # a redelivery too
        assert await restore(h.conn, records, h.now[0], alerts.policy) == 9
        assert await rows(h.conn, CAP_ROW, f"R-{tag}-%") == before
        # the chain's case was withdrawn by its Cancel; the orphan's is withdrawn too (later tests)
        _, (end,) = msg("Cancel", "OE", refs=to("OU", 1), at=3)
        await alerts.record(h.conn, [end])
