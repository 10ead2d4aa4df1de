"""One SLA clock per promise of a case, as a value the caller stores and recovers after a restart.

A clock is a budget of time (natural or working) that is consumed while it runs. Pausing moves the
deadline by exactly the paused time *of the clock's own scale*: a working-time clock paused over a
weekend loses nothing, and its deadline moves by the working hours that the pause covered. So the
state is kept as "time used in finished run segments" plus "running since"; the deadline is derived,
never stored, and survives any number of pauses without drift.

Clocks change only through `ClockEffect`s that the case lifecycle attaches to each transition;
`apply_effects` turns them into the new clock states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from config.policy import Duration
from dispatch.sla.calendar import ClockKind, Timekeeper, span
from dispatch.sla.errors import ClockError

_ZERO = timedelta(0)


class ClockName(StrEnum):
    """The promises a case makes, each with its own limit (README: Case workflow, SLA clocks columns)."""

    REGISTER = "register"  # register + dispatch (立案派遣), the command center's own clock
    ACCEPT = "accept"  # 签收
    ON_SITE = "on_site"  # 到场
    RESOLVE = "resolve"  # 处置
    VERIFY = "verify"  # 核查


class ClockOp(StrEnum):
    START = "start"  # begin a fresh run; refused while the clock runs (a table error)
    RESTART = "restart"  # discard the current run, whatever its state, and begin a fresh one
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "extend"  # grow the budget by `amount` (an approved extension)
    TIGHTEN = "tighten"  # a running or paused clock begins a fresh run (paused stays paused) under
    # the case's limits as they are now; stopped or absent clocks are left alone (a priority raise)


class ClockStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


_RUNNING, _PAUSED, _STOPPED = ClockStatus.RUNNING, ClockStatus.PAUSED, ClockStatus.STOPPED


@dataclass(frozen=True, slots=True)
class ClockEffect:
    """What one transition does to one clock."""

    clock: ClockName
    op: ClockOp
    amount: Duration | None = None  # EXTEND only, read in the case's clock kind


@dataclass(frozen=True, slots=True)
class CaseLimits:
    """The budgets of one case's clocks, already converted to time of its scale.

    A clock without a budget (P2 has no on-site limit; P0 resolve is agency-led) is never started.
    """

    kind: ClockKind
    budgets: Mapping[ClockName, timedelta]

    def budget(self, name: ClockName) -> timedelta | None:
        return self.budgets.get(name)


class ClockState(msgspec.Struct, frozen=True):
    """One run of one clock. `since` is when the current status began.

    `steps_taken` counts escalation steps already taken on this run; a fresh run starts at 0,
    so a restarted clock (rework, reassignment) climbs the ladder again from the bottom.

    A frozen msgspec Struct rather than a frozen dataclass: the same immutable, hashable value
    (the intake keys per-batch tables by clocks), built in C. Every transition that touches a
    clock builds a new one (a month's replay ~1 M), and a frozen dataclass's `__init__` sets
    each field through `object.__setattr__`, several times slower. Change one with
    `msgspec.structs.replace`, not `dataclasses.replace`.
    """

    name: ClockName
    kind: ClockKind
    budget: timedelta
    started_at: datetime
    status: ClockStatus
    since: datetime
    used: timedelta = _ZERO
    extended: timedelta = _ZERO
    steps_taken: int = 0

    @classmethod
    def start(cls, name: ClockName, kind: ClockKind, budget: timedelta, at: datetime) -> ClockState:
        if budget <= _ZERO:
            raise ClockError(f"clock {name}: budget {budget} must be positive")
        if at.tzinfo is None:
            raise ValueError(f"at: naive datetime {at.isoformat()}; pass a timezone-aware datetime")
        return cls(name, kind, budget, at, ClockStatus.RUNNING, at)

    def used_at(self, now: datetime, tk: Timekeeper) -> timedelta:
        """Clock time consumed up to `now` (a `now` before the segment start counts as no time)."""
        if self.status is not ClockStatus.RUNNING:
            return self.used
        return self.used + max(tk.scale(self.kind).elapsed(self.since, now), _ZERO)

    def fraction(self, now: datetime, tk: Timekeeper) -> float:
        """How much of the budget is used: 0.8 is the yellow light, 1.0 the deadline."""
        return self.used_at(now, tk) / self.budget

    def reaches(self, fraction: float, tk: Timekeeper) -> datetime | None:
        """When the running clock reaches `fraction` of its budget; None unless running.

        A point already passed before the current run segment (the clock was overdue when it was
        paused) is reported as the segment's start: it is due at least since then.
        """
        if self.status is not ClockStatus.RUNNING:
            return None
        remaining = self.budget * fraction - self.used
        if remaining <= _ZERO:
            return self.since
        return tk.scale(self.kind).add(self.since, remaining)

    def deadline(self, tk: Timekeeper) -> datetime | None:
        """The instant the budget runs out if the clock keeps running; None when paused or stopped."""
        return self.reaches(1.0, tk)

    def overdue(self, now: datetime, tk: Timekeeper) -> timedelta:
        """Clock time past the budget at `now` (zero when within it)."""
        return max(self.used_at(now, tk) - self.budget, _ZERO)

    def pause(self, at: datetime, tk: Timekeeper) -> ClockState:
        if self.status is not ClockStatus.RUNNING:
            return self
        return ClockState(
            self.name,
            self.kind,
            self.budget,
            self.started_at,
            _PAUSED,
            at,
            self.used_at(at, tk),
            self.extended,
            self.steps_taken,
        )

    def resume(self, at: datetime) -> ClockState:
        if self.status is not ClockStatus.PAUSED:
            return self
        return ClockState(
            self.name,
            self.kind,
            self.budget,
            self.started_at,
            _RUNNING,
            at,
            self.used,
            self.extended,
            self.steps_taken,
        )

    def stop(self, at: datetime, tk: Timekeeper) -> ClockState:
        if self.status is ClockStatus.STOPPED:
            return self
        return ClockState(
            self.name,
            self.kind,
            self.budget,
            self.started_at,
            _STOPPED,
            at,
            self.used_at(at, tk),
            self.extended,
            self.steps_taken,
        )

    def extend(self, by: timedelta) -> ClockState:
        if by <= _ZERO:
            raise ClockError(f"clock {self.name}: extension {by} must be positive")
        return msgspec.structs.replace(self, budget=self.budget + by, extended=self.extended + by)

    def after_step(self, index: int) -> ClockState:
        """Record that escalation step `index` was taken, so it is never returned again."""
        if index < self.steps_taken:
            raise ClockError(f"clock {self.name}: step {index} was already taken")
        return ClockState(
            self.name,
            self.kind,
            self.budget,
            self.started_at,
            self.status,
            self.since,
            self.used,
            self.extended,
            index + 1,
        )


_FRESH_RUN = frozenset({ClockOp.START, ClockOp.RESTART, ClockOp.TIGHTEN})


def _fresh_run(
    out: dict[ClockName, ClockState],
    effect: ClockEffect,
    at: datetime,
    *,
    limits: CaseLimits,
    tk: Timekeeper,
    starts: dict[tuple[ClockName, ClockKind, timedelta, datetime], ClockState] | None,
) -> None:
    """START, RESTART and TIGHTEN in place: a fresh run under the case's limits as they are now
    (none when the limits have no budget for the clock). TIGHTEN touches only a running or
    paused clock, and a paused one stays paused. `starts`: fresh runs already built (a value:
    every case opened at one instant under the same limits starts the same)."""
    name, op = effect.clock, effect.op
    current = out.get(name)
    if op is ClockOp.TIGHTEN and (current is None or current.status is ClockStatus.STOPPED):
        return
    if op is ClockOp.START and current is not None and current.status is ClockStatus.RUNNING:
        raise ClockError(f"clock {name}: start while it is running (use restart)")
    budget = limits.budget(name)
    if budget is None:
        out.pop(name, None)
        return
    if starts is None:
        fresh = ClockState.start(name, limits.kind, budget, at)
    else:
        key = (name, limits.kind, budget, at)
        held = starts.get(key)
        fresh = starts[key] = ClockState.start(name, limits.kind, budget, at) if held is None else held
    paused = op is ClockOp.TIGHTEN and current is not None and current.status is ClockStatus.PAUSED
    out[name] = fresh.pause(at, tk) if paused else fresh


def apply_effects(
    clocks: Mapping[ClockName, ClockState],
    effects: Iterable[ClockEffect],
    at: datetime,
    *,
    limits: CaseLimits,
    tk: Timekeeper,
    starts: dict[tuple[ClockName, ClockKind, timedelta, datetime], ClockState] | None = None,
) -> dict[ClockName, ClockState]:
    """The case's clocks after one transition's effects, applied in order at `at`.

    Stopping, pausing or resuming a clock that is absent (no budget for this case) or already in
    that state changes nothing: one effect list serves every state the transition leaves from.
    `starts` (the intake's, per batch): fresh runs kept for the next case started alike.
    """
    out = dict(clocks)
    for effect in effects:
        name, op = effect.clock, effect.op
        current = out.get(name)
        if op in _FRESH_RUN:
            _fresh_run(out, effect, at, limits=limits, tk=tk, starts=starts)
        elif current is None:
            if op is ClockOp.EXTEND:
                raise ClockError(f"clock {name}: nothing to extend, the case has no such clock")
        elif op is ClockOp.STOP:
            out[name] = current.stop(at, tk)
        elif op is ClockOp.PAUSE:
            out[name] = current.pause(at, tk)
        elif op is ClockOp.RESUME:
            out[name] = current.resume(at)
        else:
            if effect.amount is None:
                raise ClockError(f"clock {name}: extend needs an amount")
            out[name] = current.extend(span(effect.amount, tk.scale(current.kind)))
    return out
