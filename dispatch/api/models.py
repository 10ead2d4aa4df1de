"""Request bodies and path vocabularies of the API (pydantic), with their limits."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from dispatch.api.edge import Body
from dispatch.lifecycle.states import Action, CaseState, Role
from dispatch.lifecycle.table import rule_for
from dispatch.sla.ladder import LadderTarget


class WorkerAction(StrEnum):
    ACCEPT = "accept"  # 签收
    ARRIVE = "arrive"  # 到场
    RESOLVE = "resolve"  # 处置反馈 (note + photo references)
    RETURN = "return"  # 回退 (reason)
    REQUEST_EXTENSION = "request_extension"  # 延期申请 (reason + extension)


class OperatorAction(StrEnum):
    REGISTER = "register"  # 立案: a report that waited for triage becomes a case, routed at once
    DISPATCH = "dispatch"
    REASSIGN = "reassign"
    MERGE = "merge"
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    VERIFY = "verify"
    CLOSE = "close"
    REWORK = "rework"  # verification failed: back for rework (fail_verification)
    PARK = "park"
    UNPARK = "unpark"
    REJECT = "reject"
    ESCALATE = "escalate"
    REOPEN = "reopen"
    VOID = "void"  # 作废: a case that should never have been one (a prank, outside the district)

    @property
    def lifecycle(self) -> Action:
        return Action.FAIL_VERIFICATION if self is OperatorAction.REWORK else Action(self.value)


def operator_actions(state: CaseState) -> list[dict[str, object]]:
    """What an operator may do to a case in this state (from the transition table), and
    whether each needs a reason: the pages offer exactly these.

    >>> [a["action"] for a in operator_actions(CaseState.RESOLVED)]
    ['verify', 'rework', 'escalate', 'void']
    """
    out: list[dict[str, object]] = []
    for action in OperatorAction:
        rule = rule_for(state, action.lifecycle)
        if rule is not None and Role.OPERATOR in rule.roles:
            out.append({"action": action.value, "reason": rule.reason})
    return out


class WorkerCommand(Body):
    prose: ClassVar[frozenset[str]] = frozenset({"reason", "note"})
    reason: str | None = Field(default=None, max_length=2000, description="return / request_extension")
    note: str | None = Field(default=None, max_length=4000, description="resolve: what was done")
    photos: list[str] = Field(
        default_factory=list, max_length=20, description="resolve: photo object keys/URLs"
    )
    extension: str | None = Field(
        default=None, max_length=16, description='request_extension: e.g. "3d", "4h"'
    )


class OperatorCommand(Body):
    prose: ClassVar[frozenset[str]] = frozenset({"reason"})
    reason: str | None = Field(default=None, max_length=2000)
    assignee: str | None = Field(
        default=None, max_length=64, description="dispatch/reassign; omit: the router picks"
    )
    merged_into: UUID | None = Field(default=None, description="merge: the incident this one duplicates")
    extension: str | None = Field(
        default=None, max_length=16, description="approve_extension: a smaller grant"
    )
    level: LadderTarget | None = Field(default=None, description="escalate: community_lead, street_center, …")


class SplitCommand(Body):
    """Take a report out of a case: it was another problem (it becomes a case of its own)."""

    prose: ClassVar[frozenset[str]] = frozenset({"reason"})

    report_id: UUID = Field(description="a report the case absorbed (not the one that opened it)")
    reason: str = Field(min_length=1, max_length=2000, description="why it is not the same problem")


class Login(Body):
    username: str | None = Field(default=None, max_length=64, description="operators")
    password: str | None = Field(default=None, max_length=256)
    worker_id: str | None = Field(default=None, max_length=64, description="grid workers")
    pin: str | None = Field(default=None, max_length=32)
