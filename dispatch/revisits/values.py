"""Return visits as values: the answers, a visit's status, where a rework goes.

A visit's status is stored as `pending` or `answered`; 未回访成功 (not reached) is derived from
the time (`status_at`), so no sweep has to run for the KPIs or the pages to be right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


ZH: dict[Satisfaction, str] = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.BASICALLY_SATISFIED: "基本满意",
    Satisfaction.DISSATISFIED: "不满意",
}
"""The words of 12345's reply document and of the resident page."""


def parse_satisfaction(text: str) -> Satisfaction | None:
    """An answer in either vocabulary (the API's code or 12345's words), else None.

    >>> parse_satisfaction("基本满意").value, parse_satisfaction("dissatisfied").value
    ('basically_satisfied', 'dissatisfied')
    >>> parse_satisfaction("好") is None
    True
    """
    word = text.strip()
    for value, zh in ZH.items():
        if word in (value.value, zh):
            return value
    return None


class VisitStatus(StrEnum):
    PENDING = "pending"  # asked, not answered, still in time
    ANSWERED = "answered"
    NOT_REACHED = "not_reached"  # 未回访成功: no answer within the policy's time (derived)


class ReworkTarget(StrEnum):
    SAME_UNIT = "same_unit"  # back to the worker who resolved it
    STREET_CENTER = "street_center"  # routed again and escalated to the street's command center


@dataclass(frozen=True, slots=True)
class Visit:
    """One return-visit request: one report of one closing of a case (`closing`: the close
    event's sequence, so a case closed again after a rework asks again)."""

    visit_id: str
    incident_id: str
    report_id: str
    source: str
    source_ref: str
    closing: int
    worker_id: str | None
    street_code: str | None
    requested_at: datetime
    due_at: datetime
    answered: bool = False
    answer: Satisfaction | None = None
    reason_code: str | None = None
    reason: str | None = None
    answered_at: datetime | None = None
    rework: ReworkTarget | None = None

    def status_at(self, now: datetime) -> VisitStatus:
        return status_at(answered=self.answered, due_at=self.due_at, now=now)


def status_at(*, answered: bool, due_at: datetime, now: datetime) -> VisitStatus:
    """A visit's status at `now`: 未回访成功 once its time is over unanswered."""
    if answered:
        return VisitStatus.ANSWERED
    return VisitStatus.PENDING if now < due_at else VisitStatus.NOT_REACHED


def visit_id_for(report_id: str, closing: int) -> str:
    """The idempotency key of a request: a replayed close asks nothing twice.

    >>> visit_id_for("1b4e28ba-2fa1-11d2-883f-0016d3cca427", 9)
    'rv-1b4e28ba2fa111d2883f0016d3cca427-9'
    """
    return f"rv-{report_id.replace('-', '')}-{closing}"
