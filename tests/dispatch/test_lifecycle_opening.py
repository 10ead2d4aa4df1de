"""The intake's opening transitions (`Opening`) build what `open_case` and `apply` build."""

from __future__ import annotations

from datetime import datetime

import pytest

from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.errors import DetailError, LifecycleError
from dispatch.lifecycle.machine import Opening, apply, open_case
from dispatch.lifecycle.states import Action, Role
from dispatch.sla.policy import SlaPolicy
from tests.dispatch.helpers import sh

SYSTEM = Actor(Role.SYSTEM, "intake")
OPENING = Opening(SYSTEM)


CASES = [
    ("500106001", "12345", sh(2025, 3, 3, 9, 59), sh(2025, 3, 3, 10), "eligible worker w1"),
    (None, "110", sh(2025, 3, 1, 23), sh(2025, 3, 2, 1), "  spaced reason\n"),
]


@pytest.mark.parametrize("given", CASES)
def test_opening_equals_the_machine(
    given: tuple[str | None, str, datetime, datetime, str], sla: SlaPolicy
) -> None:
    street, source, received, at, reason = given
    ext = sla.extension
    first = open_case("c-1", street_code=street, sources=frozenset({source}), actor=SYSTEM, at=received)
    reported = OPENING.report("c-1", street_code=street, source=source, at=received)
    assert reported == first
    second = apply(first.case, Action.REGISTER, SYSTEM, at, extension_policy=ext)
    registered = OPENING.register(reported, at=at)
    assert (registered.case, registered.events, registered.clock_effects) == (
        second.case,
        (second.event,),
        second.clock_effects,
    )
    third = apply(second.case, Action.DISPATCH, SYSTEM, at, reason, extension_policy=ext, assignee="w1")
    dispatched = OPENING.dispatch(reported, at=at, reason=reason, assignee="w1")
    assert (dispatched.case, dispatched.events, dispatched.clock_effects) == (
        third.case,
        (second.event, third.event),
        second.clock_effects + third.clock_effects,
    )


def test_opening_refuses_what_the_machine_refuses() -> None:
    reported = OPENING.report("c-1", street_code=None, source="110", at=sh(2025, 3, 3, 10))
    with pytest.raises(DetailError, match="at"):
        OPENING.register(reported, at=datetime(2025, 3, 3, 10))  # noqa: DTZ001
    with pytest.raises(DetailError, match="assignee"):
        OPENING.dispatch(reported, at=sh(2025, 3, 3, 10), reason="r", assignee="")
    with pytest.raises(DetailError, match="case_id"):
        OPENING.report("", street_code=None, source="110", at=sh(2025, 3, 3, 10))
    with pytest.raises(LifecycleError, match="system"):
        Opening(Actor(Role.OPERATOR, "op"))
