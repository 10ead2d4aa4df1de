"""The board's queues: what waits on an operator, each a predicate on an incident row `i`.

- `new`       — reported, registered or dispatched, not yet accepted;
- `verify`    — resolved: the operator checks the work (核查);
- `extension` — an extension requested (延期申请), to approve or refuse;
- `returned`  — handed back (回退), to route again;
- `overdue`   — open and overdue (`dispatch.kpi.overdue`: the KPIs count the same cases);
- `escalated` — open and escalated past the community (street or district center). The
                ladder's 80 % reminder to the assignee and the red urge to the community lead
                stay below: the first is no escalation, the second is the community's to act on.
"""

from __future__ import annotations

from enum import StrEnum

from psycopg import sql

from dispatch.cases.work import LEVEL_RANK
from dispatch.kpi.overdue import OPEN_CASE, OPEN_OVERDUE
from dispatch.lifecycle.states import CaseState
from dispatch.sla.ladder import LadderTarget


class Queue(StrEnum):
    NEW = "new"
    VERIFY = "verify"
    EXTENSION = "extension"
    RETURNED = "returned"
    OVERDUE = "overdue"
    ESCALATED = "escalated"


NEW_STATES = (CaseState.REPORTED, CaseState.REGISTERED, CaseState.DISPATCHED)
_COMMUNITY = LEVEL_RANK[LadderTarget.COMMUNITY_LEAD.value]
PAST_COMMUNITY = tuple(sorted(level for level, rank in LEVEL_RANK.items() if rank > _COMMUNITY))
"""The levels above the community (street center, district center)."""


def _states(*states: CaseState) -> sql.Composable:
    return sql.SQL("i.state IN ({})").format(sql.SQL(", ").join(sql.Literal(s.value) for s in states))


QUEUES: dict[Queue, sql.Composable] = {
    Queue.NEW: _states(*NEW_STATES),
    Queue.VERIFY: _states(CaseState.RESOLVED),
    Queue.EXTENSION: _states(CaseState.EXTENSION_REQUESTED),
    Queue.RETURNED: _states(CaseState.RETURNED),
    Queue.OVERDUE: OPEN_OVERDUE,
    Queue.ESCALATED: sql.SQL("({} AND i.escalation_level IN ({}))").format(
        OPEN_CASE, sql.SQL(", ").join(sql.Literal(level) for level in PAST_COMMUNITY)
    ),
}
