"""The return-visit transactions: requests written with each closing, answers recorded, and a
dissatisfied answer about the handling applied as a `reopen` through the case lifecycle.

`on_case_change` is the hook `CaseFlows` runs inside a command's transaction: a `close` writes
one request per original report (its own and those of cases merged into it), so a case is
never closed without its return visits being asked. A rework is a `reopen` by the reporter
(role citizen, actor id the visit id) through `CaseFlows.transition`, so its event, clocks,
routing, outbox and publishing are the lifecycle's; the hook records the answer in that same
transaction, so a case is never reopened without its answer, nor an answer recorded as a
rework whose reopening failed. A same-unit rework names the worker who resolved it; a
street-center rework is routed again and escalated to the street's command center.

After the answer is committed, a hotline report's 回访结果 goes back to 12345 on
`feedback.hotline` in its own reply document (`hotline_reply.visit_reply`); the answer stands
if the broker is away (the closing's document already went through the outbox). Agencies'
replies (`reply`) find the visit by their own reference; the same reply again changes nothing.

Concurrency: two answers that both would reopen serialize on the incident's row lock; the
second finds the case no longer closed (the lifecycle refuses the reopen) and is recorded
without a rework.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from dispatch.cases import queries as cq
from dispatch.cases.commands import Command
from dispatch.cases.documents import Message
from dispatch.cases.flows import CaseFlows, Conn
from dispatch.cases.work import CaseWork
from dispatch.lifecycle.case import Actor, CaseSnapshot
from dispatch.lifecycle.errors import IllegalTransition
from dispatch.lifecycle.states import Action, CaseState, Role
from dispatch.revisits import service as q
from dispatch.revisits.errors import FieldError, NotFound, Refused
from dispatch.revisits.hotline_reply import Reply, visit_reply
from dispatch.revisits.judging import Verdict, judge
from dispatch.revisits.policy import RevisitPolicy
from dispatch.revisits.values import ReworkTarget, Satisfaction, Visit, visit_id_for
from dispatch.sla.ladder import LadderTarget
from schemas.report import Source

log = logging.getLogger(__name__)
_CLOSED = frozenset({CaseState.CLOSED.value, CaseState.VERIFIED.value})
MAX_REASON = 500
REPEATED = "recorded already"  # the verdict on a reply that was recorded before


@dataclass(frozen=True, slots=True)
class Answered:
    visit: Visit
    verdict: Verdict
    state: str  # the case's state after the answer


@dataclass(frozen=True, slots=True)
class _Pending:
    answer: Satisfaction
    reason_code: str | None
    reason: str | None
    channel: str
    rework: ReworkTarget


class RevisitFlows:
    """The return-visit flows of one process, over the policy and the case flows."""

    def __init__(
        self,
        policy: RevisitPolicy,
        cases: CaseFlows,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.policy = policy
        self.cases = cases
        self.clock = clock
        self._reworks: dict[str, _Pending] = {}
        cases.hooks.append(self.on_case_change)

    async def on_case_change(self, conn: Conn, work: CaseWork, before: CaseSnapshot) -> None:
        for event in work.events:
            if event["action"] == Action.CLOSE.value:
                await self._ask(conn, work, int(event["sequence"]))
            elif event["action"] == Action.REOPEN.value and event["actor_role"] == Role.CITIZEN.value:
                visit_id = str(event["actor_id"])
                pending = self._reworks.get(visit_id)
                if pending is None:
                    continue
                stored = await q.visit(conn, visit_id, lock=True)
                if stored is None or stored.answered:
                    raise Refused(f"return visit {visit_id} was answered meanwhile")
                await self._record(conn, visit_id, pending, pending.rework, work.now)

    async def _ask(self, conn: Conn, work: CaseWork, closing: int) -> None:
        reports = (await cq.original_reports(conn, [work.incident_id])).get(work.incident_id, [])
        now = work.now
        await q.insert_visits(
            conn,
            (
                Visit(
                    visit_id=visit_id_for(str(r["report_id"]), closing),
                    incident_id=work.incident_id,
                    report_id=str(r["report_id"]),
                    source=str(r["source"]),
                    source_ref=str(r["source_ref"]),
                    closing=closing,
                    worker_id=work.case.assignee_id,
                    street_code=work.incident.get("street_code"),
                    requested_at=now,
                    due_at=now + self.policy.answer_within,
                )
                for r in reports
            ),
        )

    async def _record(
        self, conn: Conn, visit_id: str, p: _Pending, rework: ReworkTarget | None, at: datetime
    ) -> None:
        await q.record_answer(
            conn,
            visit_id,
            answer=p.answer,
            reason_code=p.reason_code,
            reason=p.reason,
            at=at,
            channel=p.channel,
            rework=rework,
        )

    async def answer(
        self,
        conn: Conn,
        visit_id: str,
        answer: Satisfaction,
        *,
        reason_code: str | None = None,
        reason: str | None = None,
        channel: str,
        at: datetime | None = None,
    ) -> Answered:
        """Record the reporter's answer; a dissatisfied one about the handling reopens the case.
        `at`: when the reporter answered, if an agency says so (else now)."""
        text = (reason or "").strip() or None
        if text is not None and len(text) > MAX_REASON:
            raise FieldError("reason", f"at most {MAX_REASON} characters")
        now = at or self.clock()
        async with conn.transaction():
            visit = await q.visit(conn, visit_id, lock=True)
            if visit is None:
                raise NotFound(f"no return visit {visit_id}")
            state = await q.case_state(conn, visit.incident_id)
            verdict = judge(
                self.policy,
                visit,
                answer,
                reason_code,
                now=now,
                case_closed=state in _CLOSED,
                reworks_so_far=await q.reworks_of(conn, visit.incident_id),
            )
            if verdict.rework is None:
                pending = _Pending(answer, reason_code, text, channel, ReworkTarget.SAME_UNIT)
                await self._record(conn, visit_id, pending, None, now)
        if verdict.rework is not None:
            try:
                state = await self._rework(
                    conn, visit, verdict.rework, _Pending(answer, reason_code, text, channel, verdict.rework)
                )
            except IllegalTransition:  # another answer reopened it first: recorded without a rework
                return await self.answer(
                    conn, visit_id, answer, reason_code=reason_code, reason=reason, channel=channel, at=at
                )
        out = await q.visit(conn, visit_id)
        if out is None:
            raise NotFound(f"no return visit {visit_id}")
        if out.source == Source.HOTLINE.value:
            await self._tell_hotline(conn, out)
        return Answered(out, verdict, state or "")

    async def reply(
        self, conn: Conn, source: str, reply: Reply, *, channel: str, time_field: str = "visitTime"
    ) -> Answered:
        """An agency's return-visit result for one of its own reports (12345 calls the citizen
        itself), by its reference: the latest closing's visit of that report. `time_field`: what
        the caller calls the answer's time, for the refusal of one before the closing."""
        visit = await q.latest_for_source_ref(conn, source, reply.source_ref)
        if visit is None:
            raise NotFound(f"no return visit for {source} {reply.source_ref!r}: not closed, or not ours")
        if reply.at is not None and reply.at < visit.requested_at.replace(
            microsecond=0
        ):  # 12345 writes seconds
            raise FieldError(time_field, f"before the case was closed ({visit.requested_at.isoformat()})")
        if visit.answered and (visit.answer, visit.reason_code) == (reply.answer, reply.reason_code):
            state = await q.case_state(conn, visit.incident_id) or ""
            return Answered(visit, Verdict(None, REPEATED), state)  # a repeat changes nothing
        return await self.answer(
            conn,
            visit.visit_id,
            reply.answer,
            reason_code=reply.reason_code,
            reason=reply.note,
            channel=channel,
            at=reply.at,
        )

    async def _tell_hotline(self, conn: Conn, visit: Visit) -> None:
        closing = await q.closing_event(conn, visit.incident_id, visit.closing)
        if closing is None:
            return
        unit = await cq.street_name(conn, visit.street_code) if visit.street_code else None
        value = visit_reply(visit, self.policy, closing=closing, unit=unit)
        try:
            await self.cases.deliver([Message("feedback.hotline", visit.source_ref.encode(), value)])
        except Exception:  # the answer is recorded; the receipt is not retried
            log.warning("revisits: 回访结果 of %s not sent to 12345", visit.source_ref, exc_info=True)

    async def _rework(self, conn: Conn, visit: Visit, step: ReworkTarget, pending: _Pending) -> str:
        reason = self.policy.reasons[str(pending.reason_code)].zh
        why = f"回访不满意：{reason}" + (f"（{pending.reason}）" if pending.reason else "")
        command = Command(
            Action.REOPEN,
            Actor(Role.CITIZEN, visit.visit_id),
            reason=why,
            assignee=visit.worker_id if step is ReworkTarget.SAME_UNIT else None,
            level=LadderTarget.STREET_CENTER if step is ReworkTarget.STREET_CENTER else None,
        )
        self._reworks[visit.visit_id] = pending
        try:
            outcome = await self.cases.transition(conn, visit.incident_id, command)
        finally:
            del self._reworks[visit.visit_id]
        return str(outcome.incident["state"])
