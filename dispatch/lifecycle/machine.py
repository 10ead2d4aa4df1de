"""`open_case` and `apply`: every transition is checked here before anything is written.

`Opening` is the intake's way through the same checks for the first transitions of a new case
(thousands a second): checked against the table once, built directly per case.

The caller loads a `CaseSnapshot`, calls `apply`, and on success persists `result.event`
(keyed by its `event_id`), stores `result.case`, applies `result.clock_effects` to the case's
clocks (`dispatch.sla.clocks.apply_effects`) and publishes the event. A refusal raises before any
of that, with the state, action and role in the message.

Who may act on *this* case, beyond the role the table names:
- a grid worker only on a case they hold (`assignee_id`);
- a street-scoped operator only on cases of their street; a district operator on any;
- an agency only on a case it reported (`sources`);
- a citizen's identity is the API's to check (the lifecycle does not know reporters);
- a volunteer's claim is `dispatch.volunteers`' to check (the lifecycle does not know claims);
- a grid worker checks (verify_volunteer, fail_volunteer) only a volunteer's resolution of a
  case they hold, never their own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from config.policy import Duration
from dispatch.lifecycle.case import Actor, CaseEvent, CaseSnapshot, TransitionResult, advance
from dispatch.lifecycle.errors import DetailError, IllegalTransition, LifecycleError, NotYours
from dispatch.lifecycle.states import Action, CaseState, Role
from dispatch.lifecycle.table import REPORT_EFFECTS, TABLE, Next, Rule
from dispatch.sla.clocks import ClockEffect, ClockOp
from dispatch.sla.policy import ExtensionPolicy

REPORT_ROLES: frozenset[Role] = frozenset({Role.SYSTEM, Role.OPERATOR})
"""Who may open a case: the intake stream (agency feeds) or an operator taking a call."""

_NAMES_ASSIGNEE = frozenset({Action.DISPATCH, Action.REASSIGN})
_CHECKS_VOLUNTEER = frozenset({Action.VERIFY_VOLUNTEER, Action.FAIL_VOLUNTEER})
_EXTEND = ClockOp.EXTEND  # enum members looked up once: the hot path applies thousands a second


def open_case(
    case_id: str,
    *,
    street_code: str | None,
    sources: frozenset[str],
    actor: Actor,
    at: datetime,
) -> TransitionResult:
    """The `report` event that creates a case in state `reported` and starts its register clock."""
    check_time(at)
    if not case_id:
        raise DetailError("case_id", "must be non-empty")
    if actor.role not in REPORT_ROLES:
        raise IllegalTransition(CaseState.REPORTED, Action.REPORT, actor.role, _only(REPORT_ROLES))
    if actor.role is Role.OPERATOR and not actor.scope.admits({"street_code": street_code}):
        raise NotYours(
            CaseState.REPORTED,
            Action.REPORT,
            actor.role,
            f"the case is in street {street_code}, "
            f"outside operator {actor.actor_id}'s {actor.scope.describe()}",
        )
    event = CaseEvent(
        case_id=case_id,
        sequence=1,
        action=Action.REPORT,
        from_state=None,
        to_state=CaseState.REPORTED,
        actor=actor,
        at=at,
        street_code=street_code,
        sources=sources,
    )
    return TransitionResult(advance(None, event), event, REPORT_EFFECTS)


def apply(
    case: CaseSnapshot,
    action: Action,
    actor: Actor,
    at: datetime,
    reason: str | None = None,
    *,
    extension_policy: ExtensionPolicy,
    assignee: str | None = None,
    merged_into: str | None = None,
    extension: Duration | None = None,
) -> TransitionResult:
    """Check `action` by `actor` on `case` at `at` and describe its event and clock effects.

    Details: `assignee` (dispatch, reassign), `merged_into` (merge), `extension` (the amount asked
    for on request_extension; on approve_extension an optional smaller grant, else the request).
    """
    check_time(at)
    state, role = case.state, actor.role
    rule = TABLE.get((state, action))
    if rule is None:
        allowed = sorted(a for (s, a) in TABLE if s is state)
        why = f"no such transition (from {state}: {', '.join(allowed) or 'none'})"
        raise IllegalTransition(state, action, role, why)
    if role not in rule.roles:
        raise IllegalTransition(state, action, role, _only(rule.roles))
    _check_owner(case, action, actor)
    text = _check_reason(rule, reason)
    _check_details(case, action, assignee, merged_into, extension)
    granted = _check_extension(case, action, actor, extension, extension_policy)
    target = _target(case, rule)
    event = CaseEvent(
        case_id=case.case_id,
        sequence=case.version + 1,
        action=action,
        from_state=state,
        to_state=target,
        actor=actor,
        at=at,
        reason=text,
        assignee_id=assignee if action in _NAMES_ASSIGNEE else case.assignee_id,
        merged_into=merged_into,
        extension=granted,
    )
    return TransitionResult(advance(case, event), event, _effects(rule, granted))


def clock_effects(event: CaseEvent) -> tuple[ClockEffect, ...]:
    """The clock effects of a recorded event, as `apply` returned them (for the SLA tracker)."""
    if event.from_state is None:
        return REPORT_EFFECTS
    rule = TABLE.get((event.from_state, event.action))
    if rule is None:
        raise LifecycleError(
            f"event {event.event_id}: ({event.from_state}, {event.action}) is not in the table"
        )
    return _effects(rule, event.extension)


def _effects(rule: Rule, extension: Duration | None) -> tuple[ClockEffect, ...]:
    if extension is None:  # the table's effects carry no amount: nothing to fill in
        return rule.effects
    return tuple(replace(e, amount=extension) if e.op is _EXTEND else e for e in rule.effects)


def check_time(at: datetime) -> None:
    """Refuse a naive time, naming the field."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise DetailError("at", f"naive datetime {at.isoformat()}; pass a timezone-aware datetime")


