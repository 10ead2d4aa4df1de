"""Small helpers shared by the dispatch tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from config.policy import Duration
from dispatch.lifecycle.case import Actor, CaseSnapshot
from dispatch.lifecycle.states import Action, CaseState, Role

SH = ZoneInfo("Asia/Shanghai")


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local Asia/Shanghai instant (tests read like the working-time rules they check)."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


ACTORS = {
    Role.SYSTEM: Actor(Role.SYSTEM, "router"),
    Role.GRID_WORKER: Actor(Role.GRID_WORKER, "w-1"),
    Role.OPERATOR: Actor(Role.OPERATOR, "op-1"),
    Role.AGENCY: Actor(Role.AGENCY, "hotline"),
    Role.CITIZEN: Actor(Role.CITIZEN, "citizen-1"),
    Role.VOLUNTEER: Actor(Role.VOLUNTEER, "v-1"),
}
PAUSING = (CaseState.EXTENSION_REQUESTED, CaseState.PARKED)


def snapshot(state: CaseState, **changes: Any) -> CaseSnapshot:
    """A case in `state`, held by w-1, reported by the hotline, in street 500106001 (resolved
    by volunteer v-1 when in `resolved`: both the operator and the holder may check it)."""
    fields: dict[str, Any] = {
        "case_id": "c-1",
        "state": state,
        "street_code": "500106001",
        "sources": frozenset({"hotline"}),
        "version": 5,
        "updated_at": sh(2025, 3, 3, 9),
        "assignee_id": "w-1",
        "previous_state": CaseState.ON_SITE if state in PAUSING else None,
        "extension_requests": 1 if state is CaseState.EXTENSION_REQUESTED else 0,
        "requested_extension": Duration(5, "d") if state is CaseState.EXTENSION_REQUESTED else None,
        "volunteer_id": "v-1" if state is CaseState.RESOLVED else None,
    }
    fields.update(changes)
    return CaseSnapshot(**fields)


def details(action: Action) -> dict[str, Any]:
    """The details each action needs, and nothing more."""
    if action in (Action.DISPATCH, Action.REASSIGN):
        return {"assignee": "w-2"}
    if action is Action.MERGE:
        return {"merged_into": "c-0"}
    if action is Action.REQUEST_EXTENSION:
        return {"extension": Duration(5, "d")}
    return {}
