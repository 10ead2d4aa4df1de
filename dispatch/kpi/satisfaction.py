"""满意率 and 回访率 from the return visits (`dispatch.revisits`), as of the end of the range.

Definitions (over the return-visit requests made in the range, one per report and closing):
- 回访率 return-visit rate — answered / (answered + not reached): of the visits whose outcome
                              is known at `until`, the share where the reporter answered; a
                              visit still inside its time to answer counts in neither;
- 满意率 satisfaction       — (满意 + 基本满意) / answered;
- 不满意 / 返工             — dissatisfied answers, and those that reopened the case.
Grouped like the other KPIs (district, street, community, grid, source) and by worker (the
assignee when the case closed); by day, week, month or the whole range (Asia/Shanghai).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql

from dispatch.scope import CITY, Scope

Row = dict[str, Any]
SATISFACTION_COLUMNS = (
    "visits",
    "answered",
    "not_reached",
    "satisfaction",
    "revisit_rate",
    "dissatisfied",
    "reworked",
)

SATISFACTION_GROUP = {
    "district": "i.district_code",
    "street": "i.street_code",
    "community": "i.community_code",
    "grid": "i.grid_code",
    "source": "v.source",
    "worker": "v.worker_id",
}

SATISFACTION_SQL = """
SELECT {group} AS key, {period} AS period,
    count(*) AS visits,
    count(*) FILTER (WHERE v.answered_at < %(until)s) AS answered,
    count(*) FILTER (WHERE (v.answered_at IS NULL OR v.answered_at >= %(until)s)
        AND v.due_at <= %(until)s) AS not_reached,
    count(*) FILTER (WHERE v.answered_at < %(until)s
        AND v.answer IN ('satisfied', 'basically_satisfied')) AS satisfied,
    count(*) FILTER (WHERE v.answered_at < %(until)s AND v.answer = 'dissatisfied') AS dissatisfied,
    count(*) FILTER (WHERE v.answered_at < %(until)s AND v.rework IS NOT NULL) AS reworked
FROM return_visits v JOIN incidents i USING (incident_id)
WHERE v.requested_at >= %(since)s AND v.requested_at < %(until)s AND {scope}
GROUP BY 1, 2 ORDER BY 1, 2
"""


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


async def satisfaction(
    conn: AsyncConnection[Any],
    *,
    since: datetime,
    until: datetime,
    group: str,
    period_sql: str,
    scope: Scope = CITY,
    cases: list[str] | None = None,
    keyed_only: bool = False,
) -> dict[tuple[Any, Any], Row]:
    """(key, period) -> the satisfaction columns; `period_sql` is the caller's over `e.at`;
    `scope`: the caller's (`dispatch.scope`); `cases`: of these incident ids only (a surge's,
    `dispatch.kpi.queries.SurgeScope`); `keyed_only`: of the cases that have a key of the group
    only (`dispatch.kpi.queries.PLACED_ONLY`)."""
    where = scope.where("i")
    if keyed_only:
        where = sql.SQL("{} AND {} IS NOT NULL").format(where, sql.SQL(SATISFACTION_GROUP[group]))
    if cases is not None:  # surge hook: the KPI split by surge
        where = sql.SQL("{} AND i.incident_id = ANY(%(cases)s::uuid[])").format(where)
    query = sql.SQL(SATISFACTION_SQL).format(  # the pieces are constants chosen by enum
        group=sql.SQL(SATISFACTION_GROUP[group]),
        period=sql.SQL(period_sql.replace("e.at", "v.requested_at")),
        scope=where,
    )
    params = {"since": since, "until": until, "cases": cases}
    cur = await conn.execute(query, params)
    out: dict[tuple[Any, Any], Row] = {}
    for key, when, visits, answered, not_reached, satisfied, dissatisfied, reworked in await cur.fetchall():
        out[(key, when)] = {
            "visits": visits,
            "answered": answered,
            "not_reached": not_reached,
            "satisfaction": _ratio(satisfied, answered),
            "revisit_rate": _ratio(answered, answered + not_reached),
            "dissatisfied": dissatisfied,
            "reworked": reworked,
        }
    return out