def _only(roles: frozenset[Role]) -> str:
    return f"only {', '.join(sorted(roles))} may"


def _check_owner(case: CaseSnapshot, action: Action, actor: Actor) -> None:
    role = actor.role
    if role is Role.GRID_WORKER and actor.actor_id != case.assignee_id:
        why = f"worker {actor.actor_id} does not hold this case (assignee: {case.assignee_id})"
    elif role is Role.GRID_WORKER and action in _CHECKS_VOLUNTEER and case.volunteer_id is None:
        why = "no volunteer resolved this case: an operator verifies the assignee's own work"
    elif role is Role.OPERATOR and not actor.scope.admits(
        {"street_code": case.street_code, "district_code": case.district_code}
    ):
        why = f"the case is in street {case.street_code}, outside {actor.actor_id}'s {actor.scope.describe()}"
    elif role is Role.AGENCY and actor.actor_id not in case.sources:
        why = f"agency {actor.actor_id} did not report this case"
    else:
        return
    raise NotYours(case.state, action, role, why)


def _check_reason(rule: Rule, reason: str | None) -> str | None:
    text = reason.strip() if reason is not None else None
    if rule.reason and not text:
        raise DetailError("reason", f"{rule.action} needs a reason", code="required")
    return text or None


def _check_details(
    case: CaseSnapshot,
    action: Action,
    assignee: str | None,
    merged_into: str | None,
    extension: Duration | None,
) -> None:
    if action in _NAMES_ASSIGNEE:
        if not assignee:
            raise DetailError("assignee", f"{action} needs the worker who gets the task", code="required")
        if action is Action.REASSIGN and assignee == case.assignee_id:
            raise DetailError("assignee", f"{assignee} already holds the case", code="already_holds")
    elif assignee is not None:
        raise DetailError("assignee", f"only dispatch and reassign name an assignee, not {action}")
    if action is Action.MERGE:
        if not merged_into:
            raise DetailError("merged_into", "merge needs the case this one duplicates", code="required")
        if merged_into == case.case_id:
            raise DetailError("merged_into", "a case cannot be merged into itself", code="merge_into_itself")
    elif merged_into is not None:
        raise DetailError("merged_into", f"only merge names a case to merge into, not {action}")
    if extension is not None and action not in (Action.REQUEST_EXTENSION, Action.APPROVE_EXTENSION):
        raise DetailError("extension", f"only extension requests and approvals carry an amount, not {action}")


