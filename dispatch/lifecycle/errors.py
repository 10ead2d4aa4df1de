"""The lifecycle's error root and its refusals, each naming what was refused and why.

The API maps them to HTTP at its edge: `NotYours` -> 403, `IllegalTransition` -> 409,
`DetailError` -> 422.
"""

from __future__ import annotations

from dispatch.lifecycle.states import Action, CaseState, Role


class LifecycleError(Exception):
    """Anything the case lifecycle refuses."""


class IllegalTransition(LifecycleError):
    """The table has no such transition from this state, or not for this role."""

    def __init__(self, state: CaseState, action: Action, role: Role, why: str) -> None:
        self.state, self.action, self.role = state, action, role
        super().__init__(f"cannot {action} a case in state {state} as {role}: {why}")


class NotYours(IllegalTransition):
    """The role may make the transition, but not on this case (not the assignee, other street...)."""


class DetailError(LifecycleError):
    """A transition's detail is missing or invalid; `field` names it (reason, assignee, ...) and
    `code` says what is wrong with it in a stable word (`required`, `unknown_worker`, …): the
    pages word the message in their own language from the code, never from the English text."""

    def __init__(self, field: str, message: str, *, code: str = "invalid") -> None:
        self.field = field
        self.code = code
        super().__init__(f"{field}: {message}")
