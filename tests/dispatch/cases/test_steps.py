"""The SLA tracker's pure rule (`take_due_steps`) on a P0 assist nobody accepts: reassigned once at
its red step, then the ladder climbs to the street and district centers; never a reassignment
every limit between the same two people."""

from __future__ import annotations

from datetime import timedelta

from dispatch.cases.steps import take_due_steps
from dispatch.cases.work import Assignment, CaseRules, CaseWork
from dispatch.intake.rules import IntakeRules, Opened, area_of
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.routing.values import DecisionKind
from dispatch.rows import opened_incident_row, task_row
from dispatch.sla.clocks import ClockName
from tests.dispatch.test_intake import NOW, decide, report

MIN = timedelta(minutes=1)


def _p0_assist(rules: IntakeRules, *, documents: bool = True) -> CaseWork:
    [opened] = decide(rules, [report(1, "fire", source="fire")])
    assert isinstance(opened, Opened) and opened.decision.kind is DecisionKind.ASSIST
    policy = rules.policy_of(opened.report.district_code)
    limits = policy.deadlines.limits("fire", opened.report.priority, area_of(opened.report.street_name))
    row = opened_incident_row(
        opened, address=None, description="", now=NOW, policy_id=policy.escalation.fingerprint
    )
    task = task_row(opened, now=NOW)
    assert task is not None
    case_rules = CaseRules(limits, policy.escalation, rules.tk, policy.sla.extension)
    return CaseWork(row, [task], case_rules, NOW, clocks=opened.clocks, documents=documents)


def test_an_unaccepted_p0_assist_is_reassigned_once_then_climbs_the_ladder() -> None:
    rules = IntakeRules.load()
    work = _p0_assist(rules)
    first = work.case.assignee_id
    assert first in {"W1", "W2"} and work.clocks[ClockName.ACCEPT].budget == 3 * MIN

    def the_other(w: CaseWork) -> Assignment:  # always someone else to take it: the ping-pong
        other = "W2" if w.case.assignee_id == "W1" else "W1"
        return Assignment(other, "grid_worker", "eligible_worker", DecisionKind.ASSIST, "the other one")

    taken: list[tuple[float, str, str]] = []
    reassigned = 0
    for half_minutes in range(1, 121):  # an hour of tracker passes, nobody ever accepting
        work.now = NOW + half_minutes * MIN / 2
        outcome = take_due_steps(work, route=the_other, targets=lambda target: [])
        reassigned += outcome.reassigned
        for event in work.events:
            esc = event["data"].get("escalation")
            if event["action"] == Action.ESCALATE.value and esc["clock"] == ClockName.ACCEPT.value:
                taken.append(((work.now - NOW) / MIN, esc["step"], esc["assignee_id"]))
        work.events.clear()
    assert reassigned == 1
    second = "W2" if first == "W1" else "W1"
    # red at 3 min reassigns; the new holder's 3 minutes start then, the ladder goes on from
    # there: street at two of their limits (9 min), district at three (12 min), then nothing
    assert taken == [
        (2.5, "yellow", first),
        (3.0, "red", first),
        (9.0, "street", second),
        (12.0, "district", second),
    ]
    accept = work.clocks[ClockName.ACCEPT]
    assert (accept.started_at, accept.budget) == (NOW + 3 * MIN, 3 * MIN)
    assert work.case.assignee_id == second


def test_outcome_rows_say_what_the_documents_say_that_the_replay_counts() -> None:
    """`documents=False` (the replay's) keeps of each event its action, the clocks it stopped,
    `on_time` and the escalation's step and level: the same as the full documents say, and the
    case ends in the same state."""
    rules = IntakeRules.load()
    full, light = _p0_assist(rules), _p0_assist(rules, documents=False)

    def the_other(w: CaseWork) -> Assignment:
        other = "W2" if w.case.assignee_id == "W1" else "W1"
        return Assignment(other, "grid_worker", "eligible_worker", DecisionKind.ASSIST, "the other one")

    for work in (full, light):
        for half_minutes in range(1, 30):
            work.now = NOW + half_minutes * MIN / 2
            take_due_steps(work, route=the_other, targets=lambda target: [])
        assert work.case.assignee_id is not None
        work.act(Action.ACCEPT, Actor(Role.GRID_WORKER, work.case.assignee_id))
    assert len(full.events) == len(light.events) > 4
    for doc, row in zip(full.events, light.events, strict=True):
        assert row["action"] == doc["action"]
        assert row["data"].get("sla") == doc["data"].get("sla")
        esc = doc["data"].get("escalation")
        if esc is None:
            assert "escalation" not in row["data"]
        else:
            assert row["data"]["escalation"] == {"step": esc["step"], "level": esc["level"]}
    assert any(row["data"].get("sla") for row in light.events)  # the accept stopped its clock
    assert (light.state, light.clocks, light.level) == (full.state, full.clocks, full.level)
