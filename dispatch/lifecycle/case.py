"""Cases and their events as values: the snapshot a caller loads, the event it records.

The database is a projection of the events (README: Case workflow), so `advance(snapshot, event)` — the only
place a snapshot changes — is also how a rebuild folds `dispatch.events` back into snapshots
(`replay`). It checks nothing: events were checked by `machine.apply` before they were written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from config.policy import Duration
from dispatch.lifecycle.errors import LifecycleError
from dispatch.lifecycle.states import Action, CaseState, Role
from dispatch.scope import CITY, Scope
from dispatch.sla.clocks import ClockEffect


class Actor(msgspec.Struct, frozen=True):
    """Who acts. `actor_id`: a worker id, an operator's login, an agency's source code.

    `scope` is the part of the city an operator acts in (`dispatch.scope`: a district, one
    street of it, or the whole city); other roles are scoped by who they are.
    """

    role: Role
    actor_id: str
    scope: Scope = CITY

    @property
    def street_code(self) -> str | None:
        """The operator's street (None: a district or the city), as events record it."""
        return self.scope.street


class CaseSnapshot(msgspec.Struct, frozen=True):
    """What the lifecycle needs to know about a case to decide the next transition."""

    case_id: str
    state: CaseState
    street_code: str | None
    sources: frozenset[str]  # agency source codes that reported it (they may reopen it)
    version: int  # events applied so far; the next event's sequence is version + 1
    updated_at: datetime
    assignee_id: str | None = None
    previous_state: CaseState | None = None  # where unpark / approve / deny go back to
    returns: int = 0
    returned_by: frozenset[str] = frozenset()
    reworks: int = 0
    reopens: int = 0
    extension_requests: int = 0
    requested_extension: Duration | None = None
    merged_into: str | None = None
    volunteer_id: str | None = None  # the volunteer whose resolution awaits (or passed) verification
    district_code: str | None = None  # None: not known (a snapshot folded from events)


class CaseEvent(msgspec.Struct, frozen=True):
    """One transition, as recorded on `dispatch.events` and projected into the database.

    `event_id` (case id and sequence) is the idempotency key: replaying an event changes nothing.
    `assignee_id` is the holder after the event (new on dispatch and reassign).
    `street_code` and `sources` are set on the `report` event only, so a rebuild needs no other input.
    """

    case_id: str
    sequence: int
    action: Action
    from_state: CaseState | None
    to_state: CaseState
    actor: Actor
    at: datetime
    reason: str | None = None
    assignee_id: str | None = None
    merged_into: str | None = None
    extension: Duration | None = None
    street_code: str | None = None
    sources: frozenset[str] = frozenset()

    @property
    def event_id(self) -> str:
        return f"{self.case_id}:{self.sequence}"


class TransitionResult(msgspec.Struct, frozen=True):
    """What to persist and publish: the event, the snapshot after it, and its clock effects."""

    case: CaseSnapshot
    event: CaseEvent
    clock_effects: tuple[ClockEffect, ...]


def advance(case: CaseSnapshot | None, event: CaseEvent) -> CaseSnapshot:
    """The snapshot after `event` (`case` is None for the `report` event that creates it)."""
    if case is None:
        if event.action is not Action.REPORT:
            raise LifecycleError(f"event {event.event_id}: a case begins with a report, not {event.action}")
        return CaseSnapshot(
            case_id=event.case_id,
            state=event.to_state,
            street_code=event.street_code,
            sources=event.sources,
            version=event.sequence,
            updated_at=event.at,
        )
    if event.case_id != case.case_id or event.sequence != case.version + 1:
        raise LifecycleError(
            f"event {event.event_id} does not follow case {case.case_id} at version {case.version}"
        )
    # One snapshot built per event (not one `replace` per changed field): the SLA tracker and
    # the replay advance cases thousands of times a second.
    assignee_id, previous_state = case.assignee_id, case.previous_state
    returns, returned_by, reworks, reopens = case.returns, case.returned_by, case.reworks, case.reopens
    extension_requests, requested_extension = case.extension_requests, case.requested_extension
    merged_into, volunteer_id = case.merged_into, case.volunteer_id
    action = event.action
    if action in _NAMES_ASSIGNEE:
        assignee_id = event.assignee_id
    elif action is Action.RETURN:
        assignee_id, returns, returned_by = None, returns + 1, returned_by | {event.actor.actor_id}
    elif action is Action.REQUEST_EXTENSION:
        previous_state, extension_requests = case.state, extension_requests + 1
        requested_extension = event.extension
    elif action is Action.PARK:
        previous_state = case.state
    elif action in _BACK_TO_PREVIOUS:
        previous_state = requested_extension = None
    elif action is Action.VOLUNTEER_RESOLVE:
        volunteer_id = event.actor.actor_id
    elif action in _FAILS:
        reworks, volunteer_id = reworks + 1, None
    elif action is Action.REOPEN:
        reopens, volunteer_id = reopens + 1, None
    elif action is Action.MERGE:
        merged_into = event.merged_into
    return CaseSnapshot(
        case.case_id,
        event.to_state,
        case.street_code,
        case.sources,
        event.sequence,
        event.at,
        assignee_id,
        previous_state,
        returns,
        returned_by,
        reworks,
        reopens,
        extension_requests,
        requested_extension,
        merged_into,
        volunteer_id,
    )


_NAMES_ASSIGNEE = frozenset({Action.DISPATCH, Action.REASSIGN})
_BACK_TO_PREVIOUS = frozenset({Action.APPROVE_EXTENSION, Action.DENY_EXTENSION, Action.UNPARK})
_FAILS = frozenset({Action.FAIL_VERIFICATION, Action.FAIL_VOLUNTEER})


def replay(events: Iterable[CaseEvent]) -> CaseSnapshot:
    """Fold a case's events, in sequence order, back into its snapshot."""
    case: CaseSnapshot | None = None
    for event in events:
        case = advance(case, event)
    if case is None:
        raise LifecycleError("no events to replay")
    return case
