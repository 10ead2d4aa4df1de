"""`apply` beyond the table: who may act on this case, the details, extensions, events and replay."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from config.policy import Duration
from dispatch.lifecycle.case import Actor, CaseEvent, advance, replay
from dispatch.lifecycle.errors import DetailError, IllegalTransition, LifecycleError, NotYours
from dispatch.lifecycle.machine import REPORT_ROLES, apply, clock_effects, open_case
from dispatch.lifecycle.states import Action, CaseState, Role
from dispatch.scope import Scope
from dispatch.sla.clocks import ClockEffect, ClockName, ClockOp
from dispatch.sla.policy import SlaPolicy
from tests.dispatch.helpers import ACTORS, sh, snapshot

AT = sh(2025, 3, 3, 10)
OPERATOR = ACTORS[Role.OPERATOR]
WORKER = ACTORS[Role.GRID_WORKER]
SYSTEM = ACTORS[Role.SYSTEM]


@pytest.fixture
def act(sla: SlaPolicy) -> Any:
    return partial(apply, extension_policy=sla.extension)


def _fx(op: ClockOp, *names: ClockName) -> tuple[ClockEffect, ...]:
    return tuple(ClockEffect(n, op) for n in names)


@pytest.mark.parametrize(
    ("state", "action", "actor", "why"),
    [
        (CaseState.DISPATCHED, Action.ACCEPT, Actor(Role.GRID_WORKER, "w-9"), "does not hold this case"),
        (CaseState.ACCEPTED, Action.RESOLVE, Actor(Role.GRID_WORKER, "w-9"), "does not hold this case"),
        (CaseState.ON_SITE, Action.RETURN, Actor(Role.GRID_WORKER, "w-9"), "does not hold this case"),
        (
            CaseState.RESOLVED,
            Action.VERIFY,
            Actor(Role.OPERATOR, "op-2", Scope(street="500106002")),
            "outside op-2's street",
        ),
        (CaseState.CLOSED, Action.REOPEN, Actor(Role.AGENCY, "police"), "agency police did not report"),
    ],
)
def test_the_right_role_on_someone_elses_case_is_refused(
    act: Any, state: CaseState, action: Action, actor: Actor, why: str
) -> None:
    with pytest.raises(NotYours, match=why):
        act(snapshot(state), action, actor, AT, "a reason")


def test_scoped_and_district_operators_act_within_their_scope(act: Any) -> None:
    case = snapshot(CaseState.RESOLVED)
    assert (
        act(case, Action.VERIFY, Actor(Role.OPERATOR, "op-2", Scope(street="500106001")), AT).case.state
        is CaseState.VERIFIED
    )
    assert act(case, Action.VERIFY, Actor(Role.OPERATOR, "op-3"), AT).case.state is CaseState.VERIFIED


def test_an_unassigned_case_belongs_to_no_worker(act: Any) -> None:
    with pytest.raises(NotYours, match="assignee: None"):
        act(snapshot(CaseState.DISPATCHED, assignee_id=None), Action.ACCEPT, WORKER, AT)


@pytest.mark.parametrize(
    ("state", "action", "given", "field", "message"),
    [
        (CaseState.REGISTERED, Action.DISPATCH, {}, "assignee", "needs the worker"),
        (CaseState.DISPATCHED, Action.REASSIGN, {"assignee": "w-1"}, "assignee", "already holds"),
        (CaseState.DISPATCHED, Action.ACCEPT, {"assignee": "w-2"}, "assignee", "only dispatch and reassign"),
        (CaseState.REPORTED, Action.MERGE, {}, "merged_into", "needs the case"),
        (CaseState.REPORTED, Action.MERGE, {"merged_into": "c-1"}, "merged_into", "into itself"),
        (CaseState.REPORTED, Action.REGISTER, {"merged_into": "c-0"}, "merged_into", "only merge"),
        (CaseState.ACCEPTED, Action.REQUEST_EXTENSION, {}, "extension", "needs the amount"),
        (
            CaseState.ACCEPTED,
            Action.REQUEST_EXTENSION,
            {"extension": Duration(11, "d")},
            "extension",
            "more than",
        ),
        (CaseState.ACCEPTED, Action.RESOLVE, {"extension": Duration(1, "d")}, "extension", "only extension"),
        (
            CaseState.EXTENSION_REQUESTED,
            Action.APPROVE_EXTENSION,
            {"extension": Duration(6, "d")},
            "extension",
            "exceeds the 5d requested",
        ),
    ],
)
def test_details_are_checked_naming_the_field(
    act: Any, *, state: CaseState, action: Action, given: dict[str, Any], field: str, message: str
) -> None:
    role = (
        Role.GRID_WORKER
        if action in (Action.ACCEPT, Action.RESOLVE, Action.REQUEST_EXTENSION)
        else Role.OPERATOR
    )
    with pytest.raises(DetailError, match=message) as info:
        act(snapshot(state), action, ACTORS[role], AT, "a reason", **given)
    assert info.value.field == field


def test_naive_time_is_refused(act: Any) -> None:
    with pytest.raises(DetailError, match="naive") as info:
        act(snapshot(CaseState.REPORTED), Action.REGISTER, SYSTEM, AT.replace(tzinfo=None))
    assert info.value.field == "at"


def test_one_extension_request_per_case(act: Any) -> None:
    case = snapshot(CaseState.ACCEPTED)
    asked = act(case, Action.REQUEST_EXTENSION, WORKER, AT, "waiting for parts", extension=Duration(3, "d"))
    assert asked.case.state is CaseState.EXTENSION_REQUESTED
    assert (asked.case.previous_state, asked.case.requested_extension) == (
        CaseState.ACCEPTED,
        Duration(3, "d"),
    )
    assert asked.clock_effects == _fx(ClockOp.PAUSE, ClockName.RESOLVE)
    denied = act(asked.case, Action.DENY_EXTENSION, OPERATOR, AT, "the parts are in stock")
    assert denied.case.state is CaseState.ACCEPTED and denied.case.requested_extension is None
    assert denied.clock_effects == _fx(ClockOp.RESUME, ClockName.RESOLVE)
    with pytest.raises(IllegalTransition, match=r"1 extension request.*at most 1"):
        act(denied.case, Action.REQUEST_EXTENSION, WORKER, AT, "again", extension=Duration(1, "d"))


def test_approval_grants_the_request_or_less_and_resumes_the_previous_state(act: Any) -> None:
    case = snapshot(CaseState.EXTENSION_REQUESTED)  # asked for 5d while on site
    full = act(case, Action.APPROVE_EXTENSION, OPERATOR, AT)
    assert full.case.state is CaseState.ON_SITE and full.event.extension == Duration(5, "d")
    assert full.clock_effects == (
        ClockEffect(ClockName.RESOLVE, ClockOp.EXTEND, Duration(5, "d")),
        ClockEffect(ClockName.RESOLVE, ClockOp.RESUME),
    )
    part = act(case, Action.APPROVE_EXTENSION, OPERATOR, AT, extension=Duration(20, "h"))
    assert part.clock_effects[0].amount == Duration(20, "h")


def test_parking_remembers_where_the_case_was(act: Any) -> None:
    parked = act(snapshot(CaseState.DISPATCHED), Action.PARK, OPERATOR, AT, "needs a budget decision")
    assert (parked.case.state, parked.case.previous_state) == (CaseState.PARKED, CaseState.DISPATCHED)
    everything = (ClockName.REGISTER, ClockName.ACCEPT, ClockName.ON_SITE, ClockName.RESOLVE)
    assert parked.clock_effects == _fx(ClockOp.PAUSE, *everything)
    back = act(parked.case, Action.UNPARK, OPERATOR, AT)
    assert (back.case.state, back.case.previous_state) == (CaseState.DISPATCHED, None)
    assert back.clock_effects == _fx(ClockOp.RESUME, *everything)


def test_a_snapshot_without_its_previous_state_is_an_error_not_a_guess(act: Any) -> None:
    with pytest.raises(LifecycleError, match="without a previous state"):
        act(snapshot(CaseState.PARKED, previous_state=None), Action.UNPARK, OPERATOR, AT)


def test_return_counts_and_frees_the_case(act: Any) -> None:
    returned = act(snapshot(CaseState.ACCEPTED), Action.RETURN, WORKER, AT, "not in my grid")
    case = returned.case
    assert (case.state, case.assignee_id, case.returns, case.returned_by) == (
        CaseState.RETURNED,
        None,
        1,
        frozenset({"w-1"}),
    )
    assert returned.clock_effects == _fx(
        ClockOp.STOP, ClockName.ACCEPT, ClockName.ON_SITE, ClockName.RESOLVE
    ) + _fx(ClockOp.START, ClockName.REGISTER)
    again = act(case, Action.DISPATCH, SYSTEM, AT, assignee="w-2")
    assert (again.case.assignee_id, again.case.returns, again.event.assignee_id) == ("w-2", 1, "w-2")


def test_rework_restarts_the_resolve_clock_and_asks_for_acceptance(act: Any) -> None:
    failed = act(snapshot(CaseState.RESOLVED), Action.FAIL_VERIFICATION, OPERATOR, AT, "still dirty")
    assert (failed.case.state, failed.case.reworks, failed.case.assignee_id) == (CaseState.REWORK, 1, "w-1")
    assert failed.clock_effects == (
        ClockEffect(ClockName.VERIFY, ClockOp.STOP),
        ClockEffect(ClockName.ACCEPT, ClockOp.START),
        ClockEffect(ClockName.RESOLVE, ClockOp.RESTART),
    )


def test_reopen_counts_and_restarts_registration(act: Any) -> None:
    reopened = act(
        snapshot(CaseState.CLOSED), Action.REOPEN, ACTORS[Role.AGENCY], AT, "citizen says not fixed"
    )
    assert (reopened.case.state, reopened.case.reopens) == (CaseState.REOPENED, 1)
    assert reopened.clock_effects == _fx(ClockOp.START, ClockName.REGISTER)


def test_merge_records_the_surviving_case(act: Any) -> None:
    merged = act(snapshot(CaseState.REPORTED), Action.MERGE, SYSTEM, AT, merged_into="c-0")
    assert (merged.case.state, merged.case.merged_into, merged.event.merged_into) == (
        CaseState.MERGED,
        "c-0",
        "c-0",
    )


def test_open_case_starts_the_register_clock() -> None:
    opened = open_case(
        "c-7", street_code="500106001", sources=frozenset({"police"}), actor=SYSTEM, at=sh(2025, 3, 3, 9)
    )
    assert (opened.case.state, opened.case.version, opened.event.event_id) == (CaseState.REPORTED, 1, "c-7:1")
    assert opened.clock_effects == _fx(ClockOp.START, ClockName.REGISTER)
    assert clock_effects(opened.event) == opened.clock_effects
    for role in set(Role) - REPORT_ROLES:
        with pytest.raises(IllegalTransition, match=f"as {role}"):
            open_case("c-8", street_code=None, sources=frozenset(), actor=ACTORS[role], at=AT)
    with pytest.raises(NotYours, match="outside"):
        open_case(
            "c-8",
            street_code="500106003",
            sources=frozenset(),
            actor=Actor(Role.OPERATOR, "o", Scope(street="500106001")),
            at=AT,
        )
    with pytest.raises(DetailError, match="case_id"):
        open_case("", street_code=None, sources=frozenset(), actor=SYSTEM, at=AT)


def test_a_whole_case_replays_from_its_events(act: Any) -> None:
    opened = open_case(
        "c-9", street_code="500106001", sources=frozenset({"hotline"}), actor=SYSTEM, at=sh(2025, 3, 3, 9)
    )
    steps: list[tuple[Action, Actor, dict[str, Any]]] = [
        (Action.REGISTER, SYSTEM, {}),
        (Action.DISPATCH, SYSTEM, {"assignee": "w-1"}),
        (Action.RETURN, WORKER, {"reason": "not mine"}),
        (Action.DISPATCH, OPERATOR, {"assignee": "w-2"}),
        (Action.ACCEPT, Actor(Role.GRID_WORKER, "w-2"), {}),
        (
            Action.REQUEST_EXTENSION,
            Actor(Role.GRID_WORKER, "w-2"),
            {"reason": "parts", "extension": Duration(2, "d")},
        ),
        (Action.APPROVE_EXTENSION, OPERATOR, {}),
        (Action.ARRIVE, Actor(Role.GRID_WORKER, "w-2"), {}),
        (Action.RESOLVE, Actor(Role.GRID_WORKER, "w-2"), {}),
        (Action.FAIL_VERIFICATION, OPERATOR, {"reason": "still broken"}),
        (Action.ACCEPT, Actor(Role.GRID_WORKER, "w-2"), {}),
        (Action.RESOLVE, Actor(Role.GRID_WORKER, "w-2"), {}),
        (Action.VERIFY, OPERATOR, {}),
        (Action.CLOSE, SYSTEM, {}),
        (Action.REOPEN, ACTORS[Role.CITIZEN], {"reason": "broken again"}),
        (Action.ESCALATE, OPERATOR, {"reason": "third time"}),
    ]
    case, events = opened.case, [opened.event]
    for i, (action, actor, given) in enumerate(steps):
        reason = given.pop("reason", None)
        result = act(case, action, actor, sh(2025, 3, 3, 10, i), reason, **given)
        assert clock_effects(result.event) == result.clock_effects
        case = result.case
        events.append(result.event)
    assert case.state is CaseState.REOPENED
    assert (case.returns, case.reworks, case.reopens, case.extension_requests, case.version) == (
        1,
        1,
        1,
        1,
        17,
    )
    assert replay(events) == case
    assert [e.event_id for e in events][-1] == "c-9:17"


def test_advance_refuses_events_out_of_order() -> None:
    opened = open_case("c-1", street_code=None, sources=frozenset(), actor=SYSTEM, at=AT)
    stale = CaseEvent("c-1", 1, Action.REGISTER, CaseState.REPORTED, CaseState.REGISTERED, SYSTEM, AT)
    with pytest.raises(LifecycleError, match="does not follow"):
        advance(opened.case, stale)
    with pytest.raises(LifecycleError, match="begins with a report"):
        advance(None, stale)
    with pytest.raises(LifecycleError, match="no events"):
        replay([])
    with pytest.raises(LifecycleError, match="not in the table"):
        clock_effects(CaseEvent("c-1", 2, Action.ACCEPT, CaseState.CLOSED, CaseState.ACCEPTED, WORKER, AT))
