"""The escalation ladder and `next_step`, driven by a clock the test controls."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest

from config.policy import PolicyError
from dispatch.sla.calendar import ClockKind, Timekeeper
from dispatch.sla.clocks import ClockName, ClockState
from dispatch.sla.escalation import StepResult, next_step, next_step_at
from dispatch.sla.ladder import (
    EscalationAction,
    EscalationPolicy,
    LadderTarget,
    parse_escalation,
)
from tests.dispatch.helpers import sh

H = timedelta(hours=1)


def _accept_p3(at: datetime) -> ClockState:
    return ClockState.start(ClockName.ACCEPT, ClockKind.WORKING, H, at)


def _take(
    policy: EscalationPolicy, clock: ClockState, now: datetime, tk: Timekeeper
) -> tuple[StepResult, ClockState]:
    result = next_step(policy, clock, now, tk)
    assert result.due and result.index is not None
    return result, clock.after_step(result.index)


def test_shipped_ladder(escalation: EscalationPolicy) -> None:
    ladder = escalation.ladder_for(ClockName.RESOLVE)
    assert ladder is not None and ladder is escalation.ladder_for(ClockName.ACCEPT)
    assert [(s.name, s.at, s.action, s.target) for s in ladder.steps] == [
        ("yellow", 0.8, EscalationAction.REMIND, LadderTarget.ASSIGNEE),
        ("red", 1.0, EscalationAction.URGE, LadderTarget.COMMUNITY_LEAD),
        ("street", 2.0, EscalationAction.ESCALATE, LadderTarget.STREET_CENTER),
        ("district", 3.0, EscalationAction.SUPERVISE, LadderTarget.DISTRICT_CENTER),
    ]
    assert ladder.steps[3].copy_to == (LadderTarget.UNIT_LEADER,)
    assert ladder.steps[1].reassign_unaccepted
    assert escalation.returns_to_lead == 2


def test_an_unaccepted_task_climbs_the_whole_ladder(escalation: EscalationPolicy, tk: Timekeeper) -> None:
    clock = _accept_p3(sh(2025, 3, 3, 9))  # Monday 09:00, accept within 1 working hour
    first = next_step(escalation, clock, sh(2025, 3, 3, 9), tk)
    assert (first.at, first.due, first.stop, first.index) == (sh(2025, 3, 3, 9, 48), False, False, 0)
    assert next_step(escalation, clock, sh(2025, 3, 3, 9, 47), tk).due is False

    yellow, clock = _take(escalation, clock, sh(2025, 3, 3, 9, 48), tk)
    assert (yellow.action, yellow.target, yellow.reassign, yellow.overtaken) == (
        EscalationAction.REMIND,
        LadderTarget.ASSIGNEE,
        False,
        False,
    )
    # the step just taken is never returned again
    waiting = next_step(escalation, clock, sh(2025, 3, 3, 9, 50), tk)
    assert (waiting.index, waiting.at, waiting.due) == (1, sh(2025, 3, 3, 10), False)

    red, clock = _take(escalation, clock, sh(2025, 3, 3, 10), tk)
    assert (red.action, red.target, red.reassign) == (
        EscalationAction.URGE,
        LadderTarget.COMMUNITY_LEAD,
        True,
    )

    street, clock = _take(escalation, clock, sh(2025, 3, 3, 11), tk)
    assert street.target is LadderTarget.STREET_CENTER and not street.reassign

    assert next_step(escalation, clock, sh(2025, 3, 3, 11, 59), tk).at == sh(2025, 3, 3, 12)
    district, clock = _take(escalation, clock, sh(2025, 3, 3, 12), tk)
    assert district.step is not None and district.step.copy_to == (LadderTarget.UNIT_LEADER,)
    assert district.action is EscalationAction.SUPERVISE

    done = next_step(escalation, clock, sh(2025, 3, 10, 12), tk)
    assert (done.stop, done.at, done.due, done.step) == (True, None, False, None)


def test_steps_are_read_in_working_time(escalation: EscalationPolicy, tk: Timekeeper) -> None:
    # P3 exposed garbage: resolve within 4 working hours from Monday 10:00
    clock = ClockState.start(ClockName.RESOLVE, ClockKind.WORKING, 4 * H, sh(2025, 3, 3, 10))
    expected = [sh(2025, 3, 3, 15, 12), sh(2025, 3, 3, 16), sh(2025, 3, 4, 11), sh(2025, 3, 4, 17)]
    for index, at in enumerate(expected):
        result = next_step(escalation, clock, sh(2025, 3, 3, 10), tk)
        assert (result.index, result.at, result.reassign) == (index, at, False)
        clock = clock.after_step(index)


def test_reassignment_is_asked_for_on_the_accept_clock_only(
    escalation: EscalationPolicy, tk: Timekeeper
) -> None:
    clock = ClockState.start(ClockName.RESOLVE, ClockKind.NATURAL, 2 * H, sh(2025, 3, 8, 10)).after_step(0)
    red = next_step(escalation, clock, sh(2025, 3, 8, 12), tk)
    assert red.due and red.step is not None and red.step.reassign_unaccepted and not red.reassign


def test_a_tracker_catching_up_gets_every_step_in_order(escalation: EscalationPolicy, tk: Timekeeper) -> None:
    clock = _accept_p3(sh(2025, 3, 3, 9))
    now = sh(2025, 3, 3, 11, 30)  # the tracker was down: yellow, red and street are all due
    seen = []
    while (result := next_step(escalation, clock, now, tk)).due:
        assert result.index is not None and result.step is not None
        seen.append((result.step.name, result.overtaken, result.reassign))
        clock = clock.after_step(result.index)
    assert seen == [("yellow", True, False), ("red", True, True), ("street", False, False)]
    assert result.at == sh(2025, 3, 3, 12) and not result.stop


def test_paused_clocks_wait_and_resume_later(escalation: EscalationPolicy, tk: Timekeeper) -> None:
    clock = ClockState.start(ClockName.RESOLVE, ClockKind.WORKING, 4 * H, sh(2025, 3, 3, 9))
    paused = clock.pause(sh(2025, 3, 3, 10), tk)  # extension requested after 1 h
    waiting = next_step(escalation, paused, sh(2025, 3, 20, 9), tk)
    assert (waiting.at, waiting.due, waiting.stop) == (None, False, False)
    # approved: +1 working day, resumed on Wednesday 09:00; 10 h left of 11 h
    resumed = paused.extend(7 * H).resume(sh(2025, 3, 5, 9))
    yellow = next_step(escalation, resumed, sh(2025, 3, 5, 9), tk)
    # 80 % of 11 h = 8 h 48 min, 7 h 48 min of it after resuming: Wednesday 7 h, Thursday 09:48
    assert yellow.at == sh(2025, 3, 6, 9, 48)


def test_stopped_and_unladdered_clocks_stop(escalation: EscalationPolicy, tk: Timekeeper) -> None:
    clock = _accept_p3(sh(2025, 3, 3, 9)).stop(sh(2025, 3, 3, 9, 30), tk)
    assert next_step(escalation, clock, sh(2025, 3, 4, 9), tk).stop
    only_resolve = parse_escalation(
        {
            "returns": {"to_community_lead_after": 2},
            "ladder": [
                {
                    "clocks": ["resolve"],
                    "step": [{"name": "red", "at": 1, "action": "urge", "target": "community_lead"}],
                }
            ],
        }
    )
    assert next_step(only_resolve, _accept_p3(sh(2025, 3, 3, 9)), sh(2025, 3, 4, 9), tk).stop


def test_the_command_center_clocks_escalate_to_the_street(
    escalation: EscalationPolicy, tk: Timekeeper
) -> None:
    register = ClockState.start(
        ClockName.REGISTER, ClockKind.NATURAL, timedelta(minutes=10), sh(2025, 3, 8, 2)
    )
    red = next_step(escalation, register, sh(2025, 3, 8, 2, 10), tk)
    assert (red.due, red.target, red.index) == (True, LadderTarget.STREET_CENTER, 0)


def test_a_restarted_clock_climbs_again_from_the_bottom(escalation: EscalationPolicy, tk: Timekeeper) -> None:
    clock = _accept_p3(sh(2025, 3, 3, 9)).after_step(0).after_step(1)
    fresh = _accept_p3(sh(2025, 3, 3, 10))  # reassigned: a new run
    assert next_step(escalation, clock, sh(2025, 3, 3, 10), tk).index == 2
    assert next_step(escalation, fresh, sh(2025, 3, 3, 10), tk).index == 0


def test_naive_now_is_refused(escalation: EscalationPolicy, tk: Timekeeper) -> None:
    with pytest.raises(ValueError, match="naive"):
        next_step(escalation, _accept_p3(sh(2025, 3, 3, 9)), sh(2025, 3, 3, 9).replace(tzinfo=None), tk)


def test_the_policy_snapshot_round_trips_with_its_fingerprint(escalation: EscalationPolicy) -> None:
    document = escalation.to_document()
    again = parse_escalation(copy.deepcopy(document))
    assert again == escalation and again.fingerprint == escalation.fingerprint
    document["ladder"][0]["step"][0]["at"] = 0.75
    changed = parse_escalation(document)
    assert changed.fingerprint != escalation.fingerprint
    # a task created under the old policy keeps it: its yellow light stays at 80 %
    assert escalation.ladder_for(ClockName.RESOLVE).steps[0].at == 0.8  # type: ignore[union-attr]


def _with(change: dict[str, Any]) -> dict[str, Any]:
    step = {"name": "red", "at": 1.0, "action": "urge", "target": "community_lead", **change}
    return {"returns": {"to_community_lead_after": 2}, "ladder": [{"clocks": ["resolve"], "step": [step]}]}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_with({"target": "mayor"}), "target: 'mayor' is not one of"),
        (_with({"action": "shout"}), "action: 'shout'"),
        (_with({"at": 0}), "'at' must be a positive fraction"),
        (_with({"at": "soon"}), "'at' must be a positive fraction"),
        (_with({"copy_to": "mayor"}), "'copy_to' must be a list"),
        (_with({"reassign_unaccepted": "yes"}), "must be true or false"),
        (_with({"name": ""}), "'name' must be"),
        (
            {
                "returns": {"to_community_lead_after": 2},
                "ladder": [
                    {
                        "clocks": ["resolve"],
                        "step": [
                            {"name": "a", "at": 1.0, "action": "urge", "target": "community_lead"},
                            {"name": "b", "at": 1.0, "action": "urge", "target": "street_center"},
                        ],
                    }
                ],
            },
            "strictly increasing",
        ),
        (
            {
                "returns": {"to_community_lead_after": 2},
                "ladder": [
                    {
                        "clocks": ["resolve"],
                        "step": [{"name": "a", "at": 1, "action": "urge", "target": "assignee"}],
                    },
                    {
                        "clocks": ["resolve"],
                        "step": [{"name": "b", "at": 1, "action": "urge", "target": "assignee"}],
                    },
                ],
            },
            "on two ladders",
        ),
        ({"returns": {"to_community_lead_after": 0}, "ladder": []}, "to_community_lead_after"),
        (
            {"returns": {"to_community_lead_after": 2}, "ladder": [{"clocks": ["lunch"], "step": []}]},
            "no steps",
        ),
        (
            {"returns": {"to_community_lead_after": 2}, "ladder": [{"clocks": [], "step": []}]},
            "'clocks' must be",
        ),
    ],
)
def test_bad_ladders_are_refused_naming_the_field(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_escalation(doc)


def test_a_due_step_is_returned_when_the_next_lies_past_the_calendar(
    escalation: EscalationPolicy, tk: Timekeeper
) -> None:
    # a 20-working-day resolve clock from 25 Nov 2026: red (100 %) falls in December, the street
    # step (200 %) after the installed calendar's last day; red must still be taken when due
    budget = tk.working.day * 20
    clock = ClockState.start(ClockName.RESOLVE, ClockKind.WORKING, budget, sh(2026, 11, 25, 10))
    clock = clock.after_step(0)
    result = next_step(escalation, clock, sh(2026, 12, 31, 20), tk)
    assert result.due and result.step is not None and result.step.name == "red"
    assert result.overtaken is False


def test_next_step_at_is_the_time_next_step_returns(escalation: EscalationPolicy, tk: Timekeeper) -> None:
    """The tracker asks `next_step_at` of every clock and builds a `StepResult` only when a step
    is due: both say the same time for running, paused, stopped and exhausted clocks."""
    start = sh(2025, 3, 3, 9)
    running = _accept_p3(start)
    ladder = escalation.ladder_for(ClockName.ACCEPT)
    assert ladder is not None
    clocks = [
        running,
        running.after_step(0),
        running.pause(start + H / 2, tk),
        running.stop(start + H / 2, tk),
        running.after_step(len(ladder.steps) - 1),
        ClockState.start(ClockName.REGISTER, ClockKind.NATURAL, H, start),
    ]
    for clock in clocks:
        assert next_step_at(escalation, clock, tk) == next_step(escalation, clock, start, tk).at
