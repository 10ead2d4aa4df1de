"""Agencies' return-visit replies: 12345 calls the citizen after a closing and answers the
return visit of its own work order (满意 / 基本满意 / 不满意 with a reason), by its reference.

The same checks as the `replies.hotline` topic's (dispatch/revisits/hotline_reply.py: the
reason by the policy's words or code) and the same flow as a resident's rating
(`RevisitFlows.reply`): 不满意 about the handling reopens the case by config/revisits.toml.
An agency answers only for its own reports (another's reference: 404, like a missing one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field

from dispatch.api.answers import ERRORS, Problem
from dispatch.api.edge import Body
from dispatch.api.state import Agency, State
from dispatch.revisits.errors import FieldError, NotFound
from dispatch.revisits.hotline_reply import FUTURE_SLACK, reply_of
from dispatch.revisits.values import Satisfaction

router = APIRouter(prefix="/agency", tags=["agency"])
REPLY_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": Problem, "description": "no return visit for this reference (not closed, or not yours)"},
    409: {"model": Problem, "description": "answered otherwise already, or the time to answer is over"},
}


class ReplyIn(Body):
    prose: ClassVar[frozenset[str]] = frozenset({"note"})

    source_ref: str = Field(
        min_length=1, max_length=128, description="your reference (12345: the workOrderNo)"
    )
    answer: str = Field(min_length=1, max_length=24, description="满意, 基本满意 or 不满意 (or their codes)")
    reason: str | None = Field(
        default=None,
        max_length=64,
        description="for 不满意: a reason of GET /r/reasons, by its words or code",
    )
    note: str | None = Field(default=None, max_length=500, description="what the citizen said")
    answered_at: AwareDatetime | None = Field(default=None, description="when the citizen answered")


class ReplyOut(BaseModel):
    answer: Satisfaction
    reopened: bool
    state: str = Field(description="the case's state after the answer")
    note: str


@router.post("/replies", responses=REPLY_ERRORS)
async def reply(body: ReplyIn, caller: Agency, state: State) -> ReplyOut:
    """Answer the return visit of your report's latest closing."""
    if state.revisits is None:
        raise NotFound("return visits are not asked here")
    checked = reply_of(
        state.revisits.policy,
        source_ref=body.source_ref,
        answer=body.answer,
        reason=body.reason,
        note=body.note,
        at=_checked_time(body.answered_at, state.revisits.clock()),
    )
    async with state.pool.connection() as conn:
        out = await state.revisits.reply(
            conn, caller.subject, checked, channel=caller.subject, time_field="answered_at"
        )
    return ReplyOut(
        answer=checked.answer, reopened=out.verdict.rework is not None, state=out.state, note=out.verdict.why
    )


def _checked_time(at: datetime | None, now: datetime) -> datetime | None:
    if at is not None and at > now + FUTURE_SLACK:
        raise FieldError("answered_at", "is in the future")
    return at
