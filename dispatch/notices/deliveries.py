"""Delivering notices on their channels: planned with the notice, sent later, recorded always.

Planning: the flow that stores a notice inserts its deliveries (`channels.plan`) in the same
transaction, keyed (notice, channel, recipient): recording a notice twice plans nothing twice.

Sending (`DeliverySender.run_once`), per due delivery:
1. claim it in its own short transaction: `sending`, attempts + 1, and `next_attempt_at` moved a
   lease ahead — committed before anything is sent;
2. send it with its idempotency key, outside any transaction (a receiver that hangs holds no
   lock and no connection);
3. record the outcome: `sent`, or back to `pending` at the backoff's next time, or `failed`
   when out of attempts.
A sender killed between 1 and 3 leaves the delivery `sending`; when its lease runs out, it is
sent again with the same key, which the receiver uses to take it once (the generic SMS API's
`request_id`, email's `Message-ID`). A channel that is down only moves its own deliveries'
next attempt; the tracker, the intake and the other channels never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from psycopg.rows import dict_row

from dispatch.notices import service as sv
from dispatch.notices.channels import ChannelConfig, Planned, plan, render
from dispatch.notices.models import DeliveryState
from dispatch.notices.sinks import SinkError, send

log = logging.getLogger(__name__)


async def plan_deliveries(
    conn: sv.Conn, notices: Iterable[Mapping[str, Any]], config: ChannelConfig, now: datetime
) -> int:
    """Insert the deliveries of freshly stored notices (inside the caller's transaction)."""
    planned = [p for n in notices for p in plan(n, config)]
    if not planned:
        return 0
    cur = await conn.execute(
        "INSERT INTO notice_deliveries (notice_id, channel, recipient, state, next_attempt_at) "
        "SELECT *, 'pending', %s FROM unnest(%s::text[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING",
        (now, [p.notice_id for p in planned], [p.channel for p in planned], [p.recipient for p in planned]),
    )
    return cur.rowcount


@dataclass(frozen=True, slots=True)
class DeliveryMetrics:
    deliveries: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> DeliveryMetrics:
        return cls(
            Counter(
                "yiwang_notice_deliveries_total",
                "Notice messages by channel and outcome (sent, retry, failed)",
                ["channel", "outcome"],
                registry=registry,
            )
        )


@dataclass(frozen=True, slots=True)
class Sent:
    sent: int
    retried: int
    failed: int


class DeliverySender:
    def __init__(
        self,
        config: ChannelConfig,
        metrics: DeliveryMetrics,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.lease = config.retry.lease
        self.clock = clock

    async def _claim(self, conn: sv.Conn, now: datetime, limit: int) -> list[dict[str, Any]]:
        async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "UPDATE notice_deliveries d SET state = 'sending', attempts = d.attempts + 1, "
                "next_attempt_at = %s FROM (SELECT notice_id, channel, recipient FROM notice_deliveries "
                "WHERE state IN ('pending', 'sending') AND next_attempt_at <= %s ORDER BY next_attempt_at "
                "LIMIT %s FOR UPDATE SKIP LOCKED) due WHERE (d.notice_id, d.channel, d.recipient) = "
                "(due.notice_id, due.channel, due.recipient) RETURNING d.notice_id, d.channel, d.recipient, "
                "d.attempts",
                (now + self.lease, now, limit),
            )
            return list(await cur.fetchall())

    async def _record(
        self,
        conn: sv.Conn,
        row: Mapping[str, Any],
        state: DeliveryState,
        at: datetime | None,
        error: str | None,
    ) -> None:
        sent_at = self.clock() if state is DeliveryState.SENT else None
        async with conn.transaction():
            await conn.execute(
                "UPDATE notice_deliveries SET state = %s, sent_at = %s, last_error = %s, "
                "next_attempt_at = coalesce(%s, next_attempt_at) "
                "WHERE notice_id = %s AND channel = %s AND recipient = %s",
                (state.value, sent_at, error, at, row["notice_id"], row["channel"], row["recipient"]),
            )

    async def _one(
        self, row: Mapping[str, Any], notice: Mapping[str, Any]
    ) -> tuple[Mapping[str, Any], str | None]:
        channel = self.config.channels.get(str(row["channel"]))
        if channel is None:
            return row, "the channel is no longer configured"
        planned = {(p.channel, p.recipient): p for p in plan(notice, self.config)}
        target = planned.get((str(row["channel"]), str(row["recipient"])))
        if target is None:
            target = Planned(str(row["notice_id"]), str(row["channel"]), str(row["recipient"]), None)
            if not channel.kind.robot:
                return row, "the recipient is no longer configured on this desk"
        try:
            await send(channel, target, render(notice, self.config))
        except SinkError as exc:
            return row, str(exc)
        return row, None

    async def run_once(self, conn: sv.Conn, *, limit: int = 50) -> Sent:
        """Claim the due deliveries, send them concurrently, record each outcome."""
        now = self.clock()
        claimed = await self._claim(conn, now, limit)
        if not claimed:
            return Sent(0, 0, 0)
        notices = {
            n["notice_id"]: n for n in await sv.by_ids(conn, sorted({r["notice_id"] for r in claimed}))
        }
        results = await asyncio.gather(*(self._one(r, notices[r["notice_id"]]) for r in claimed))
        sent = retried = failed = 0
        for row, error in results:
            if error is None:
                await self._record(conn, row, DeliveryState.SENT, None, None)
                self.metrics.deliveries.labels(row["channel"], "sent").inc()
                sent += 1
                continue
            again = self.config.retry.after(int(row["attempts"]), self.clock())
            state = DeliveryState.PENDING if again is not None else DeliveryState.FAILED
            await self._record(conn, row, state, again, error)
            outcome = "retry" if again is not None else "failed"
            self.metrics.deliveries.labels(row["channel"], outcome).inc()
            log.warning("notices: %s delivery on %s: %s", outcome, row["channel"], error)
            retried += again is not None
            failed += again is None
        return Sent(sent, retried, failed)
