"""Transition flows end to end: the real intake creates the case, the flows change it in
PostgreSQL, and the documents are read back from the real broker."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.cases.boot import connect
from dispatch.cases.commands import Command
from dispatch.cases.flows import KeyReused
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.errors import IllegalTransition
from dispatch.lifecycle.states import Action, Role
from geo.reference import ReferenceDistrict
from tests.casework import harness, later, report_in
from tests.producers.helpers import read_topic

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
OPERATOR = Actor(Role.OPERATOR, "op-district")


async def one(conn: Any, sql: str, *args: Any) -> Any:
    cur = await conn.execute(sql, args)
    row = await cur.fetchone()
    return row[0] if row else None


def published(settings: Settings, topic: str, field: str, incident_id: str) -> list[dict[str, Any]]:
    docs = [orjson.loads(v) for _, v, _ in read_topic(settings, settings.topic(topic))]
    return [d[field] for d in docs if field in d and str(d[field]["incident_id"]) == incident_id]


async def test_accept_then_return_routes_again_and_publishes(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        (iid,) = await h.report([report_in(district, 100)])
        incident = await one(
            h.conn, "SELECT to_jsonb(i) - 'geom' FROM incidents i WHERE incident_id = %s", iid
        )
        assert incident["state"] == "dispatched" and incident["revision"] == 1
        worker = incident["assignee_id"]
        first_task = incident["current_task_id"]

        later(h, minutes=5)
        out = await h.flows.transition(h.conn, iid, Command(Action.ACCEPT, Actor(Role.GRID_WORKER, worker)))
        assert out.incident["state"] == "accepted" and out.incident["revision"] == 2
        assert [e["action"] for e in out.events] == ["accept"]
        task = await one(h.conn, "SELECT to_jsonb(t) FROM tasks t WHERE task_id = %s", first_task)
        assert task["accepted_at"] is not None and task["revision"] == 2
        assert out.events[0]["data"]["sla"]["accept"]["late"] is False

        later(h, minutes=1)
        out = await h.flows.transition(
            h.conn, iid, Command(Action.RETURN, Actor(Role.GRID_WORKER, worker), reason="不属于本网格")
        )
        assert [e["action"] for e in out.events] == ["return", "dispatch"]
        assert out.incident["state"] == "dispatched"
        assert out.incident["assignee_id"] not in (None, worker)
        assert out.incident["returns"] == 1
        statuses = {t["task_id"]: t["status"] for t in out.tasks}
        assert statuses[first_task] == "returned"
        assert statuses[out.incident["current_task_id"]] == "active"

        unpublished = await one(
            h.conn, "SELECT count(*) FROM events WHERE incident_id = %s AND published_at IS NULL", iid
        )
        assert unpublished == 0
        revisions = [d["revision"] for d in published(kafka, "incidents", "incident", iid)]
        assert revisions == [1, 2, 3]
        actions = [d["action"] for d in published(kafka, "dispatch.events", "event", iid)]
        assert actions == ["report", "register", "dispatch", "accept", "return", "dispatch"]
        tasks = published(kafka, "dispatch.tasks", "task", iid)
        assert {(t["task_id"], t["status"]) for t in tasks} >= {(first_task, "returned")}


async def test_illegal_transition_writes_nothing(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        (iid,) = await h.report([report_in(district, 200)])
        with pytest.raises(IllegalTransition, match="cannot close a case in state dispatched as operator"):
            await h.flows.transition(h.conn, iid, Command(Action.CLOSE, OPERATOR))
        assert await one(h.conn, "SELECT revision FROM incidents WHERE incident_id = %s", iid) == 1
        assert await one(h.conn, "SELECT count(*) FROM events WHERE incident_id = %s", iid) == 3


async def test_idempotency_key_applies_once(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        (iid,) = await h.report([report_in(district, 300)])
        command = Command(Action.PARK, OPERATOR, reason="等待施工方")
        first = await h.flows.transition(h.conn, iid, command, key="k-1")
        again = await h.flows.transition(h.conn, iid, command, key="k-1")
        assert not first.replayed and again.replayed
        assert again.incident["revision"] == first.incident["revision"] == 2
        assert await one(h.conn, "SELECT count(*) FROM events WHERE incident_id = %s", iid) == 4
        with pytest.raises(KeyReused):
            await h.flows.transition(h.conn, iid, Command(Action.UNPARK, OPERATOR), key="k-1")


async def test_merge_and_close_send_feedback_to_every_source(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        a = report_in(district, 400, source="hotline")
        b = report_in(district, 400, source="citymgmt", category="manhole_cover_missing", offset_m=1000)
        keep, dup = await h.report([a, b])
        assert keep != dup
        later(h, minutes=2)
        out = await h.flows.transition(h.conn, dup, Command(Action.MERGE, OPERATOR, merged_into=keep))
        assert out.incident["state"] == "merged" and out.incident["merged_into"] == keep
        assert all(t["status"] == "cancelled" for t in out.tasks)
        assert await one(h.conn, "SELECT count(*) FROM merge_window WHERE incident_id = %s", dup) == 0
        target = await one(
            h.conn, "SELECT to_jsonb(i) - 'geom' FROM incidents i WHERE incident_id = %s", keep
        )
        assert target["report_count"] == 2 and target["sources"] == ["citymgmt", "hotline"]

        worker = target["assignee_id"]
        me = Actor(Role.GRID_WORKER, worker)
        for action, extra in (
            (Action.ACCEPT, {}),
            (Action.ARRIVE, {}),
            (Action.RESOLVE, {"note": "已补装井盖", "photos": ("obj://p/1.jpg",)}),
        ):
            later(h, minutes=10)
            await h.flows.transition(h.conn, keep, Command(action, me, **extra))
        later(h, minutes=10)
        await h.flows.transition(h.conn, keep, Command(Action.VERIFY, OPERATOR))
        out = await h.flows.transition(h.conn, keep, Command(Action.CLOSE, OPERATOR, reason="核查通过"))
        assert out.incident["state"] == "closed" and out.incident["closed_at"] is not None
        assert out.events[0]["data"]["on_time"] is True, out.events
        assert [t["notes"] for t in out.tasks] == ["已补装井盖"], out.tasks
        assert await one(h.conn, "SELECT count(*) FROM merge_window WHERE incident_id = %s", keep) == 0

        feedback = {
            src: [orjson.loads(v) for _, v, _ in read_topic(kafka, kafka.topic(f"feedback.{src}"))]
            for src in ("hotline", "citymgmt")
        }
        mine = [d for d in feedback["citymgmt"] if d["incident_id"] == keep]
        assert [d["source_ref"] for d in mine] == [b.source_ref]
        for doc in mine:
            assert (
                doc["outcome"] == "closed" and doc["note"] == "核查通过" and doc["resolution"] == "已补装井盖"
            )
            assert doc["closed_at"] and doc["report_id"]
        # 12345 gets its own reply document (dispatch/revisits/hotline_reply.py)
        replies = [r for d in feedback["hotline"] for r in d["replies"] if r["workOrderNo"] == a.source_ref]
        assert [r["handleResult"] for r in replies] == ["已补装井盖；核查通过"]
        assert replies[0]["replyType"] == "办结" and replies[0]["visitResult"] == "待回访"


async def test_relay_publishes_what_a_crash_left(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        (iid,) = await h.report([report_in(district, 500)])
        real = h.flows.send

        async def broker_down(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
            raise ConnectionError("broker unreachable")

        h.flows.send = broker_down
        # in one outer transaction: the session's other relays (the API's, beside these tests)
        # cannot see the left event, so this relay is the one that publishes it
        async with h.conn.transaction():
            await h.flows.transition(h.conn, iid, Command(Action.PARK, OPERATOR, reason="挂账"))
            assert (
                await one(
                    h.conn, "SELECT count(*) FROM events WHERE incident_id = %s AND published_at IS NULL", iid
                )
                == 1
            )
            assert "park" not in [d["action"] for d in published(kafka, "dispatch.events", "event", iid)]
            h.flows.send = real
            while await h.flows.relay(h.conn):
                pass
        (metric,) = h.flows.metrics.relayed.collect()
        samples = metric.samples
        (relayed,) = [s.value for s in samples if s.name.endswith("_total")]
        assert relayed >= 1  # what the dashboard's 补发事件 panel draws
        assert (
            await one(
                h.conn, "SELECT count(*) FROM events WHERE incident_id = %s AND published_at IS NULL", iid
            )
            == 0
        )
        assert "park" in [d["action"] for d in published(kafka, "dispatch.events", "event", iid)]
        assert [d["revision"] for d in published(kafka, "incidents", "incident", iid)][-1] == 2


async def test_a_relay_pass_while_the_writer_delivers_publishes_nothing_twice(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    """Another process's relay (the API's, a second worker's) runs while a command's documents
    are on their way to the broker: it leaves those events to the writer, so the case's feedback
    goes out once."""
    async with harness(kafka, engine) as h:
        report = report_in(district, 520, source="citymgmt")
        (iid,) = await h.report([report])
        other = await connect(kafka, application_name="yiwang-test-relay")
        real = h.flows.send
        relayed: list[int] = []

        async def relay_meanwhile(
            topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
        ) -> Any:
            if not relayed:  # the delivery's first record: committed, not yet marked
                relayed.append(-1)
                relayed[0] = await h.flows.relay(other)
            return await real(topic, key, value, headers)

        h.flows.send = relay_meanwhile
        try:
            await h.flows.transition(h.conn, iid, Command(Action.VOID, OPERATOR, reason="误报"))
        finally:
            h.flows.send = real
            await other.close()
        assert relayed and relayed[0] >= 0  # the relay ran in the window
        feedback = [orjson.loads(v) for _, v, _ in read_topic(kafka, kafka.topic("feedback.citymgmt"))]
        assert [(d["source_ref"], d["outcome"]) for d in feedback if d["incident_id"] == iid] == [
            (report.source_ref, "voided")
        ]
        actions = [d["action"] for d in published(kafka, "dispatch.events", "event", iid)]
        assert actions.count("void") == 1, actions


async def test_a_p0_assist_task_stays_an_assist_when_routed_again(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        (iid,) = await h.report([report_in(district, 550, category="fire", source="fire")])
        incident = await one(
            h.conn, "SELECT to_jsonb(i) - 'geom' FROM incidents i WHERE incident_id = %s", iid
        )
        task = await one(
            h.conn, "SELECT to_jsonb(t) FROM tasks t WHERE task_id = %s", incident["current_task_id"]
        )
        assert task["kind"] == "assist"
        later(h, minutes=1)
        out = await h.flows.transition(
            h.conn,
            iid,
            Command(Action.RETURN, Actor(Role.GRID_WORKER, incident["assignee_id"]), reason="非本网格"),
        )
        new = next(t for t in out.tasks if t["task_id"] == out.incident["current_task_id"])
        assert new["kind"] == "assist" and new["assignee_id"] != incident["assignee_id"]


async def test_an_operator_merge_of_a_more_urgent_case_raises_the_target(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    """Urgency is never lost by a merge by hand either: a P1 case merged into a P3 case leaves
    the target at P1, with its owner clocks restarted under P1 limits and an event saying why."""
    async with harness(kafka, engine) as h:
        slow = report_in(district, 420, source="hotline", category="manhole_cover_damaged")
        fast = report_in(district, 420, source="citymgmt", category="manhole_cover_missing", offset_m=1000)
        keep, dup = await h.report([slow, fast])
        assert keep != dup
        later(h, minutes=2)
        await h.flows.transition(h.conn, dup, Command(Action.MERGE, OPERATOR, merged_into=keep))
        target = await one(
            h.conn, "SELECT to_jsonb(i) - 'geom' FROM incidents i WHERE incident_id = %s", keep
        )
        assert (target["priority"], target["category"]) == ("P1", "manhole_cover_missing")
        assert target["clocks"]["accept"]["budget_s"] == 15 * 60  # P1: accept within 15 minutes
        raised = await one(
            h.conn,
            "SELECT data FROM events WHERE incident_id = %s AND action = 'raise_priority'",
            keep,
        )
        assert raised["raised"]["incident_id"] == dup and raised["raised"]["from"] == "P3"
        window = await one(h.conn, "SELECT priority FROM merge_window WHERE incident_id = %s", keep)
        assert window == "P1"