def _check_extension(
    case: CaseSnapshot,
    action: Action,
    actor: Actor,
    extension: Duration | None,
    policy: ExtensionPolicy,
) -> Duration | None:
    """The amount asked for (request) or granted (approve); None for every other action."""
    if action is Action.REQUEST_EXTENSION:
        if case.extension_requests >= policy.max_count:
            raise IllegalTransition(
                case.state,
                action,
                actor.role,
                f"{case.extension_requests} extension request(s) already made, at most {policy.max_count}",
            )
        if extension is None:
            raise DetailError("extension", "request_extension needs the amount asked for", code="required")
        if not policy.allows(extension):
            raise DetailError(
                "extension", f"{extension} is more than the {policy.max} allowed", code="too_long"
            )
        return extension
    if action is Action.APPROVE_EXTENSION:
        requested = case.requested_extension
        if requested is None:
            raise LifecycleError(f"case {case.case_id}: extension_requested without a requested amount")
        if extension is None:
            return requested
        if policy.length(extension) > policy.length(requested):
            raise DetailError(
                "extension",
                f"the grant {extension} exceeds the {requested} requested",
                code="more_than_requested",
            )
        return extension
    return None


def _target(case: CaseSnapshot, rule: Rule) -> CaseState:
    if rule.target is Next.SAME:
        return case.state
    if rule.target is Next.PREVIOUS:
        if case.previous_state is None:
            raise LifecycleError(f"case {case.case_id}: in {case.state} without a previous state")
        return case.previous_state
    return rule.target


@dataclass(frozen=True, slots=True)
class Opened:
    """A case as the first transitions of `Opening` leave it: the snapshot after them, their
    events and their clock effects in order (one `apply_effects` call at the last event's time
    applies them, since they all happen at that instant after the report)."""

    case: CaseSnapshot
    events: tuple[CaseEvent, ...]
    clock_effects: tuple[ClockEffect, ...]


