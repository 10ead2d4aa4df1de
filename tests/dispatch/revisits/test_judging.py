"""The return-visit policy and the verdict on an answer: pure, the clock passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config.policy import PolicyError
from dispatch.revisits.errors import FieldError, Refused
from dispatch.revisits.judging import Verdict, judge
from dispatch.revisits.policy import load_revisit_policy, parse_revisit_policy
from dispatch.revisits.values import ReworkTarget, Satisfaction, Visit, VisitStatus

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
POLICY = load_revisit_policy()


def visit(**changes: Any) -> Visit:
    base = Visit("rv-1", "i-1", "r-1", "hotline", "H-1", 9, "w-1", "110101001", T0, T0 + timedelta(days=3))
    return replace(base, **changes)


def test_policy_as_configured() -> None:
    assert POLICY.answer_within == timedelta(days=3)
    assert POLICY.reasons["not_fixed"].en == "The problem is not fixed"  # the page's English
    assert POLICY.rework == (ReworkTarget.SAME_UNIT, ReworkTarget.STREET_CENTER)
    assert POLICY.reasons["not_fixed"].handling and not POLICY.reasons["policy"].handling


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"answer_within": "0d", "reason": [{"code": "a", "zh": "甲", "handling": True}]}, "bad duration"),
        ({"answer_within": "1d"}, "at least one"),
        ({"answer_within": "1d", "reason": [{"code": "a", "zh": "甲", "handling": "yes"}]}, "handling"),
        ({"answer_within": "1d", "reason": [{"code": "", "zh": "甲", "handling": True}]}, "reason\\[0\\]"),
        (
            {"answer_within": "1d", "reason": [{"code": "a", "zh": "甲", "handling": True}] * 2},
            "defined twice",
        ),
        (
            {
                "answer_within": "1d",
                "reason": [{"code": "a", "zh": "甲", "handling": True}],
                "rework": [{"target": "mayor"}],
            },
            "rework\\[0\\]: target must be one of",
        ),
        (
            {"answer_within": "1d", "reason": [{"code": "a", "zh": "甲", "en": "", "handling": True}]},
            "reason\\[0\\]: 'en'",
        ),
    ],
)
def test_broken_policy_is_refused_naming_the_entry(doc: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_revisit_policy(doc)


def test_status_is_derived_from_the_time() -> None:
    v = visit()
    assert v.status_at(T0) is VisitStatus.PENDING
    assert v.status_at(T0 + timedelta(days=3)) is VisitStatus.NOT_REACHED
    assert visit(answered=True, answer=Satisfaction.SATISFIED).status_at(T0 + timedelta(days=9)) is (
        VisitStatus.ANSWERED
    )


def _judge(
    answer: Satisfaction, code: str | None, *, closed: bool = True, reworks: int = 0, v: Visit | None = None
) -> Verdict:
    return judge(
        POLICY,
        v or visit(),
        answer,
        code,
        now=T0 + timedelta(hours=1),
        case_closed=closed,
        reworks_so_far=reworks,
    )


def test_dissatisfied_about_the_handling_reworks_by_the_policy_steps() -> None:
    assert _judge(Satisfaction.DISSATISFIED, "not_fixed").rework is ReworkTarget.SAME_UNIT
    assert _judge(Satisfaction.DISSATISFIED, "attitude", reworks=1).rework is ReworkTarget.STREET_CENTER
    exhausted = _judge(Satisfaction.DISSATISFIED, "not_fixed", reworks=2)
    assert exhausted.rework is None and "all used" in exhausted.why


def test_no_rework_for_other_reasons_other_answers_or_a_case_already_reopened() -> None:
    assert _judge(Satisfaction.DISSATISFIED, "policy").rework is None
    assert _judge(Satisfaction.BASICALLY_SATISFIED, None).rework is None
    assert _judge(Satisfaction.SATISFIED, "other").rework is None
    assert _judge(Satisfaction.DISSATISFIED, "not_fixed", closed=False).rework is None


def test_refusals_name_the_field_or_the_state() -> None:
    with pytest.raises(FieldError, match="reason_code: 不满意 needs a reason"):
        _judge(Satisfaction.DISSATISFIED, None)
    with pytest.raises(FieldError, match="reason_code: one of"):
        _judge(Satisfaction.SATISFIED, "nonsense")
    with pytest.raises(Refused, match="answered already"):
        _judge(Satisfaction.SATISFIED, None, v=visit(answered=True, answer=Satisfaction.SATISFIED))
    with pytest.raises(Refused, match="time to answer ended"):
        _judge(Satisfaction.SATISFIED, None, v=visit(due_at=T0))
