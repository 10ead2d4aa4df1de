"""Clock arithmetic: pauses move deadlines by the paused time of the clock's own scale."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.policy import Duration
from dispatch.sla.calendar import ClockKind, Timekeeper
from dispatch.sla.clocks import (
    CaseLimits,
    ClockEffect,
    ClockName,
    ClockOp,
    ClockState,
    ClockStatus,
    apply_effects,
)
from dispatch.sla.errors import ClockError
from tests.dispatch.helpers import sh

H = timedelta(hours=1)
M = timedelta(minutes=1)


def _working(budget: timedelta, at_hour: int = 9, day: int = 3) -> ClockState:
    return ClockState.start(ClockName.RESOLVE, ClockKind.WORKING, budget, sh(2025, 3, day, at_hour))


def test_a_working_clock_started_late_runs_into_the_next_working_day(tk: Timekeeper) -> None:
    clock = ClockState.start(ClockName.ACCEPT, ClockKind.WORKING, H, sh(2025, 3, 7, 17, 30))
    assert clock.deadline(tk) == sh(2025, 3, 10, 9, 30)  # Friday 17:30 + 1 working hour


def test_pause_over_a_weekend_moves_the_deadline_by_working_time_only(tk: Timekeeper) -> None:
    clock = _working(4 * H, at_hour=9, day=7)  # Friday 09:00, 4 working hours: due 15:00 (lunch)
    assert clock.deadline(tk) == sh(2025, 3, 7, 15)
    paused = clock.pause(sh(2025, 3, 7, 10), tk)  # 1 h used
    assert (paused.status, paused.used, paused.deadline(tk)) == (ClockStatus.PAUSED, H, None)
    # while paused, time passes but the clock does not move
    assert paused.used_at(sh(2025, 3, 12, 10), tk) == H
    resumed = paused.resume(sh(2025, 3, 10, 15))  # Monday 15:00: 3 h left -> 18:00
    assert resumed.deadline(tk) == sh(2025, 3, 10, 18)
    assert resumed.fraction(sh(2025, 3, 10, 16), tk) == pytest.approx(0.5)


def test_pause_across_national_day(tk: Timekeeper) -> None:
    clock = ClockState.start(ClockName.RESOLVE, ClockKind.WORKING, 7 * H, sh(2024, 9, 30, 14))
    clock = clock.pause(sh(2024, 9, 30, 16), tk).resume(sh(2024, 9, 30, 17))
    # 2 h used before the pause, 5 h left from 17:00 Sep 30: 1 h that evening, 4 h on Oct 8
    assert clock.deadline(tk) == sh(2024, 10, 8, 15)


def test_natural_pause(tk: Timekeeper) -> None:
    clock = ClockState.start(ClockName.RESOLVE, ClockKind.NATURAL, 2 * H, sh(2025, 3, 8, 10))
    clock = clock.pause(sh(2025, 3, 8, 10, 30), tk).resume(sh(2025, 3, 8, 13))
    assert clock.deadline(tk) == sh(2025, 3, 8, 14, 30)


def test_stop_freezes_the_used_time(tk: Timekeeper) -> None:
    clock = _working(4 * H).stop(sh(2025, 3, 3, 11), tk)
    assert (clock.status, clock.used, clock.deadline(tk)) == (ClockStatus.STOPPED, 2 * H, None)
    assert clock.used_at(sh(2025, 3, 20, 11), tk) == 2 * H
    assert clock.stop(sh(2025, 3, 4, 11), tk) is clock
    assert clock.resume(sh(2025, 3, 4, 11)) is clock  # a stopped clock never runs again


def test_extension_grows_the_budget(tk: Timekeeper) -> None:
    clock = _working(4 * H).extend(7 * H)
    assert (clock.budget, clock.extended) == (11 * H, 7 * H)
    assert clock.deadline(tk) == sh(2025, 3, 4, 15)
    with pytest.raises(ClockError, match="must be positive"):
        clock.extend(timedelta(0))


def test_an_overdue_clock_paused_and_resumed_is_due_since_it_resumed(tk: Timekeeper) -> None:
    clock = _working(H).pause(sh(2025, 3, 3, 11), tk)  # 2 h used of 1 h
    resumed = clock.resume(sh(2025, 3, 4, 9))
    assert resumed.deadline(tk) == sh(2025, 3, 4, 9)
    assert resumed.overdue(sh(2025, 3, 4, 10), tk) == 2 * H


def test_time_before_the_segment_start_counts_as_none(tk: Timekeeper) -> None:
    clock = _working(H, at_hour=10)
    assert clock.used_at(sh(2025, 3, 3, 9), tk) == timedelta(0)


def test_steps_are_recorded_once() -> None:
    clock = _working(H).after_step(0)
    assert clock.steps_taken == 1
    with pytest.raises(ClockError, match="already taken"):
        clock.after_step(0)


LIMITS = CaseLimits(
    kind=ClockKind.WORKING,
    budgets={ClockName.REGISTER: 30 * M, ClockName.ACCEPT: H, ClockName.RESOLVE: 4 * H, ClockName.VERIFY: H},
)


def _fx(op: ClockOp, *names: ClockName, amount: Duration | None = None) -> list[ClockEffect]:
    return [ClockEffect(n, op, amount) for n in names]


def test_apply_effects_follows_a_case(tk: Timekeeper) -> None:
    at = sh(2025, 3, 3, 9)
    clocks = apply_effects({}, _fx(ClockOp.START, ClockName.REGISTER), at, limits=LIMITS, tk=tk)
    dispatch = _fx(ClockOp.STOP, ClockName.REGISTER) + _fx(
        ClockOp.START, ClockName.ACCEPT, ClockName.ON_SITE, ClockName.RESOLVE
    )
    clocks = apply_effects(clocks, dispatch, at + 10 * M, limits=LIMITS, tk=tk)
    assert ClockName.ON_SITE not in clocks  # P3 has no on-site limit: never started
    assert clocks[ClockName.REGISTER].status is ClockStatus.STOPPED
    assert clocks[ClockName.REGISTER].used == 10 * M
    assert clocks[ClockName.RESOLVE].deadline(tk) == sh(2025, 3, 3, 15, 10)
    clocks = apply_effects(
        clocks, _fx(ClockOp.PAUSE, ClockName.RESOLVE, ClockName.ON_SITE), at + H, limits=LIMITS, tk=tk
    )
    clocks = apply_effects(
        clocks,
        _fx(ClockOp.EXTEND, ClockName.RESOLVE, amount=Duration(1, "d"))
        + _fx(ClockOp.RESUME, ClockName.RESOLVE),
        sh(2025, 3, 4, 9),
        limits=LIMITS,
        tk=tk,
    )
    resolve = clocks[ClockName.RESOLVE]
    assert (resolve.budget, resolve.used) == (11 * H, 50 * M)
    assert resolve.deadline(tk) == sh(2025, 3, 5, 14, 10)  # 10 h 10 min left from Tuesday 09:00
    restarted = apply_effects(
        clocks, _fx(ClockOp.RESTART, ClockName.RESOLVE), sh(2025, 3, 4, 10), limits=LIMITS, tk=tk
    )
    assert restarted[ClockName.RESOLVE].budget == 4 * H
    assert restarted[ClockName.RESOLVE].started_at == sh(2025, 3, 4, 10)


def test_apply_effects_refuses_contradictions(tk: Timekeeper) -> None:
    at = sh(2025, 3, 3, 9)
    clocks = apply_effects({}, _fx(ClockOp.START, ClockName.ACCEPT), at, limits=LIMITS, tk=tk)
    with pytest.raises(ClockError, match="start while it is running"):
        apply_effects(clocks, _fx(ClockOp.START, ClockName.ACCEPT), at, limits=LIMITS, tk=tk)
    with pytest.raises(ClockError, match="nothing to extend"):
        apply_effects(
            clocks, _fx(ClockOp.EXTEND, ClockName.RESOLVE, amount=Duration(1, "d")), at, limits=LIMITS, tk=tk
        )
    with pytest.raises(ClockError, match="needs an amount"):
        apply_effects(clocks, _fx(ClockOp.EXTEND, ClockName.ACCEPT), at, limits=LIMITS, tk=tk)


def test_idempotent_ops_on_absent_or_settled_clocks_change_nothing(tk: Timekeeper) -> None:
    at = sh(2025, 3, 3, 9)
    clocks = apply_effects({}, _fx(ClockOp.START, ClockName.ACCEPT), at, limits=LIMITS, tk=tk)
    same = apply_effects(
        clocks,
        _fx(ClockOp.STOP, ClockName.ON_SITE)
        + _fx(ClockOp.RESUME, ClockName.ACCEPT)
        + _fx(ClockOp.PAUSE, ClockName.VERIFY),
        at + H,
        limits=LIMITS,
        tk=tk,
    )
    assert same == clocks


def test_start_refuses_a_non_positive_budget_and_naive_time() -> None:
    with pytest.raises(ClockError, match="must be positive"):
        ClockState.start(ClockName.ACCEPT, ClockKind.NATURAL, timedelta(0), sh(2025, 3, 3))
    with pytest.raises(ValueError, match="naive"):
        ClockState.start(ClockName.ACCEPT, ClockKind.NATURAL, H, sh(2025, 3, 3).replace(tzinfo=None))
