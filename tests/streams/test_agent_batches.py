"""The small agents' batch step: retried after a database outage or an attempt that hangs, never
committed before; the notices agent's look at a record's action; a batch's commit offsets."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from streams.agents import batches
from streams.agents.batches import Record, until_handled
from streams.agents.notices import makes_no_notice
from streams.batch_consumer import ends_of, place_of


def test_a_batch_is_handed_again_after_the_database_was_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "RETRY_S", 0.0)
    calls: list[list[Record]] = []
    resets = 0

    async def handle(records: list[Record]) -> int:
        calls.append(records)
        if len(calls) < 3:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return len(records)

    async def reset() -> None:
        nonlocal resets
        resets += 1

    records: list[Record] = [("t", 0, 7, b"a"), ("t", 1, 9, b"b")]
    assert asyncio.run(until_handled("test", handle, reset, records)) == 2
    assert calls == [records] * 3 and resets == 2


def test_any_other_failure_is_not_swallowed() -> None:
    async def handle(records: list[Record]) -> int:
        raise ValueError("a bug met on a record")

    async def reset() -> None:
        raise AssertionError("reset only for a database outage")

    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(until_handled("test", handle, reset, []))


def test_a_timer_pass_skips_a_tick_when_the_database_is_away() -> None:
    resets = 0

    async def away() -> int:
        raise psycopg.OperationalError("connection refused")

    async def ok() -> int:
        return 3

    async def reset() -> None:
        nonlocal resets
        resets += 1

    assert asyncio.run(batches.one_pass("test", "climb", away, reset)) is None and resets == 1
    assert asyncio.run(batches.one_pass("test", "climb", ok, reset)) == 3 and resets == 1


async def _forever() -> None:
    await asyncio.Event().wait()


def test_an_attempt_that_hangs_is_cancelled_reset_and_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "RETRY_S", 0.0)
    monkeypatch.setattr(batches, "ATTEMPT_S", 0.05)
    calls = 0
    resets = 0

    async def handle(records: list[Record]) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            await _forever()  # a send waiting for a partition leader that never comes back
        return len(records)

    async def reset() -> None:
        nonlocal resets
        resets += 1

    async def run() -> int:  # without the bound, the first attempt never returns
        return await asyncio.wait_for(until_handled("test", handle, reset, [("t", 0, 1, b"a")]), 5)

    assert asyncio.run(run()) == 1
    assert calls == 2 and resets == 1


def test_a_timer_pass_that_hangs_is_given_up_until_the_next_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "ATTEMPT_S", 0.05)
    resets = 0

    async def hangs() -> int:
        await _forever()
        return 1

    async def reset() -> None:
        nonlocal resets
        resets += 1

    async def run() -> int | None:
        return await asyncio.wait_for(batches.one_pass("test", "climb", hangs, reset), 5)

    assert asyncio.run(run()) is None and resets == 1


@pytest.mark.parametrize(
    ("value", "skipped"),
    [
        (b'{"event": {"action": "register", "incident_id": "x"}}', True),
        (b'{"event":{"sequence":1,"action":"dispatch","data":{"action":"escalate"}}}', True),
        (b'{"event": {"action": "escalate"}}', False),
        (b'{"event": {"action": "reassign"}}', False),
        (b'{"event": {"action": "\\u0065scalate"}}', False),  # JSON escapes are read as JSON
        (b'{"event": {"incident_id": "x"}}', False),  # no action: read in full, dead-lettered
        (b'{"event": {"action": 3}}', False),
        (b"not json", False),
        (b"", False),
    ],
)
def test_only_a_readable_action_that_makes_no_notice_is_skipped_unread(value: bytes, skipped: bool) -> None:
    assert makes_no_notice(value) is skipped


def test_a_batch_commits_one_past_the_last_offset_of_each_partition() -> None:
    records: list[Record] = [("t", 0, 7, b""), ("t", 0, 8, b""), ("t", 1, 3, b""), ("u", 0, 0, b"")]
    ends = {(tp.topic, tp.partition): end for tp, end in ends_of(records, place_of).items()}
    assert ends == {("t", 0): 9, ("t", 1): 4, ("u", 0): 1}
