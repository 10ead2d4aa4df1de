"""超期 (overdue), defined once: the board's overdue queue and the KPIs count with these fragments.

A case is overdue once any of its clocks overran its limit: an escalation step at or past
100 % of a limit was taken (`escalate` with `data.escalation.fraction >= 1`), or a transition
stopped a clock late (`data.sla.<clock>.late`). Both are recorded on the event when they
happen, so the count never depends on the light shown now: a rework or a hand-over by an
operator restarts the clocks and the light turns green again, yet the case stays overdue. A
yellow (80 %) reminder to the assignee is not an overrun.

- `overrun(e)` — the predicate on one event row (the KPIs count cases with one in the period);
- `OVERDUE_CASE` — the predicate on an incident row `i`: it has such an event;
- `OPEN_OVERDUE` — an open case that is overdue (the board's queue, the KPIs' `open_overdue`).

已升级 (escalated), defined here too, once: a case escalated past the community — its
`escalation_level` is the street center or the district center. The 80 % reminder to the
assignee is no escalation, and the red urge to the community lead is the community's to act on
(小事不出村), so neither counts. The board's 已升级（社区以上） queue (`OPEN_ESCALATED`), the
`escalated=true` filter of the lists and the KPI page's "escalated" export
(`ESCALATED_CASE`) all mean this.
"""

from __future__ import annotations

from psycopg import sql

from dispatch.lifecycle.states import OPEN
from dispatch.sla.ladder import LadderTarget

OPEN_STATES = tuple(sorted(s.value for s in OPEN))
"""Every state a case is open in (not closed, merged or rejected)."""


def overrun(event: str = "e") -> sql.Composable:
    """`event` (an alias of the events table) records a clock past its limit."""
    e = sql.Identifier(event)
    return sql.SQL(
        "(({e}.action = 'escalate' AND ({e}.data #>> '{{escalation,fraction}}')::float8 >= 1)"
        " OR jsonb_path_exists({e}.data, '$.sla.* ? (@.late == true)'))"
    ).format(e=e)


OVERDUE_CASE: sql.Composable = sql.SQL(
    "EXISTS (SELECT 1 FROM events o WHERE o.incident_id = i.incident_id AND {})"
).format(overrun("o"))
"""The incident `i` has overrun a limit at some time (see the module doc)."""

OPEN_CASE: sql.Composable = sql.SQL("i.state IN ({})").format(
    sql.SQL(", ").join(sql.Literal(s) for s in OPEN_STATES)
)
OPEN_OVERDUE: sql.Composable = sql.SQL("({} AND {})").format(OPEN_CASE, OVERDUE_CASE)
"""An open case that is overdue: what the board's 超期 queue lists and the KPIs' `open_overdue` count."""

PAST_COMMUNITY = (LadderTarget.STREET_CENTER.value, LadderTarget.DISTRICT_CENTER.value)
"""The ladder's levels above the community: a case at one of them is escalated (已升级)."""

ESCALATED_CASE: sql.Composable = sql.SQL("i.escalation_level IN ({})").format(
    sql.SQL(", ").join(sql.Literal(level) for level in PAST_COMMUNITY)
)
"""The incident `i` was escalated past the community (see the module doc), open or not."""

OPEN_ESCALATED: sql.Composable = sql.SQL("({} AND {})").format(OPEN_CASE, ESCALATED_CASE)
"""An open case escalated past the community: the board's 已升级（社区以上） queue."""
