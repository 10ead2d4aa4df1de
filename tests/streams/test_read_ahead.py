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
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer
from kafka.admin import NewTopic

from config.settings import Settings, child_environment
from deploy.topics import admin_client
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


@pytest.mark.kafka
def test_a_quiet_partition_waits_behind_a_batch_or_two_of_a_backlog(
    kafka: Settings, two_partitions: str, unique: str
) -> None:
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all", linger_ms=5)
    body = b"x" * 1000  # about a report's size: a fetch brings ~1,000 of them
    for i in range(BACKLOG):
        producer.send(two_partitions, key=b"busy", value=body + str(i).encode(), partition=0)
    producer.flush()
    env = child_environment(kafka, os.environ) | {
        "READ_AHEAD_TOPIC": two_partitions,
        "READ_AHEAD_GROUP": f"read-ahead-{unique}",
        "READ_AHEAD_EXPECT": str(BACKLOG + 1),
        "READ_AHEAD_BATCH": str(BATCH),
        "READ_AHEAD_BATCH_S": "0.1",
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "tests.streams.read_ahead_app"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert app.stdout is not None
    batches: list[list[tuple[int, int]]] = []
    sent_after = None
    deadline = time.monotonic() + 90
    try:
        for line in app.stdout:
            at = line.find(b"batch [")
            if at < 0:
                continue  # faust's own output
            batches.append([(p, o) for p, o in orjson.loads(line[at + 6 :])])
            if len(batches) == 3:  # the backlog is being worked off: now the quiet record
                producer.send(two_partitions, key=b"quiet", value=b"q", partition=1).get(timeout=10)
                sent_after = len(batches)
            assert time.monotonic() < deadline, f"{len(batches)} batches in 90 s"
    finally:
        producer.close()
        app.kill()
        app.wait()
    assert sent_after is not None and app.returncode in (0, -9), app.returncode
    seen = [r for b in batches for r in b]
    assert sorted(seen) == [(0, o) for o in range(BACKLOG)] + [(1, 0)]  # each once, none skipped
    quiet_in = next(i for i, b in enumerate(batches) if (1, 0) in b)
    # behind the batch in hand and what one poll hands out, never the backlog (29 batches)
    assert quiet_in - sent_after <= 4, [len(b) for b in batches]
