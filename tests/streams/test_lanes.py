"""The intake's lanes (streams/lanes.py): the assignor's split, pure; and on the real broker, two
lanes' consumers in one group, a quiet lane's record handled while another lane's batch hangs
with a backlog behind it (issue 22: what one consumer for every partition could not do)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from kafka import KafkaProducer
from kafka.admin import NewTopic

from config.report_partitions import ReportPartitions, load_report_partitions
from config.settings import Settings
from deploy.topics import admin_client
from streams.batch_consumer import BatchConsumer, Record
from streams.lag import total_lag
from streams.lanes import DEFAULT_LANE, LaneAssignor, assign_lanes, lane_of, lanes_of

SHARES = ReportPartitions({"500106": range(0, 2), "500107": range(2, 4), "city": range(4, 6)})
TOPICS = [f"reports.{s}" for s in ("police", "hotline", "fire", "resident")]


def _members(workers: int, topics: list[str] = TOPICS) -> dict[str, tuple[str, frozenset[str]]]:
    return {
        f"w{w}-{lane or 'default'}": (lane, frozenset(topics))
        for w in range(workers)
        for lane in lanes_of(SHARES)
    }


def test_every_partition_goes_once_to_a_member_of_its_lane_spread_over_the_workers() -> None:
    members = _members(2)
    assigned = assign_lanes(SHARES, dict.fromkeys(TOPICS, 6), members)
    seen = Counter((t, p) for topics in assigned.values() for t, ps in topics.items() for p in ps)
    assert seen == Counter({(t, p): 1 for t in TOPICS for p in range(6)})
    for member, topics in assigned.items():
        lane = members[member][0]
        assert all(lane_of(SHARES, 6, p) == lane for ps in topics.values() for p in ps)
    per_member = {m: sum(len(ps) for ps in topics.values()) for m, topics in assigned.items()}
    # each worker's member of a lane: one of the lane's two partitions of every topic
    assert per_member == {m: 0 if members[m][0] == DEFAULT_LANE else len(TOPICS) for m in members}


def test_a_topic_too_small_for_the_ranges_goes_to_the_default_lane() -> None:
    assigned = assign_lanes(
        SHARES, {"reports.police": 6, "small": 3}, _members(1, ["reports.police", "small"])
    )
    assert assigned["w0-default"] == {"small": [0, 1, 2]}
    assert all("small" not in topics for m, topics in assigned.items() if m != "w0-default")


def test_a_lane_without_members_falls_to_the_default_lane_then_to_anyone_subscribed() -> None:
    t = frozenset({"t"})
    only_default = assign_lanes(SHARES, {"t": 6}, {"d": (DEFAULT_LANE, t), "a": ("500106", t)})
    assert only_default == {"d": {"t": [2, 3, 4, 5]}, "a": {"t": [0, 1]}}
    no_default = assign_lanes(SHARES, {"t": 6}, {"a": ("500106", t), "b": ("500107", t)})
    assert no_default["a"]["t"][:2] == [0, 1] and no_default["b"]["t"][:2] == [2, 3]
    assert sorted(no_default["a"]["t"] + no_default["b"]["t"]) == list(range(6))


def test_a_member_gets_only_topics_it_subscribed_to() -> None:
    members = {"a1": ("500106", frozenset({"t"})), "a2": ("500106", frozenset({"t", "u"}))}
    assigned = assign_lanes(SHARES, {"t": 6, "u": 6}, members)
    assert set(assigned["a1"]) == {"t"} and assigned["a2"]["u"] == list(range(6))


def test_the_shipped_ranges_make_a_lane_each_and_the_default() -> None:
    shares = load_report_partitions()
    assert lanes_of(shares) == [*shares.ranges, DEFAULT_LANE]
    assert {lane_of(shares, shares.needed, p) for p in range(shares.needed)} == set(shares.ranges)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def topic(kafka: Settings) -> Iterator[str]:
    name = kafka.topic(f"lanes-{uuid.uuid4().hex[:8]}")
    admin = admin_client(kafka)
    admin.create_topics([NewTopic(name, 6, kafka.replication_factor)])
    yield name
    admin.delete_topics([name])
    admin.close()


@pytest.mark.anyio
@pytest.mark.kafka
async def test_a_quiet_lanes_record_is_handled_while_another_lane_has_a_backlog(
    kafka: Settings, topic: str
) -> None:
    group = kafka.topic(f"lanes-{uuid.uuid4().hex[:8]}")
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    for i in range(3000):  # Shapingba's burst: partitions 0-1
        producer.send(topic, f"busy-{i}".encode(), partition=i % 2)
    producer.flush()
    hung = asyncio.Event()
    release = asyncio.Event()
    handled: dict[str, list[Record]] = {"500106": [], "500107": []}
    quiet_seen = asyncio.Event()

    def reader(lane: str) -> BatchConsumer:
        async def handle(records: list[Record]) -> None:
            if lane == "500106" and not release.is_set():
                hung.set()
                await release.wait()  # the busy lane's batch in hand hangs, its backlog behind it
            handled[lane].extend(records)
            if lane == "500107":
                quiet_seen.set()

        async def drop() -> None:
            pass

        return BatchConsumer(
            bootstrap_servers=kafka.bootstrap_servers,
            topic=topic,
            group=group,
            handle=handle,
            drop=drop,
            max_records=100,
            within_s=0.05,
            assignor=LaneAssignor(lane, SHARES),
            client_id=f"{group}-{lane}",
        )

    busy, quiet = reader("500106"), reader("500107")
    city = reader("city")
    await busy.start()
    await quiet.start()
    await city.start()
    try:
        await asyncio.wait_for(hung.wait(), timeout=60)
        producer.send(topic, b"quiet-0", partition=2)  # Jiulongpo's report, during the burst
        producer.flush()
        await asyncio.wait_for(quiet_seen.wait(), timeout=60)
        assert [r[3] for r in handled["500107"]] == [b"quiet-0"]
        assert not handled["500106"]  # the busy lane still has its first batch in hand
        assert busy.consumer is not None and quiet.consumer is not None
        assert {tp.partition for tp in busy.consumer.assignment()} == {0, 1}
        assert {tp.partition for tp in quiet.consumer.assignment()} == {2, 3}
        release.set()
        for _ in range(240):
            if await asyncio.to_thread(total_lag, kafka.bootstrap_servers, group, [topic]) == 0:
                break
            await asyncio.sleep(0.25)
        assert {r[3] for r in handled["500106"]} == {f"busy-{i}".encode() for i in range(3000)}
    finally:
        release.set()
        producer.close()
        for r in (busy, quiet, city):
            await r.stop()
