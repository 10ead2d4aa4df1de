"""`next_step`: the one pure function that says what the escalation ladder wants next.

The SLA tracker (a thin worker) holds each open clock, asks `next_step` when to wake up, and at
that time asks again and applies the result: it publishes the step on `sla.escalations`, then
stores `clock.after_step(result.index)`. Because `now` is an argument and the step index lives in
the stored clock, the same question always gets the same answer, a step already taken is never
returned again, and a tracker recovering after a crash simply asks again.

After an outage several steps may be due at once. They are returned one at a time, in order,
each flagged `overtaken` when a later one is already due too, so the worker can record every step
(the KPIs count them) while notifying only the highest level — and no reassignment is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dispatch.sla.calendar import Timekeeper
from dispatch.sla.clocks import ClockName, ClockState, ClockStatus
from dispatch.sla.errors import CalendarRangeError
from dispatch.sla.ladder import EscalationAction, EscalationPolicy, LadderTarget, Step


@dataclass(frozen=True, slots=True)
class StepResult:
    """What to do next for one clock.

    at         when the next step is due; None when nothing is scheduled (paused, stopped, done)
    due        `at <= now`: take the step now
    stop       no step will ever be due on this clock run (stopped, or the ladder is exhausted)
    index      the step's position on the ladder, to store via `ClockState.after_step`
    overtaken  a later step is already due as well (the tracker is catching up)
    reassign   take the task from an assignee who has not accepted it, and route it again
    """

    at: datetime | None
    due: bool
    stop: bool
    index: int | None = None
    step: Step | None = None
    overtaken: bool = False
    reassign: bool = False

    @property
    def action(self) -> EscalationAction | None:
        return self.step.action if self.step is not None else None

    @property
    def target(self) -> LadderTarget | None:
        return self.step.target if self.step is not None else None


_DONE = StepResult(at=None, due=False, stop=True)
_RUNNING = ClockStatus.RUNNING
_WAITING = StepResult(at=None, due=False, stop=False)


def next_step(policy: EscalationPolicy, clock: ClockState, now: datetime, tk: Timekeeper) -> StepResult:
    """The next escalation step of `clock` under `policy` (the task's frozen snapshot), seen at `now`."""
    if now.tzinfo is None:
        raise ValueError(f"now: naive datetime {now.isoformat()}; pass a timezone-aware datetime")
    ladder = policy.ladder_for(clock.name)
    if ladder is None or clock.status is ClockStatus.STOPPED or clock.steps_taken >= len(ladder.steps):
        return _DONE
    if clock.status is ClockStatus.PAUSED:
        return _WAITING
    index = clock.steps_taken
    step = ladder.steps[index]
    at = clock.reaches(step.at, tk)
    assert at is not None  # running
    due = at <= now
    overtaken = False
    if due and index + 1 < len(ladder.steps):
        try:
            later = clock.reaches(ladder.steps[index + 1].at, tk)
        except CalendarRangeError:
            # the later step lies past the calendar's data, hence after `now` (which is within
            # it, or `at` above could not have been computed): it is certainly not due yet
            later = None
        overtaken = later is not None and later <= now
    return StepResult(
        at=at,
        due=due,
        stop=False,
        index=index,
        step=step,
        overtaken=overtaken,
        reassign=step.reassign_unaccepted and clock.name is ClockName.ACCEPT,
    )


def next_step_at(policy: EscalationPolicy, clock: ClockState, tk: Timekeeper) -> datetime | None:
    """When `next_step` will next return a due step of `clock` (its `at`): None when nothing is
    scheduled (paused, stopped, the ladder done). It does not depend on `now`, and builds no
    `StepResult`: the tracker asks it of every clock of every case it writes."""
    ladder = policy.ladder_for(clock.name)
    if ladder is None or clock.status is not _RUNNING or clock.steps_taken >= len(ladder.steps):
        return None
    return clock.reaches(ladder.steps[clock.steps_taken].at, tk)


def next_check(
    policy: EscalationPolicy, clocks: Mapping[ClockName, ClockState], now: datetime, tk: Timekeeper
) -> tuple[datetime | None, str | None]:
    """When the SLA tracker must next look at these clocks (None: never), and an alarm note.

    A working-time step beyond the calendar's data is not guessed: the check is set to the
    calendar's horizon, where the tracker raises the alarm again and re-checks later.
    """
    if now.tzinfo is None:
        raise ValueError(f"now: naive datetime {now.isoformat()}; pass a timezone-aware datetime")
    soonest: datetime | None = None
    note: str | None = None
    for clock in clocks.values():
        try:
            at = next_step_at(policy, clock, tk)
        except CalendarRangeError as exc:
            note = f"clock {clock.name}: {exc}"
            at = max(tk.working.horizon, now)
        if at is not None and (soonest is None or at < soonest):
            soonest = at
    return soonest, note
