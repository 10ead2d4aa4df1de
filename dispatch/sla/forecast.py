"""Every deadline and escalation step a case would get, answered before the case exists.

Operators ask "when is this due?" (`yiwang sla deadline`). The answer is read with the same
clock arithmetic the tracker uses (`ClockState.reaches`), each clock taken as started at the
given instant and never paused, and each instant marked provisional when it lies beyond the
calendar's published notices (`WorkingCalendar.is_provisional`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from config.policy import Priority
from dispatch.sla.calendar import ClockKind
from dispatch.sla.clocks import ClockName
from dispatch.sla.deadlines import Deadlines
from dispatch.sla.ladder import EscalationPolicy
from dispatch.sla.policy import Area


@dataclass(frozen=True, slots=True)
class StepForecast:
    step: str
    fraction: float
    action: str
    target: str
    at: datetime
    provisional: bool


@dataclass(frozen=True, slots=True)
class ClockForecast:
    clock: ClockName
    kind: ClockKind
    budget: timedelta
    deadline: datetime
    provisional: bool
    steps: tuple[StepForecast, ...]

    def doc(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "budget_s": self.budget.total_seconds(),
            "deadline": self.deadline.isoformat(),
            "provisional": self.provisional,
            "steps": [
                {
                    "step": s.step,
                    "fraction": s.fraction,
                    "action": s.action,
                    "target": s.target,
                    "at": s.at.isoformat(),
                    "provisional": s.provisional,
                }
                for s in self.steps
            ],
        }


def forecast(
    deadlines: Deadlines,
    escalation: EscalationPolicy,
    *,
    category: str,
    priority: Priority,
    start: datetime,
    area: Area = Area.CITY,
) -> dict[ClockName, ClockForecast]:
    """Each clock the case would run, started at `start`, with its ladder's steps, in clock order.

    Raises `CalendarRangeError` only past the provisional years too.
    """
    tk = deadlines.tk
    out: dict[ClockName, ClockForecast] = {}
    for name in ClockName:
        clock = deadlines.start(category, priority, name, start, area)
        if clock is None:
            continue
        due = clock.deadline(tk)
        assert due is not None  # a fresh clock runs
        ladder = escalation.ladder_for(name)
        steps: list[StepForecast] = []
        for step in ladder.steps if ladder is not None else ():
            at = clock.reaches(step.at, tk)
            assert at is not None
            steps.append(
                StepForecast(
                    step.name,
                    step.at,
                    step.action.value,
                    step.target.value,
                    at.astimezone(start.tzinfo),
                    tk.provisional(clock.kind, at),
                )
            )
        out[name] = ClockForecast(
            name,
            clock.kind,
            clock.budget,
            due.astimezone(start.tzinfo),
            tk.provisional(clock.kind, due),
            tuple(steps),
        )
    return out
