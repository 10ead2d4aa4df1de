"""Commands from people (the API) applied to a loaded case: pure, on top of `CaseWork`.

A command is one lifecycle action with its details. Some actions are followed by routing in
the same unit of work: after a return (回退), a reopen or an operator's registration (立案 of a
report that waited for triage) the case is routed (again) at once and,
if somebody can take it, dispatched by the router actor; a reassignment or a dispatch without a
named assignee asks the router too. The router itself is the caller's (`Route`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from config.policy import Duration
from dispatch.cases.steps import Targets, manual_escalation
from dispatch.cases.work import Assignment, CaseWork, level_of_role, task_kind
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.errors import DetailError
from dispatch.lifecycle.states import Action, Role
from dispatch.sla.ladder import LadderTarget

ROUTER_ACTOR = Actor(Role.SYSTEM, "router")
REWORK_ACTOR = Actor(Role.SYSTEM, "rework")
"""Who escalates a reopened case a return visit sends to a higher level (dispatch.revisits)."""
ESCALATION_LEVELS = (LadderTarget.COMMUNITY_LEAD, LadderTarget.STREET_CENTER, LadderTarget.DISTRICT_CENTER)

Route = Callable[[CaseWork, Action], Assignment | None]
"""(work, why) -> who gets the case next, or None when nobody can. `why` is the action that
asks: return (never back to who returned it), reassign (not the current holder), or any other."""


@dataclass(frozen=True, slots=True)
class Command:
    action: Action
    actor: Actor
    reason: str | None = None
    assignee: str | None = None  # reassign / dispatch / reopen: None lets the router pick
    merged_into: str | None = None
    extension: Duration | None = None
    note: str | None = None  # resolve: what was done
    photos: tuple[str, ...] = field(default_factory=tuple)  # resolve: photo references
    level: LadderTarget | None = None  # escalate by hand (default: the street center); reopen: escalate too
    report_id: str | None = None  # split: the report taken out of the case

    def fingerprint_fields(self) -> dict[str, object]:
        return {
            "action": self.action.value,
            "actor": [self.actor.role.value, self.actor.actor_id, self.actor.street_code],
            "reason": self.reason,
            "assignee": self.assignee,
            "merged_into": self.merged_into,
            "extension": str(self.extension) if self.extension else None,
            "note": self.note,
            "photos": list(self.photos),
            "level": self.level.value if self.level else None,
            "report_id": self.report_id,
        }


def chosen(work: CaseWork, worker_id: str, roles: Mapping[str, str], actor: Actor) -> Assignment:
    """An operator's named assignee, checked against the directory (`roles`: worker id -> role)."""
    role = roles.get(worker_id)
    if role is None:
        raise DetailError(
            "assignee", f"{worker_id!r} is not in the workforce directory", code="unknown_worker"
        )
    return Assignment(
        worker_id,
        role,
        level_of_role(role),
        task_kind(work.incident),
        f"chosen by operator {actor.actor_id}",
    )


def perform(
    work: CaseWork, command: Command, *, route: Route, roles: Mapping[str, str], targets: Targets
) -> None:
    """Apply `command` (and the routing it implies) to `work`; lifecycle errors propagate."""
    action, actor = command.action, command.actor
    if action in (Action.RESOLVE, Action.VOLUNTEER_RESOLVE) and not (command.note and command.note.strip()):
        raise DetailError("note", "resolve needs a note saying what was done", code="required")
    assignment: Assignment | None
    if action in (Action.REASSIGN, Action.DISPATCH):
        if command.assignee:
            assignment = chosen(work, command.assignee, roles, actor)
        else:
            assignment = route(work, action)
            if assignment is None:
                raise DetailError(
                    "assignee", "nobody eligible is on shift: name an assignee", code="nobody_on_shift"
                )
        work.act(action, actor, command.reason, assignment=assignment)
        return
    if action is Action.ESCALATE:
        level = command.level or LadderTarget.STREET_CENTER
        if level not in ESCALATION_LEVELS:
            raise DetailError(
                "level", f"escalate to one of {', '.join(ESCALATION_LEVELS)}", code="not_a_choice"
            )
        doc = manual_escalation(work, actor, level, targets)
        work.raise_level(doc["level"])
        work.act(action, actor, command.reason, data={"escalation": doc})
        return
    work.act(
        action,
        actor,
        command.reason,
        merged_into=command.merged_into,
        extension=command.extension,
        note=command.note,
        photos=command.photos,
    )
    if action in (Action.RETURN, Action.REOPEN, Action.REGISTER):
        if action is Action.REOPEN and command.assignee:
            assignment = chosen(work, command.assignee, roles, actor)
        else:
            assignment = route(work, action)
        if assignment is not None:
            work.act(Action.DISPATCH, ROUTER_ACTOR, assignment.reason, assignment=assignment)
    if action is Action.REOPEN and command.level is not None:
        doc = manual_escalation(work, REWORK_ACTOR, command.level, targets)
        work.raise_level(doc["level"])
        work.act(Action.ESCALATE, REWORK_ACTOR, command.reason, data={"escalation": doc})
