"""The board's queues: what waits on an operator, each a predicate on an incident row `i`.

- `triage`    — reported by a triage source (config/sources.toml `triage = true`) and not yet
                registered: the operator registers it (立案, then it is routed) or rejects it
                (不予立案, with a reason); its register clock runs meanwhile. A report placed
                outside the district is `reported` too, and waits here to be rejected;
- `new`       — registered or dispatched, not yet accepted;
- `verify`    — resolved: the operator checks the work (核查);
- `extension` — an extension requested (延期申请), to approve or refuse;
- `returned`  — handed back (回退), to route again;
- `overdue`   — open and overdue (`dispatch.kpi.overdue`: the KPIs count the same cases);
- `escalated` — open and escalated past the community (`dispatch.kpi.overdue` again: the lists'
                `escalated=true` filter and the KPI page's export mean the same).
"""

from __future__ import annotations

from enum import StrEnum

from psycopg import sql

from dispatch.kpi.overdue import OPEN_ESCALATED, OPEN_OVERDUE
from dispatch.lifecycle.states import CaseState


class Queue(StrEnum):
    TRIAGE = "triage"
    NEW = "new"
    VERIFY = "verify"
    EXTENSION = "extension"
    RETURNED = "returned"
    OVERDUE = "overdue"
    ESCALATED = "escalated"


NEW_STATES = (CaseState.REGISTERED, CaseState.DISPATCHED)


def _states(*states: CaseState) -> sql.Composable:
    return sql.SQL("i.state IN ({})").format(sql.SQL(", ").join(sql.Literal(s.value) for s in states))


QUEUES: dict[Queue, sql.Composable] = {
    Queue.TRIAGE: _states(CaseState.REPORTED),
    Queue.NEW: _states(*NEW_STATES),
    Queue.VERIFY: _states(CaseState.RESOLVED),
    Queue.EXTENSION: _states(CaseState.EXTENSION_REQUESTED),
    Queue.RETURNED: _states(CaseState.RETURNED),
    Queue.OVERDUE: OPEN_OVERDUE,
    Queue.ESCALATED: OPEN_ESCALATED,
}
