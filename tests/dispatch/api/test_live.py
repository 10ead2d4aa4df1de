"""The live feed's pure parts: what a page is told about a record, and who is told."""

from __future__ import annotations

import asyncio

import orjson

from dispatch.api.live import QUEUE_SIZE, Subscriber, board_item, for_operator, for_worker
from dispatch.scope import CITY, Scope


def test_events_and_escalations_become_board_items() -> None:
    event = {
        "event": {
            "incident_id": "i1",
            "action": "dispatch",
            "to_state": "dispatched",
            "street_code": "500106001",
            "grid_code": "500106001001001",
            "actor_role": "system",
            "at": "2026-11-25T02:00:00+00:00",
            "data": {"secret": "never sent"},
        }
    }
    item = board_item("dispatch.events", orjson.dumps(event))
    assert item is not None and item["kind"] == "event" and item["action"] == "dispatch"
    assert "data" not in item
    escalation = {
        "incident_id": "i2",
        "step": "red",
        "level": "community_lead",
        "street_code": "500106002",
        "target_ids": ["someone"],
        "priority": "P1",
    }
    item = board_item("sla.escalations", orjson.dumps(escalation))
    assert item is not None and item["kind"] == "escalation" and item["step"] == "red"
    assert "target_ids" not in item
    assert board_item("dispatch.events", b"not json") is None
    assert board_item("dispatch.events", b"[1, 2]") is None
    assert board_item("dispatch.events", b'{"task": {}}') is None


def test_a_street_operator_hears_only_their_street_and_resyncs() -> None:
    street = Scope(street="500106001")
    ours = {"kind": "event", "street_code": "500106001"}
    theirs = {"kind": "event", "street_code": "500106002"}
    unplaced = {"kind": "event", "street_code": None}
    assert for_operator(ours, street) and not for_operator(theirs, street)
    assert not for_operator(unplaced, street) and for_operator(unplaced, CITY)
    assert for_operator({"kind": "resync"}, street)


def test_a_district_operator_hears_only_their_district_and_the_city_all() -> None:
    jiulongpo, shapingba = Scope(district="500107"), Scope(district="500106")
    theirs = {"kind": "event", "street_code": "500106002", "grid_code": "500106002001001"}
    escalation = {"kind": "escalation", "street_code": "500107003", "grid_code": None}
    assert not for_operator(theirs, jiulongpo) and for_operator(theirs, shapingba)
    assert for_operator(escalation, jiulongpo) and not for_operator(escalation, shapingba)
    assert for_operator(theirs, CITY) and for_operator(escalation, CITY)


def test_a_case_at_its_districts_centre_reaches_that_districts_operator_only() -> None:
    """An event of a case no grid holds names only its district (dispatch.events' `district_code`):
    its district's operator and the city hear it, another district's and every street operator
    do not; the escalation document names the district the same way."""
    event = {"event": {"incident_id": "i3", "action": "report", "grid_code": None, "street_code": None}}
    for topic, doc in (
        ("dispatch.events", {"event": {**event["event"], "district_code": "500107"}}),
        ("sla.escalations", {"incident_id": "i3", "step": "red", "district_code": "500107"}),
    ):
        item = board_item(topic, orjson.dumps(doc))
        assert item is not None and item["district_code"] == "500107"
        assert for_operator(item, Scope(district="500107")) and for_operator(item, CITY)
        assert not for_operator(item, Scope(district="500106"))
        assert not for_operator(item, Scope(street="500107001"))
    older = board_item("dispatch.events", orjson.dumps(event))  # before events named their district
    assert older is not None and not for_operator(older, Scope(district="500107"))


def test_a_subscriber_that_falls_behind_gets_one_resync() -> None:
    async def run() -> list[dict[str, object]]:
        sub = Subscriber(Scope(street="500106001"))
        for i in range(QUEUE_SIZE + 10):
            sub.offer({"kind": "event", "street_code": "500106001", "n": i})
            sub.offer({"kind": "event", "street_code": "500106002", "n": i})
        return [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]

    items = asyncio.run(run())
    assert items[0] == {"kind": "resync"}
    assert all(i.get("street_code") in (None, "500106001") for i in items)
    assert len(items) < QUEUE_SIZE


def test_a_workers_feed_holds_their_own_tasks_and_reminders_only() -> None:
    task = {"task_id": "t1", "incident_id": "i1", "assignee_id": "w1", "status": "active", "street_code": "s"}
    item = board_item("dispatch.tasks", orjson.dumps({"task": task}))
    assert item is not None and item["kind"] == "task" and for_worker(item, "w1")
    assert not for_worker(item, "w2")
    assert not for_operator(item, CITY)  # the board reads tasks through events
    remind = {
        "incident_id": "i1",
        "task_id": "t1",
        "assignee_id": "w1",
        "target": "assignee",
        "step": "yellow",
    }
    reminder = board_item("sla.escalations", orjson.dumps(remind))
    assert reminder is not None and for_worker(reminder, "w1")
    urge = board_item("sla.escalations", orjson.dumps({**remind, "target": "community_lead"}))
    assert urge is not None and not for_worker(urge, "w1")  # the lead's, not the worker's
    assert for_worker({"kind": "resync"}, "w1")
    sub = Subscriber(CITY, "w1")
    sub.offer(item)
    sub.offer({**item, "assignee_id": "w2"})
    assert sub.queue.qsize() == 1
