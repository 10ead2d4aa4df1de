"""The transition table: every allowed (state, action), who may take it, and what it does to the clocks.

Read it as the specification of README: Case workflow. Modelling decisions it encodes:

- Owner clocks restart on every hand-over. A dispatch, a re-dispatch after a return and a
  reassignment each start the accept, on-site and resolve clocks afresh for the new holder; the
  case's overall age is measured from its report time by the KPIs, not by these clocks. A return
  restarts the register clock: re-routing is the command center's promise again.
- 延期 (extension): requesting pauses the resolve clock while an operator decides, so review time
  is never charged to the worker; approval grows the resolve budget by the granted amount and
  resumes it; denial only resumes it. Either way the case goes back to the state it was in
  (accepted or on site): "extension approved" is a transition, not a state. At most
  `ExtensionPolicy.max_count` *requests* per case, so a denied request cannot be repeated.
- 挂账 (parking) pauses every running clock, unparking resumes exactly the paused ones and goes
  back to the previous state.
- 返工 (rework): verification failed; the same assignee must accept again (accept clock starts)
  and the resolve clock restarts with its full limit.
- Reopening (after verification or closing) restarts the register clock: the case is dispatched
  again, to the same worker or another.
- 志愿者 (volunteers): a volunteer holding a claim resolves a dispatched, accepted or on-site case
  in the holder's place (the owner clocks stop as on a resolve); the assignee (verify_volunteer,
  fail_volunteer) or an operator (verify, fail_verification) then checks the work. A grid worker
  may only check work a volunteer resolved, never their own.
- Urgency is monotone: a merged report more urgent than the case raises its priority
  (`raise_priority`, by the system, the state unchanged). The owner clocks restart under the
  tighter limits: all of them while nobody has accepted yet (dispatched); otherwise the running
  and paused ones (`tighten`: rework, after acceptance; a paused clock stays paused), and the
  register clock while the case waits for routing. A clock the new priority has no limit for (P0 resolve:
  agency-led) is dropped.
- Splitting (`split`) takes a report that is not the same problem out of an open case; the
  case's state and clocks stay as they are (the report's own case starts its own).
- A source's own word: `source_update` (a CAP Update) changes the case in place, its state and
  clocks as they are; `withdraw` (a CAP Cancel) closes any open case, cancelled by the source;
  `expire` closes an alert whose time ran out while nobody had been dispatched; `void` (作废)
  lets an operator close a registered or later case that should never have been one. All four
  stop every clock; each is counted apart from `close` (its own event action).
- Stopping, pausing or resuming a clock that is not running/paused/present changes nothing, so one
  effect list serves every state an action leaves from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dispatch.lifecycle.states import OPEN, Action, CaseState, Role
from dispatch.sla.clocks import ClockEffect, ClockName, ClockOp


class Next(StrEnum):
    SAME = "same"  # the state does not change (escalate)
    PREVIOUS = "previous"  # back to the state before extension_requested / parked


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    sources: frozenset[CaseState]
    target: CaseState | Next
    roles: frozenset[Role]
    reason: bool = False  # a non-empty reason is required
    effects: tuple[ClockEffect, ...] = ()


S = CaseState
R = Role
_R, _A, _O, _S, _V = (
    ClockName.REGISTER,
    ClockName.ACCEPT,
    ClockName.ON_SITE,
    ClockName.RESOLVE,
    ClockName.VERIFY,
)


def _fx(op: ClockOp, *clocks: ClockName) -> tuple[ClockEffect, ...]:
    return tuple(ClockEffect(c, op) for c in clocks)


_OWNER_CLOCKS = (_A, _O, _S)
_EVERY_CLOCK = (_R, _A, _O, _S, _V)
_ALL_RUNNING_BEFORE_RESOLVE = (_R, _A, _O, _S)

REPORT_EFFECTS: tuple[ClockEffect, ...] = _fx(ClockOp.START, _R)
"""What creating a case (`open_case`) does to its clocks."""

RULES: tuple[Rule, ...] = (
    Rule(Action.REGISTER, frozenset({S.REPORTED}), S.REGISTERED, frozenset({R.SYSTEM, R.OPERATOR})),
    Rule(
        Action.REJECT,
        frozenset({S.REPORTED}),
        S.REJECTED,
        frozenset({R.OPERATOR}),
        reason=True,
        effects=_fx(ClockOp.STOP, _R),
    ),
    Rule(
        Action.MERGE,
        frozenset({S.REPORTED}),
        S.MERGED,
        frozenset({R.SYSTEM, R.OPERATOR}),
        effects=_fx(ClockOp.STOP, *_ALL_RUNNING_BEFORE_RESOLVE),
    ),
    Rule(
        Action.MERGE,
        frozenset({S.REGISTERED, S.RETURNED, S.REOPENED, S.DISPATCHED, S.ACCEPTED, S.ON_SITE, S.REWORK}),
        S.MERGED,
        frozenset({R.OPERATOR}),
        effects=_fx(ClockOp.STOP, *_ALL_RUNNING_BEFORE_RESOLVE),
    ),
    Rule(
        Action.DISPATCH,
        frozenset({S.REGISTERED, S.RETURNED, S.REOPENED}),
        S.DISPATCHED,
        frozenset({R.SYSTEM, R.OPERATOR}),
        effects=_fx(ClockOp.STOP, _R) + _fx(ClockOp.START, *_OWNER_CLOCKS),
    ),
    Rule(
        Action.ACCEPT,
        frozenset({S.DISPATCHED, S.REWORK}),
        S.ACCEPTED,
        frozenset({R.GRID_WORKER}),
        effects=_fx(ClockOp.STOP, _A),
    ),
    Rule(
        Action.ARRIVE,
        frozenset({S.ACCEPTED}),
        S.ON_SITE,
        frozenset({R.GRID_WORKER}),
        effects=_fx(ClockOp.STOP, _O),
    ),
    Rule(
        Action.RESOLVE,
        frozenset({S.ACCEPTED, S.ON_SITE}),
        S.RESOLVED,
        frozenset({R.GRID_WORKER}),
        effects=_fx(ClockOp.STOP, _O, _S) + _fx(ClockOp.START, _V),
    ),
    Rule(
        Action.RETURN,
        frozenset({S.DISPATCHED, S.ACCEPTED, S.ON_SITE, S.REWORK}),
        S.RETURNED,
        frozenset({R.GRID_WORKER}),
        reason=True,
        effects=_fx(ClockOp.STOP, *_OWNER_CLOCKS) + _fx(ClockOp.START, _R),
    ),
    Rule(
        Action.REASSIGN,
        frozenset({S.DISPATCHED, S.REWORK}),
        S.DISPATCHED,
        frozenset({R.SYSTEM, R.OPERATOR}),
        reason=True,
        effects=_fx(ClockOp.RESTART, *_OWNER_CLOCKS),
    ),
    Rule(
        Action.REASSIGN,
        frozenset({S.ACCEPTED, S.ON_SITE}),
        S.DISPATCHED,
        frozenset({R.OPERATOR}),
        reason=True,
        effects=_fx(ClockOp.RESTART, *_OWNER_CLOCKS),
    ),
    Rule(
        Action.REQUEST_EXTENSION,
        frozenset({S.ACCEPTED, S.ON_SITE}),
        S.EXTENSION_REQUESTED,
        frozenset({R.GRID_WORKER}),
        reason=True,
        effects=_fx(ClockOp.PAUSE, _S),
    ),
    Rule(
        Action.APPROVE_EXTENSION,
        frozenset({S.EXTENSION_REQUESTED}),
        Next.PREVIOUS,
        frozenset({R.OPERATOR}),
        effects=_fx(ClockOp.EXTEND, _S) + _fx(ClockOp.RESUME, _S),
    ),
    Rule(
        Action.DENY_EXTENSION,
        frozenset({S.EXTENSION_REQUESTED}),
        Next.PREVIOUS,
        frozenset({R.OPERATOR}),
        reason=True,
        effects=_fx(ClockOp.RESUME, _S),
    ),
    Rule(
        Action.PARK,
        frozenset({S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.ON_SITE}),
        S.PARKED,
        frozenset({R.OPERATOR}),
        reason=True,
        effects=_fx(ClockOp.PAUSE, *_ALL_RUNNING_BEFORE_RESOLVE),
    ),
    Rule(
        Action.UNPARK,
        frozenset({S.PARKED}),
        Next.PREVIOUS,
        frozenset({R.OPERATOR}),
        effects=_fx(ClockOp.RESUME, *_ALL_RUNNING_BEFORE_RESOLVE),
    ),
    Rule(
        Action.VERIFY,
        frozenset({S.RESOLVED}),
        S.VERIFIED,
        frozenset({R.OPERATOR}),
        effects=_fx(ClockOp.STOP, _V),
    ),
    Rule(
        Action.FAIL_VERIFICATION,
        frozenset({S.RESOLVED}),
        S.REWORK,
        frozenset({R.OPERATOR}),
        reason=True,
        effects=_fx(ClockOp.STOP, _V) + _fx(ClockOp.START, _A) + _fx(ClockOp.RESTART, _S),
    ),
    Rule(Action.CLOSE, frozenset({S.VERIFIED}), S.CLOSED, frozenset({R.OPERATOR, R.SYSTEM})),
    Rule(
        Action.REOPEN,
        frozenset({S.VERIFIED, S.CLOSED}),
        S.REOPENED,
        frozenset({R.OPERATOR, R.AGENCY, R.CITIZEN}),
        reason=True,
        effects=_fx(ClockOp.START, _R),
    ),
    Rule(
        Action.VOLUNTEER_RESOLVE,
        frozenset({S.DISPATCHED, S.ACCEPTED, S.ON_SITE}),
        S.RESOLVED,
        frozenset({R.VOLUNTEER}),
        effects=_fx(ClockOp.STOP, *_OWNER_CLOCKS) + _fx(ClockOp.START, _V),
    ),
    Rule(
        Action.VERIFY_VOLUNTEER,
        frozenset({S.RESOLVED}),
        S.VERIFIED,
        frozenset({R.GRID_WORKER}),
        effects=_fx(ClockOp.STOP, _V),
    ),
    Rule(
        Action.FAIL_VOLUNTEER,
        frozenset({S.RESOLVED}),
        S.REWORK,
        frozenset({R.GRID_WORKER}),
        reason=True,
        effects=_fx(ClockOp.STOP, _V) + _fx(ClockOp.START, _A) + _fx(ClockOp.RESTART, _S),
    ),
    Rule(Action.ESCALATE, OPEN, Next.SAME, frozenset({R.OPERATOR, R.SYSTEM}), reason=True),
    # an imported holiday schedule moved deadlines: recorded, nothing else changes
    Rule(Action.REVISE_DEADLINES, OPEN, Next.SAME, frozenset({R.SYSTEM}), reason=True),
    Rule(Action.SPLIT, OPEN, Next.SAME, frozenset({R.OPERATOR}), reason=True),
    Rule(Action.SOURCE_UPDATE, OPEN, Next.SAME, frozenset({R.AGENCY, R.SYSTEM}), reason=True),
    # a redrawn grid layer took effect: new codes, same state and clocks (a re-route is its own event)
    Rule(Action.REHOME, OPEN, Next.SAME, frozenset({R.SYSTEM}), reason=True),
    Rule(
        Action.WITHDRAW,
        OPEN,
        S.CLOSED,
        frozenset({R.AGENCY, R.SYSTEM}),
        reason=True,
        effects=_fx(ClockOp.STOP, *_EVERY_CLOCK),
    ),
    Rule(
        Action.EXPIRE,
        frozenset({S.REPORTED, S.REGISTERED}),
        S.CLOSED,
        frozenset({R.SYSTEM}),
        reason=True,
        effects=_fx(ClockOp.STOP, *_EVERY_CLOCK),
    ),
    Rule(
        Action.VOID,
        OPEN - {S.REPORTED},
        S.CLOSED,
        frozenset({R.OPERATOR}),
        reason=True,
        effects=_fx(ClockOp.STOP, *_EVERY_CLOCK),
    ),
    Rule(
        Action.RAISE_PRIORITY,
        frozenset({S.REPORTED, S.REGISTERED, S.RETURNED, S.REOPENED}),
        Next.SAME,
        frozenset({R.SYSTEM}),
        reason=True,
        effects=_fx(ClockOp.TIGHTEN, _R),
    ),
    Rule(
        Action.RAISE_PRIORITY,
        frozenset({S.DISPATCHED}),
        Next.SAME,
        frozenset({R.SYSTEM}),
        reason=True,
        effects=_fx(ClockOp.RESTART, *_OWNER_CLOCKS),
    ),
    Rule(
        Action.RAISE_PRIORITY,
        frozenset({S.ACCEPTED, S.ON_SITE, S.EXTENSION_REQUESTED, S.PARKED, S.RESOLVED, S.VERIFIED, S.REWORK}),
        Next.SAME,
        frozenset({R.SYSTEM}),
        reason=True,
        effects=_fx(ClockOp.TIGHTEN, _R, _A, _O, _S),
    ),
)


def _index(rules: tuple[Rule, ...]) -> dict[tuple[CaseState, Action], Rule]:
    table: dict[tuple[CaseState, Action], Rule] = {}
    for rule in rules:
        for state in rule.sources:
            if (state, rule.action) in table:
                raise AssertionError(f"transition table: ({state}, {rule.action}) defined twice")
            table[(state, rule.action)] = rule
    return table


TABLE: dict[tuple[CaseState, Action], Rule] = _index(RULES)
"""(state, action) -> the rule; a missing key is an illegal transition."""


def rule_for(state: CaseState, action: Action) -> Rule | None:
    return TABLE.get((state, action))