class Opening:
    """The intake's transitions of a new case (report, register, dispatch) by one system actor,
    checked once against the table instead of once per case.

    What `apply` checks per call depends here only on constants (the states, the action, the
    system actor's role, no reason or extension), except the time, the reason's text and the
    assignee, which every call still checks. Construction runs `open_case` and `apply` on a
    probe case and refuses to exist if the direct build differs from theirs, so a change of the
    table or the machine cannot make the two disagree.
    """

    __slots__ = ("_actor", "_dispatch", "_dispatch_fx", "_dispatched", "_register", "_register_fx")

    def __init__(self, actor: Actor) -> None:
        if actor.role is not Role.SYSTEM:
            raise LifecycleError(f"an opening is the system's; {actor.role} acts through apply()")
        register = TABLE[(CaseState.REPORTED, Action.REGISTER)]
        registered = register.target
        if not isinstance(registered, CaseState) or register.reason or actor.role not in register.roles:
            raise LifecycleError("the table's register transition is no longer the intake's")
        dispatch = TABLE.get((registered, Action.DISPATCH))
        dispatched = dispatch.target if dispatch is not None else None
        if dispatch is None or not isinstance(dispatched, CaseState) or actor.role not in dispatch.roles:
            raise LifecycleError("the table's dispatch transition is no longer the intake's")
        self._actor = actor
        self._register, self._dispatch = register, dispatch
        self._dispatched: CaseState = dispatched
        self._register_fx = register.effects
        self._dispatch_fx = register.effects + dispatch.effects
        self._check(datetime(2026, 1, 5, 1, tzinfo=UTC), datetime(2026, 1, 5, 2, tzinfo=UTC))

    def report(self, case_id: str, *, street_code: str | None, source: str, at: datetime) -> TransitionResult:
        """`open_case(case_id, …, sources={source}, actor=…, at=at)`."""
        check_time(at)
        if not case_id:
            raise DetailError("case_id", "must be non-empty")
        sources = frozenset((source,))
        event = CaseEvent(
            case_id,
            1,
            Action.REPORT,
            None,
            CaseState.REPORTED,
            self._actor,
            at,
            None,
            None,
            None,
            None,
            street_code,
            sources,
        )
        case = CaseSnapshot(case_id, CaseState.REPORTED, street_code, sources, 1, at)
        return TransitionResult(case, event, REPORT_EFFECTS)

    def register(self, reported: TransitionResult, *, at: datetime) -> Opened:
        """`apply(reported.case, REGISTER, actor, at)`."""
        check_time(at)
        case = reported.case
        event = self._event(case, self._register, at, None, None)
        after = CaseSnapshot(case.case_id, event.to_state, case.street_code, case.sources, 2, at)
        return Opened(after, (event,), self._register_fx)

    def dispatch(self, reported: TransitionResult, *, at: datetime, reason: str, assignee: str) -> Opened:
        """`apply` of REGISTER, then of DISPATCH to `assignee` with `reason`, both at `at`."""
        check_time(at)
        if not assignee:
            raise DetailError(
                "assignee", f"{Action.DISPATCH} needs the worker who gets the task", code="required"
            )
        text = _check_reason(self._dispatch, reason)
        case = reported.case
        registered = self._event(case, self._register, at, None, None)
        dispatched = CaseEvent(
            case.case_id,
            3,
            Action.DISPATCH,
            registered.to_state,
            self._dispatched,
            self._actor,
            at,
            text,
            assignee,
        )
        after = CaseSnapshot(
            case.case_id, dispatched.to_state, case.street_code, case.sources, 3, at, assignee
        )
        return Opened(after, (registered, dispatched), self._dispatch_fx)

    def _event(
        self, case: CaseSnapshot, rule: Rule, at: datetime, reason: str | None, assignee: str | None
    ) -> CaseEvent:
        target = rule.target
        assert isinstance(target, CaseState)  # checked at construction
        return CaseEvent(
            case.case_id,
            case.version + 1,
            rule.action,
            case.state,
            target,
            self._actor,
            at,
            reason,
            assignee,
        )

    def _check(self, received: datetime, at: datetime) -> None:
        """The direct build against `open_case` and `apply` on a probe case."""
        ext = ExtensionPolicy(0, Duration(1, "d"), timedelta(hours=8))  # unread by these actions
        sources = frozenset(("probe",))
        first = open_case("probe", street_code="s", sources=sources, actor=self._actor, at=received)
        second = apply(first.case, Action.REGISTER, self._actor, at, extension_policy=ext)
        third = apply(
            second.case, Action.DISPATCH, self._actor, at, " why ", extension_policy=ext, assignee="w"
        )
        reported = self.report("probe", street_code="s", source="probe", at=received)
        registered = self.register(reported, at=at)
        dispatched = self.dispatch(reported, at=at, reason=" why ", assignee="w")
        expected = (
            (first.case, (first.event,), first.clock_effects),
            (second.case, (second.event,), second.clock_effects),
            (third.case, (second.event, third.event), second.clock_effects + third.clock_effects),
        )
        built = (
            (reported.case, (reported.event,), reported.clock_effects),
            (registered.case, registered.events, registered.clock_effects),
            (dispatched.case, dispatched.events, dispatched.clock_effects),
        )
        if built != expected:
            raise LifecycleError("Opening builds cases unlike open_case and apply: update it with the table")
