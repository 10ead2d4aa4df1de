"""The lifecycle driving real clocks: every reachable configuration, and random timed walks.

The invariants below say, per state, which clocks must be running or paused (README: Case workflow): they
are written independently of the table, so a wrong clock effect anywhere in the table shows up as,
say, a resolve clock still running on a parked case. The breadth-first exploration visits every
distinct (state, previous state, extension used, clock statuses) configuration reachable from a
new report and tries every allowed move from each, so every table cell is exercised with clocks.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.policy import Duration, Priority
from dispatch.lifecycle.case import Actor, CaseSnapshot
from dispatch.lifecycle.machine import apply, open_case
from dispatch.lifecycle.states import Action, CaseState, Role
from dispatch.sla.clocks import ClockName, ClockState, ClockStatus, apply_effects
from dispatch.sla.deadlines import Deadlines
from dispatch.sla.escalation import next_step
from dispatch.sla.ladder import EscalationPolicy
from dispatch.sla.policy import SlaPolicy
from tests.dispatch.helpers import sh
from tests.dispatch.lifecycle_spec import SPEC

R, A, ON, S, V = ClockName.REGISTER, ClockName.ACCEPT, ClockName.ON_SITE, ClockName.RESOLVE, ClockName.VERIFY


def _status(clocks: dict[ClockName, ClockState], name: ClockName) -> ClockStatus | None:
    clock = clocks.get(name)
    return clock.status if clock is not None else None


def check_invariants(state: CaseState, clocks: dict[ClockName, ClockState], has_on_site: bool) -> None:
    running = {n for n, c in clocks.items() if c.status is ClockStatus.RUNNING}
    paused = {n for n, c in clocks.items() if c.status is ClockStatus.PAUSED}
    where = f"{state}: running {sorted(running)}, paused {sorted(paused)}"
    if state in (CaseState.REPORTED, CaseState.REGISTERED, CaseState.RETURNED, CaseState.REOPENED):
        assert running == {R} and not paused, where
    elif state is CaseState.DISPATCHED:
        assert running == ({A, S, ON} if has_on_site else {A, S}) and not paused, where
    elif state is CaseState.REWORK:
        assert running == {A, S} and not paused, where
    elif state is CaseState.ACCEPTED:
        assert S in running and not running & {R, A, V} and not paused, where
    elif state is CaseState.ON_SITE:
        assert running == {S} and not paused, where
    elif state is CaseState.EXTENSION_REQUESTED:
        assert paused == {S} and not running & {R, A, V}, where
    elif state is CaseState.PARKED:
        assert not running and paused, where
    elif state is CaseState.RESOLVED:
        assert running == {V} and _status(clocks, S) is ClockStatus.STOPPED and not paused, where
    else:  # verified, closed, merged, rejected
        assert not running and not paused, where
    if not has_on_site:
        assert ON not in clocks, where


def _moves(case: CaseSnapshot) -> list[tuple[Action, Role]]:
    moves = [(a, r) for (s, a), cell in SPEC.items() if s is case.state for r in sorted(cell.roles)]
    if case.extension_requests >= 1:
        moves = [(a, r) for a, r in moves if a is not Action.REQUEST_EXTENSION]
    return moves


def _details(action: Action, case: CaseSnapshot, serial: int) -> dict[str, Any]:
    if action in (Action.DISPATCH, Action.REASSIGN):
        return {"assignee": f"w-{serial}"}
    if action is Action.MERGE:
        return {"merged_into": "c-0"}
    if action is Action.REQUEST_EXTENSION:
        return {"extension": Duration(1 + serial % 10, "d")}
    return {}


def _actor(role: Role, case: CaseSnapshot) -> Actor:
    if role is Role.GRID_WORKER:
        return Actor(role, case.assignee_id or "nobody")
    return Actor(role, "hotline" if role is Role.AGENCY else f"{role}-1")


Key = tuple[CaseState, CaseState | None, int, tuple[tuple[ClockName, ClockStatus], ...]]


def _key(case: CaseSnapshot, clocks: dict[ClockName, ClockState]) -> Key:
    statuses = tuple(sorted((n, c.status) for n, c in clocks.items()))
    return (case.state, case.previous_state, case.extension_requests, statuses)


@pytest.mark.parametrize(
    ("category", "priority"), [("manhole_cover_missing", Priority.P1), ("exposed_garbage", Priority.P3)]
)
def test_every_reachable_configuration_keeps_the_clocks_consistent(
    sla: SlaPolicy, deadlines: Deadlines, category: str, priority: Priority
) -> None:
    limits = deadlines.limits(category, priority)
    tk = deadlines.tk
    has_on_site = limits.budget(ON) is not None
    act = partial(apply, extension_policy=sla.extension)
    at = sh(2025, 3, 3, 9)
    opened = open_case(
        "c-1", street_code="500106001", sources=frozenset({"hotline"}), actor=Actor(Role.SYSTEM, "r"), at=at
    )
    first = (opened.case, apply_effects({}, opened.clock_effects, at, limits=limits, tk=tk))
    seen = {_key(*first)}
    queue = deque([first])
    exercised: set[tuple[CaseState, Action]] = set()
    serial = 0
    while queue:
        case, clocks = queue.popleft()
        for action, role in _moves(case):
            serial += 1
            when = case.updated_at + timedelta(minutes=7)
            result = act(case, action, _actor(role, case), when, "a reason", **_details(action, case, serial))
            after = apply_effects(clocks, result.clock_effects, when, limits=limits, tk=tk)
            check_invariants(result.case.state, after, has_on_site)
            exercised.add((case.state, action))
            key = _key(result.case, after)
            if key not in seen:
                seen.add(key)
                queue.append((result.case, after))
    assert exercised == set(SPEC)
    assert len(seen) > len(CaseState)  # the same state is reached with different clocks


@settings(max_examples=200, deadline=None)
@given(
    priority=st.sampled_from([Priority.P1, Priority.P3]),
    choices=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=40),
    gaps=st.lists(st.integers(min_value=1, max_value=600), min_size=40, max_size=40),
)
def test_random_walks_keep_the_clocks_consistent(
    sla: SlaPolicy,
    deadlines: Deadlines,
    escalation: EscalationPolicy,
    *,
    priority: Priority,
    choices: list[int],
    gaps: list[int],
) -> None:
    category = "manhole_cover_missing" if priority is Priority.P1 else "exposed_garbage"
    limits = deadlines.limits(category, priority)
    tk = deadlines.tk
    has_on_site = limits.budget(ON) is not None
    act = partial(apply, extension_policy=sla.extension)
    at = sh(2025, 3, 3, 8, 30)
    system = Actor(Role.SYSTEM, "router")
    opened = open_case("c-1", street_code="500106001", sources=frozenset({"hotline"}), actor=system, at=at)
    case = opened.case
    clocks = apply_effects({}, opened.clock_effects, at, limits=limits, tk=tk)
    check_invariants(case.state, clocks, has_on_site)
    for serial, (choice, gap) in enumerate(zip(choices, gaps, strict=False), start=1):
        moves = _moves(case)
        if not moves:
            break
        action, role = moves[choice % len(moves)]
        at += timedelta(minutes=gap)
        result = act(case, action, _actor(role, case), at, "a reason", **_details(action, case, serial))
        clocks = apply_effects(clocks, result.clock_effects, at, limits=limits, tk=tk)
        case = result.case
        check_invariants(case.state, clocks, has_on_site)
        for clock in clocks.values():
            step = next_step(escalation, clock, at, tk)
            assert (step.at is None) == (clock.status is not ClockStatus.RUNNING), (case.state, clock)
            assert clock.used_at(at, tk) >= timedelta(0)
