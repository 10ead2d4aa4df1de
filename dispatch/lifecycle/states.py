"""The vocabulary of the case lifecycle: states, actions, roles.

A case (案卷) is the incident as the command center handles it, from the first report to closing
(数字城管 seven steps, the 12345 closed loop).
"""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    REPORTED = "reported"  # 信息收集: received, not yet accepted as a case
    REGISTERED = "registered"  # 立案
    DISPATCHED = "dispatched"  # 派遣: an assignee holds the task, not yet accepted
    ACCEPTED = "accepted"  # 签收
    ON_SITE = "on_site"  # 到场
    RESOLVED = "resolved"  # 处置反馈: the assignee says it is done
    VERIFIED = "verified"  # 核查通过
    CLOSED = "closed"  # 结案
    RETURNED = "returned"  # 回退: "not our area/duty", waiting to be routed again
    EXTENSION_REQUESTED = "extension_requested"  # 延期申请, resolve clock paused
    PARKED = "parked"  # 挂账: long-term, explained, every clock paused
    REWORK = "rework"  # 返工: verification failed, back with the same assignee to accept again
    REOPENED = "reopened"  # the citizen or agency says it is not fixed: to be dispatched again
    MERGED = "merged"  # a duplicate of another case (terminal)
    REJECTED = "rejected"  # 不予立案 (terminal)


TERMINAL: frozenset[CaseState] = frozenset({CaseState.MERGED, CaseState.REJECTED})
"""No transition leaves these. CLOSED is not terminal: a closed case can be reopened."""

OPEN: frozenset[CaseState] = frozenset(CaseState) - TERMINAL - {CaseState.CLOSED}


class Action(StrEnum):
    REPORT = "report"  # creates the case (only through `open_case`)
    REGISTER = "register"
    REJECT = "reject"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    ARRIVE = "arrive"
    RESOLVE = "resolve"
    RETURN = "return"
    REASSIGN = "reassign"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    PARK = "park"
    UNPARK = "unpark"
    VERIFY = "verify"
    FAIL_VERIFICATION = "fail_verification"
    CLOSE = "close"
    REOPEN = "reopen"
    MERGE = "merge"
    ESCALATE = "escalate"  # by hand or by the SLA tracker; the state does not change
    VOLUNTEER_RESOLVE = "volunteer_resolve"  # a volunteer holding the claim did it (公益积分)
    VERIFY_VOLUNTEER = "verify_volunteer"  # the assignee checks a volunteer's work: verified
    FAIL_VOLUNTEER = "fail_volunteer"  # the assignee finds it not done: back to them (rework)
    REVISE_DEADLINES = "deadline_revised"  # the working calendar changed under open clocks
    RAISE_PRIORITY = "raise_priority"  # a merged report is more urgent: tighter clocks, same state
    SPLIT = "split"  # an operator takes a report out of the case: it becomes a case of its own
    SOURCE_UPDATE = "source_update"  # the source changed its report (a CAP Update): same state
    WITHDRAW = "withdraw"  # the source withdrew its report (a CAP Cancel): closed, cancelled by the source
    EXPIRE = "expire"  # the alert expired before anybody was dispatched: closed as expired
    REHOME = "rehome"  # the grid layer was redrawn: the case moves to the grid now covering its point
    VOID = "void"  # 作废: an operator voids a case that should never have been one (a prank, outside)


class Role(StrEnum):
    SYSTEM = "system"  # stream processors: intake, router, SLA tracker
    GRID_WORKER = "grid_worker"  # the task's assignee
    OPERATOR = "operator"  # command center, district-wide or scoped to one street
    AGENCY = "agency"  # an agency that reported the incident
    CITIZEN = "citizen"  # the person who reported it (12345)
    VOLUNTEER = "volunteer"  # a community volunteer holding a claim on the case (dispatch.volunteers)
