"""The intake's read-ahead serves the partitions in turn (streams/read_ahead.py): the batch
shares, the pauses of a partition holding more than its share, and, through the real broker
and faust, a quiet partition's record handed out within a few batches of a bursting partition's
backlog, with every record of both handed out exactly once across the pauses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer
from kafka.admin import NewTopic

from config.settings import Settings, child_environment
from deploy.topics import admin_client
from streams.lag import group_lag
from streams.read_ahead import HeldEvents, shares

REPO = Path(__file__).resolve().parents[2]
BACKLOG, BATCH = 3000, 100


def test_a_batch_takes_every_partitions_share_and_a_short_queue_all_it_holds() -> None:
    assert shares([1, 2000, 3], 1000) == [1, 996, 3]
    assert shares([400, 400, 400], 1000) == [333, 333, 334]
    assert sum(shares([7, 9, 11], 20)) == 20 and shares([7, 9, 11], 100) == [7, 9, 11]


def test_a_quiet_partition_is_in_the_next_batch_whatever_a_busy_one_holds() -> None:
    held: HeldEvents[str, tuple[str, int]] = HeldEvents(hold=BATCH)
    paused = [held.add("busy", ("busy", i)) for i in range(5 * BATCH)]
    assert paused.index(True) == BATCH - 1 and all(paused[BATCH - 1 :])  # from a batch on
    assert not held.add("quiet", ("quiet", 0))  # a partition with few records is never paused
    batch, resume = held.take(BATCH)
    assert ("quiet", 0) in batch and batch[:3] == [("busy", 0), ("busy", 1), ("busy", 2)]
    assert resume == set()  # still more than a batch held
    while len(held) >= BATCH:
        batch, resume = held.take(BATCH)
    assert resume == {"busy"} and held.paused == set()
    taken = [i for _, i in batch]
    assert taken == sorted(taken)  # arrival order within a partition


def test_a_rebalance_forgets_the_pauses() -> None:
    held: HeldEvents[str, int] = HeldEvents(hold=2)
    assert [held.add("busy", i) for i in range(3)] == [False, True, True]
    held.forget_pauses()
    assert held.add("busy", 3)  # paused again in the new generation
    with pytest.raises(ValueError, match="hold"):
        HeldEvents(hold=0)


@pytest.fixture
def two_partitions(kafka: Settings, unique: str) -> Iterator[str]:
    topic = kafka.topic(f"read-ahead-{unique}")
    admin = admin_client(kafka)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=kafka.replication_factor)])
    try:
        yield topic
    finally:
        admin.delete_topics([topic], raise_errors=False)
        admin.close()


def _run(
    kafka: Settings, topic: str, group: str, *, lanes: str | None, after: int
) -> tuple[list[dict[str, Any]], bool]:
    """The read-ahead app over a `BACKLOG` on partition 0; one record sent to partition 1 once
    `after` batches are done. Its batches, and whether it saw every offset committed."""
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all", linger_ms=5)
    body = b"x" * 1000  # about a report's size: a fetch brings ~1,000 of them
    for i in range(BACKLOG):
        producer.send(topic, key=b"busy", value=body + str(i).encode(), partition=0)
    producer.flush()
    env = child_environment(kafka, os.environ) | {
        "READ_AHEAD_TOPIC": topic,
        "READ_AHEAD_GROUP": group,
        "READ_AHEAD_EXPECT": str(BACKLOG + 1),
        "READ_AHEAD_BATCH": str(BATCH),
        "READ_AHEAD_BATCH_S": "0.1",
        **({"READ_AHEAD_LANES": lanes} if lanes else {}),
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "tests.streams.read_ahead_app"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert app.stdout is not None
    batches: list[dict[str, Any]] = []
    committed = False
    deadline = time.monotonic() + 90
    try:
        for line in app.stdout:
            committed = committed or line.startswith(b"committed")
            at = line.find(b"batch {")
            if at < 0:
                continue  # faust's own output
            batches.append(orjson.loads(line[at + 6 :]))
            if len(batches) == after:  # the backlog is being worked off: now the quiet record
                producer.send(topic, key=b"quiet", value=b"q", partition=1).get(timeout=10)
            assert time.monotonic() < deadline, f"{len(batches)} batches in 90 s"
    finally:
        producer.close()
        app.kill()
        app.wait()
    assert app.returncode in (0, -9), app.returncode
    seen = sorted(tuple(r) for b in batches for r in b["records"])
    assert seen == [(0, o) for o in range(BACKLOG)] + [(1, 0)]  # each once, none skipped
    return batches, committed


@pytest.mark.kafka
def test_a_quiet_partition_waits_behind_a_batch_or_two_of_a_backlog(
    kafka: Settings, two_partitions: str, unique: str
) -> None:
    batches, _ = _run(kafka, two_partitions, f"read-ahead-{unique}", lanes=None, after=3)
    quiet_in = next(i for i, b in enumerate(batches) if [1, 0] in b["records"])
    # behind the batch in hand and what one poll hands out, never the backlog (29 batches)
    assert quiet_in - 3 <= 4, [len(b["records"]) for b in batches]


@pytest.mark.kafka
def test_a_lane_works_its_record_while_another_lanes_backlog_is_worked(
    kafka: Settings, two_partitions: str, unique: str
) -> None:
    """Each partition a lane: the quiet lane's batch runs while a batch of the backlog's lane is
    in hand (one lane's batches never overlap: without lanes this cannot hold), before the
    backlog is done; every record once, and every offset committed to the end."""
    group = f"read-ahead-lanes-{unique}"
    batches, committed = _run(kafka, two_partitions, group, lanes="0;1", after=3)
    (quiet,) = [b for b in batches if [1, 0] in b["records"]]
    busy = [b for b in batches if b is not quiet]
    overlapping = [b for b in busy if b["began"] < quiet["ended"] and quiet["began"] < b["ended"]]
    assert overlapping, "the quiet lane's batch waited for the backlog's batches"
    assert quiet["ended"] < busy[-1]["began"]  # done while the backlog was still being worked
    assert all(a["ended"] <= b["began"] for a, b in pairwise(busy))  # one at a time
    assert quiet["records"] == [[1, 0]]  # its own batch, not a share of the backlog's
    assert (
        committed
        and sum(group_lag(kafka.bootstrap_servers, kafka.topic(group), [two_partitions]).values()) == 0
    )
