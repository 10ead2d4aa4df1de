"""What an answer to a return visit does: pure, so the flows and the tests share one rule.

- an answered visit, or one whose time is over (未回访成功), takes no answer;
- 不满意 needs a reason the policy knows; 满意 / 基本满意 may carry one as a comment;
- 不满意 for a reason about the handling reopens the case (返工) if the case is still closed
  (another report's answer may have reopened it already) and the policy has a rework step left:
  the n-th such reopening of a case goes to the policy's n-th step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dispatch.revisits.errors import FieldError, Refused
from dispatch.revisits.policy import RevisitPolicy
from dispatch.revisits.values import ReworkTarget, Satisfaction, Visit, VisitStatus


@dataclass(frozen=True, slots=True)
class Verdict:
    rework: ReworkTarget | None  # None: recorded, the case stays as it is
    why: str  # for the record and the reporter


def judge(
    policy: RevisitPolicy,
    visit: Visit,
    answer: Satisfaction,
    reason_code: str | None,
    *,
    now: datetime,
    case_closed: bool,
    reworks_so_far: int,
) -> Verdict:
    """The verdict on `answer` to `visit` at `now`; refusals raise (nothing is recorded)."""
    status = visit.status_at(now)
    if status is VisitStatus.ANSWERED:
        raise Refused(f"return visit {visit.visit_id} is answered already")
    if status is VisitStatus.NOT_REACHED:
        ended = visit.due_at.isoformat()
        raise Refused(f"return visit {visit.visit_id}: the time to answer ended at {ended}")
    reason = policy.reasons.get(reason_code) if reason_code else None
    if reason_code and reason is None:
        raise FieldError("reason_code", f"one of {', '.join(policy.reasons)}, not {reason_code!r}")
    if answer is not Satisfaction.DISSATISFIED:
        return Verdict(None, "recorded")
    if reason is None:
        raise FieldError("reason_code", f"不满意 needs a reason: one of {', '.join(policy.reasons)}")
    if not reason.handling:
        return Verdict(None, f"recorded; {reason.zh} is not about the handling, the case stays closed")
    if not case_closed:
        return Verdict(None, "recorded; the case is already being handled again")
    step = policy.rework_step(reworks_so_far)
    if step is None:
        return Verdict(None, f"recorded; the policy allows {len(policy.rework)} rework(s), all used")
    return Verdict(step, f"reopened (返工 {reworks_so_far + 1}: {step.value})")
