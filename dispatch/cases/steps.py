"""The SLA tracker's pure part: take every escalation step due on one case at `now`.

For each open clock, `dispatch.sla.escalation.next_step` says which step of the case's frozen
ladder is next; each due step becomes an `escalate` event by the system actor carrying an
escalation document (what `sla.escalations` publishes), and `ClockState.after_step` is stored
so the step is never taken again. A red step on an unaccepted task also reassigns it through
the router (`route` is the caller's: it needs the directory and people's open work).

Why the reassigned task's ladder goes on from the step after the one that reassigned it: the
limit is the holder's, the ladder is the case's. The new holder's accept clock starts in full,
but its run keeps the steps the case already took, so a task nobody accepts is reassigned once
per reassigning step and then climbs (street center at the next rung, district center after).
Restarting the ladder with the clock reassigned such a task at every limit, for as long as
anyone was left to take it (every 3 minutes at P0, between the same two people), and its
street and district steps were never reached.

Why one event per step, even when the tracker catches up after an outage: the KPIs count every
step, and the `overtaken` flag tells consumers to notify only the highest level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dispatch.cases.work import Assignment, CaseWork
from dispatch.codec import iso
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import OPEN, Action, CaseState, Role
from dispatch.sla.clocks import ClockName, ClockState
from dispatch.sla.errors import CalendarRangeError
from dispatch.sla.escalation import StepResult, next_step, next_step_at
from dispatch.sla.ladder import LadderTarget

SLA_ACTOR = Actor(Role.SYSTEM, "sla")
REASSIGNABLE = frozenset({CaseState.DISPATCHED, CaseState.REWORK})

Route = Callable[[CaseWork], Assignment | None]
Targets = Callable[[LadderTarget], list[str]]


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What one tracker pass did to a case."""

    steps: int
    reassigned: int
    alarm: str | None  # a clock could not be read past the working calendar's data


def _level(target: LadderTarget) -> str:
    return target.value if target is not LadderTarget.UNIT_LEADER else LadderTarget.DISTRICT_CENTER.value


def _about(work: CaseWork) -> dict[str, Any]:
    """What every escalation document says about the case."""
    inc = work.incident
    current = work.current_task
    return {
        "incident_id": work.incident_id,
        "task_id": current["task_id"] if current else None,
        "assignee_id": work.case.assignee_id,
        "state": work.state.value,
        "priority": inc.get("priority"),
        "category": inc.get("category"),
        "grid_code": inc.get("grid_code"),
        "community_code": inc.get("community_code"),
        "street_code": inc.get("street_code"),
        "district_code": inc.get("district_code"),
        "at": iso(work.now),
    }


def escalation_doc(
    work: CaseWork,
    clock_name: ClockName,
    result: StepResult,
    targets: Targets,
    *,
    run: str,
) -> dict[str, Any]:
    """The `sla.escalations` document of one step (see README, "SLA tracking and escalation")."""
    assert result.step is not None and result.index is not None and result.at is not None
    step = result.step
    return {
        "key": f"{work.incident_id}:{clock_name.value}:{run}:{result.index}",
        **_about(work),
        "clock": clock_name.value,
        "run_started_at": run,
        "step": step.name,
        "index": result.index,
        "action": step.action.value,
        "target": step.target.value,
        "target_ids": targets(step.target),
        "copy_to": [t.value for t in step.copy_to],
        "copy_to_ids": sorted({p for t in step.copy_to for p in targets(t)}),
        "level": _level(step.target),
        "fraction": step.at,
        "due_at": iso(result.at),
        "provisional": work.rules.tk.provisional(work.clocks[clock_name].kind, result.at),
        "overtaken": result.overtaken,
        "budget_s": work.clocks[clock_name].budget.total_seconds(),
    }


def take_due_steps(work: CaseWork, *, route: Route, targets: Targets) -> StepOutcome:
    """Take, in order, every step due at `work.now` on every clock of the case."""
    if work.state not in OPEN:
        return StepOutcome(0, 0, None)
    steps = reassigned = 0
    alarm: str | None = None
    for name in sorted(work.clocks):
        while True:
            clock = work.clocks.get(name)
            if clock is None:
                break
            try:
                at = next_step_at(work.rules.policy, clock, work.rules.tk)
                if at is None or at > work.now:
                    break  # nothing due on this clock (the common case: no StepResult built)
                result = next_step(work.rules.policy, clock, work.now, work.rules.tk)
            except CalendarRangeError as exc:
                alarm = f"clock {name}: {exc}"
                break
            if not result.due or result.step is None or result.index is None:
                break
            if work.documents:
                doc = escalation_doc(work, name, result, targets, run=iso(clock.started_at))
            else:  # outcome only (see `CaseWork`): the step and the level it reached
                doc = {"step": result.step.name, "level": _level(result.step.target)}
            work.took_step(name, result.index, doc["level"])
            reason = (
                f"{result.step.name}: {name} clock at {result.step.at:.0%} of its limit; "
                f"{result.step.action} {result.step.target}"
            )
            work.act(Action.ESCALATE, SLA_ACTOR, reason, data={"escalation": doc})
            steps += 1
            if result.reassign and work.state in REASSIGNABLE:
                assignment = route(work)
                if assignment is not None and assignment.worker_id != work.case.assignee_id:
                    work.act(
                        Action.REASSIGN,
                        SLA_ACTOR,
                        f"not accepted within the {name} limit: reassigned ({assignment.reason})",
                        assignment=assignment,
                    )
                    work.clocks[name] = carried_ladder(work.clocks[name], result.index)
                    reassigned += 1
                break  # the new holder's run: its next step is not due yet
    return StepOutcome(steps, reassigned, alarm)


def carried_ladder(fresh: ClockState, index: int) -> ClockState:
    """The new holder's accept run after the tracker reassigned the task at step `index`: the
    full limit from now, the ladder past `index` (see the module doc)."""
    return fresh.after_step(index)


def manual_escalation(work: CaseWork, actor: Actor, level: LadderTarget, targets: Targets) -> dict[str, Any]:
    """The escalation document of an operator's escalation by hand (step "manual")."""
    return {
        "key": None,
        **_about(work),
        "clock": None,
        "run_started_at": None,
        "step": "manual",
        "index": None,
        "action": "escalate",
        "target": level.value,
        "target_ids": targets(level),
        "copy_to": [],
        "copy_to_ids": [],
        "level": _level(level),
        "fraction": None,
        "due_at": None,
        "provisional": False,
        "overtaken": False,
        "budget_s": None,
        "by": actor.actor_id,
    }
