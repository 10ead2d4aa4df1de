"""The state machine, exhaustively: every state x action x role is allowed as the spec says or refused."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from dispatch.lifecycle.errors import DetailError, IllegalTransition, NotYours
from dispatch.lifecycle.machine import apply
from dispatch.lifecycle.states import OPEN, TERMINAL, Action, CaseState, Role
from dispatch.lifecycle.table import TABLE, Next
from dispatch.sla.policy import SlaPolicy
from tests.dispatch.helpers import ACTORS, details, sh, snapshot
from tests.dispatch.lifecycle_spec import SPEC


@pytest.fixture
def act(sla: SlaPolicy) -> Any:
    return partial(apply, extension_policy=sla.extension)


@pytest.mark.parametrize("state", list(CaseState))
def test_every_cell_is_allowed_or_refused_as_specified(state: CaseState, act: Any) -> None:
    wrong: list[str] = []
    at = sh(2025, 3, 3, 10)
    for action in Action:
        cell = SPEC.get((state, action))
        for role in Role:
            case = snapshot(state)
            try:
                result = act(case, action, ACTORS[role], at, "a reason", **details(action))
            except NotYours as exc:
                wrong.append(f"{state}/{action}/{role}: refused as not theirs: {exc}")
                continue
            except IllegalTransition as exc:
                if cell is not None and role in cell.roles:
                    wrong.append(f"{state}/{action}/{role}: refused, spec allows: {exc}")
                for word in (state.value, action.value, role.value):
                    if word not in str(exc):
                        wrong.append(f"{state}/{action}/{role}: message lacks {word!r}: {exc}")
                continue
            if cell is None or role not in cell.roles:
                wrong.append(f"{state}/{action}/{role}: allowed, spec refuses")
                continue
            expected = {"same": state, "previous": CaseState.ON_SITE}.get(cell.to) or CaseState(cell.to)
            event = result.event
            got = (
                event.from_state,
                event.to_state,
                result.case.state,
                event.sequence,
                event.action,
                event.actor,
            )
            if got != (state, expected, expected, 6, action, ACTORS[role]):
                wrong.append(f"{state}/{action}/{role}: {got}")
    assert not wrong, "\n".join(wrong)


def test_the_code_table_and_the_spec_agree_line_by_line() -> None:
    assert set(TABLE) == set(SPEC)
    for key, rule in TABLE.items():
        cell = SPEC[key]
        assert (rule.roles, rule.reason) == (cell.roles, cell.reason), key
        assert rule.target.value == cell.to, key


@pytest.mark.parametrize("key", sorted(k for k, cell in SPEC.items() if cell.reason))
def test_a_missing_or_blank_reason_is_refused(key: tuple[CaseState, Action], act: Any) -> None:
    state, action = key
    role = sorted(SPEC[key].roles)[0]
    for reason in (None, "", "   "):
        with pytest.raises(DetailError, match=f"reason: {action} needs a reason") as info:
            act(snapshot(state), action, ACTORS[role], sh(2025, 3, 3, 10), reason, **details(action))
        assert info.value.field == "reason"


@pytest.mark.parametrize("key", sorted(k for k, cell in SPEC.items() if not cell.reason))
def test_a_reason_is_optional_elsewhere_and_kept_when_given(key: tuple[CaseState, Action], act: Any) -> None:
    state, action = key
    role = sorted(SPEC[key].roles)[0]
    at = sh(2025, 3, 3, 10)
    assert act(snapshot(state), action, ACTORS[role], at, None, **details(action)).event.reason is None
    assert act(snapshot(state), action, ACTORS[role], at, " why ", **details(action)).event.reason == "why"


def test_every_state_is_reachable_and_only_merged_and_rejected_are_dead_ends() -> None:
    reachable = {CaseState.REPORTED}
    frontier = [CaseState.REPORTED]
    while frontier:
        state = frontier.pop()
        for (source, _action), rule in TABLE.items():
            if source is not state:
                continue
            targets = (
                [state]
                if rule.target is Next.SAME
                else [CaseState.ACCEPTED, CaseState.ON_SITE, CaseState.REGISTERED, CaseState.DISPATCHED]
                if rule.target is Next.PREVIOUS
                else [rule.target]
            )
            for target in targets:
                if isinstance(target, CaseState) and target not in reachable:
                    reachable.add(target)
                    frontier.append(target)
    assert reachable == set(CaseState)
    exits = {s for (s, a) in TABLE if a is not Action.ESCALATE}
    assert exits == set(CaseState) - TERMINAL
    assert {a for (s, a) in TABLE if s is CaseState.CLOSED} == {Action.REOPEN}
    assert {s for (s, a) in TABLE if a is Action.ESCALATE} == OPEN
