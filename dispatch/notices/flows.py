"""The notices' side effects, one transaction each: record the notices of consumed case events,
receive (签收) and answer (反馈) a notice, climb unreceived ones a rung.

Why notices are made by consuming `dispatch.events` (streams/agents/notices.py) rather than
inside the case flow that writes the escalation: every escalation step, manual escalation and
reassignment is already one event there, with a stable id (`<incident>:<sequence>`); a notice
id is that id plus the desk, inserted with ON CONFLICT DO NOTHING, so a redelivered record
(at-least-once) changes nothing. And the case flows — the SLA tracker and the intake — never
wait on the notices' tables or channels: a notices worker that is slow or down delays the
notices, never the dispatch.

Receiving, answering and climbing each append a `notice_events` row (the notice's part of the
case's history, shown on the case panel) in the same transaction as the state change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from dispatch.codec import iso
from dispatch.notices import service as sv
from dispatch.notices.channels import ChannelConfig
from dispatch.notices.deliveries import plan_deliveries
from dispatch.notices.models import Desk, NoticeAction, NoticeKind, NoticeState
from dispatch.notices.rules import (
    CaseEventDoc,
    Notice,
    NoticeError,
    NoticePolicy,
    advance,
    check_answer,
    climbed,
    notices_for,
)

Conn = sv.Conn
Row = dict[str, Any]


class NoticeNotFound(NoticeError):
    """No such notice on this desk (a notice of another desk looks exactly like none)."""


def stored_notice(row: Row) -> Notice:
    return Notice(
        notice_id=row["notice_id"],
        event_id=row["event_id"],
        incident_id=str(row["incident_id"]),
        kind=NoticeKind(row["kind"]),
        desk=Desk.parse(row["desk"]),
        community_code=row["community_code"],
        street_code=row["street_code"],
        title=row["title"],
        created_at=row["created_at"],
        receive_by=row["receive_by"],
        rung=row["rung"],
        data=dict(row["data"] or {}),
    )


class NoticeFlows:
    def __init__(
        self,
        policy: NoticePolicy,
        *,
        channels: ChannelConfig | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.policy = policy
        self.channels = channels or ChannelConfig()
        self.clock = clock

    async def _store(self, conn: Conn, notices: list[Notice]) -> list[str]:
        """Insert the notices and plan the deliveries of those new (inside a transaction)."""
        fresh = set(await sv.insert_notices(conn, notices))
        await plan_deliveries(
            conn, [n.row() for n in notices if n.notice_id in fresh], self.channels, self.clock()
        )
        return [n.notice_id for n in notices if n.notice_id in fresh]

    async def record(self, conn: Conn, events: Iterable[CaseEventDoc]) -> list[str]:
        """Store the notices the events make; the ids newly stored (a replay stores none).

        An escalation's district center is its case's district's, read from the case row: the
        escalation document names the case's street and community, which a case at its
        district's center (no grid there) or at the city desk does not have."""
        batch = list(events)
        async with conn.transaction():
            escalated = [e.incident_id for e in batch if e.data.escalation is not None]
            districts = await sv.districts_of(conn, escalated)
            notices = [
                n for e in batch for n in notices_for(e, self.policy, district=districts.get(e.incident_id))
            ]
            return await self._store(conn, notices)

    async def _act(
        self, conn: Conn, desk: Desk, notice_id: str, action: NoticeAction, actor_id: str, **fields: Any
    ) -> Row:
        now = self.clock()
        async with conn.transaction():
            row = await sv.lock(conn, notice_id)
            if row is None or row["desk"] != str(desk):
                raise NoticeNotFound(f"notice {notice_id} not found")
            state = advance(NoticeState(row["state"]), action)
            stamp = {"received": "received", "answered": "answered"}[state.value]
            await sv.set_state(
                conn, notice_id, state, **{f"{stamp}_at": now, f"{stamp}_by": actor_id}, **fields
            )
            data = {k: iso(v) if isinstance(v, datetime) else v for k, v in fields.items()}
            await sv.add_event(conn, row, action.value, actor_id=actor_id, at=now, data=data)
            return {**row, "state": state.value, f"{stamp}_at": now, f"{stamp}_by": actor_id, **fields}

    async def receive(self, conn: Conn, desk: Desk, notice_id: str, actor_id: str) -> Row:
        return await self._act(conn, desk, notice_id, NoticeAction.RECEIVE, actor_id)

    async def answer(
        self, conn: Conn, desk: Desk, notice_id: str, actor_id: str, *, what: str, by: datetime
    ) -> Row:
        text = check_answer(what, by, self.clock())
        return await self._act(
            conn, desk, notice_id, NoticeAction.ANSWER, actor_id, answer=text, answer_due=by
        )

    async def climb_due(self, conn: Conn, *, now: datetime | None = None) -> list[str]:
        """Climb every unreceived notice past its limit one rung; the ids of the new notices."""
        at = now or self.clock()
        async with conn.transaction():
            made: list[Notice] = []
            for row in await sv.claim_unreceived(conn, self.policy.climbing, at):
                up = climbed(stored_notice(row), self.policy, at)
                if up is None:
                    continue  # no rung above (the claim leaves the top desks out)
                advance(NoticeState(row["state"]), NoticeAction.CLIMB)
                await sv.set_state(conn, row["notice_id"], NoticeState.CLIMBED, climbed_to=up.notice_id)
                await sv.add_event(
                    conn, row, NoticeAction.CLIMB.value, actor_id="notices", at=at, data={"to": str(up.desk)}
                )
                made.append(up)
            return await self._store(conn, made)
