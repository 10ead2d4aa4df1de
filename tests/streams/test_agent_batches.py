"""The small agents' batch step: retried after a database outage, never acknowledged before."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from streams.agents import batches
from streams.agents.batches import Record, until_handled


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
