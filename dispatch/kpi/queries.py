"""The dispatch KPIs from SQL, over the events (what happened when) and the incidents (where).

Definitions (each a ratio over the events of the period; None when nothing was counted):
- 按时签收率 on-time acceptance  — `accept` events whose accept clock had not overrun;
- 按期处置率 on-time resolution  — `resolve` events whose resolve clock had not overrun
                                   (no resolve limit, e.g. P0 assists, counts as on time);
- 按期结案率 on-time closing     — `close` events with `on_time` (resolve and verify in limit);
- 返工率 rework rate             — failed verifications / verifications;
- 超期数 overdue                 — cases with any clock overrun in the period: an escalation
                                   step at or past 100 % of a limit, or a clock stopped late.
The flows record what these need on each event (`data.sla.<clock>.late`, `data.on_time`,
`data.escalation.fraction`) at the time of the transition, so the numbers never depend on the
tracker's timing. Grouped by grid, community, street, source (each source of a merged case
counts) or the whole district, and by day, week, month or the whole range (Asia/Shanghai).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from psycopg import AsyncConnection, sql

Row = dict[str, Any]


class KpiGroup(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    SOURCE = "source"


class Period(StrEnum):
    ALL = "all"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


_GROUP = {
    KpiGroup.DISTRICT: "i.district_code",
    KpiGroup.STREET: "i.street_code",
    KpiGroup.COMMUNITY: "i.community_code",
    KpiGroup.GRID: "i.grid_code",
    KpiGroup.SOURCE: "src.source",
}

KPI_SQL = """
SELECT {group} AS key, {period} AS period,
    count(*) FILTER (WHERE e.action = 'accept') AS accepted,
    count(*) FILTER (WHERE e.action = 'accept'
        AND NOT COALESCE((e.data #>> '{{sla,accept,late}}')::boolean, false)) AS accepted_on_time,
    count(*) FILTER (WHERE e.action = 'resolve') AS resolved,
    count(*) FILTER (WHERE e.action = 'resolve'
        AND NOT COALESCE((e.data #>> '{{sla,resolve,late}}')::boolean, false)) AS resolved_on_time,
    count(*) FILTER (WHERE e.action = 'close') AS closed,
    count(*) FILTER (WHERE e.action = 'close' AND COALESCE((e.data ->> 'on_time')::boolean, false))
        AS closed_on_time,
    count(*) FILTER (WHERE e.action IN ('verify', 'fail_verification')) AS verified,
    count(*) FILTER (WHERE e.action = 'fail_verification') AS reworked,
    count(DISTINCT e.incident_id) FILTER (WHERE
        (e.action = 'escalate' AND (e.data #>> '{{escalation,fraction}}')::float8 >= 1)
        OR jsonb_path_exists(e.data, '$.sla.* ? (@.late == true)')) AS overdue
FROM events e JOIN incidents i USING (incident_id) {unnest}
WHERE e.at >= %s AND e.at < %s AND {scope}
GROUP BY 1, 2 ORDER BY 1, 2
"""


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


async def kpis(
    conn: AsyncConnection[Any],
    *,
    since: datetime,
    until: datetime,
    group: KpiGroup = KpiGroup.STREET,
    period: Period = Period.ALL,
    street: str | None = None,
) -> list[Row]:
    """One row per group and period; `street` scopes the events to one street."""
    period_sql = (
        "'all'"
        if period is Period.ALL
        else f"to_char(date_trunc('{period.value}', e.at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD')"
    )
    query = sql.SQL(KPI_SQL).format(  # the pieces are this module's constants, chosen by enum
        group=sql.SQL(_GROUP[group]),
        period=sql.SQL(period_sql),
        unnest=sql.SQL(", unnest(i.sources) AS src(source)" if group is KpiGroup.SOURCE else ""),
        scope=sql.SQL("i.street_code = %s" if street is not None else "TRUE"),
    )
    args: list[Any] = [since, until] + ([street] if street is not None else [])
    cur = await conn.execute(query, args)
    out: list[Row] = []
    for key, when, acc, acc_ok, res, res_ok, clo, clo_ok, ver, rew, overdue in await cur.fetchall():
        out.append(
            {
                "group": group.value,
                "key": key,
                "period": when,
                "accepted": acc,
                "on_time_acceptance": _ratio(acc_ok, acc),
                "resolved": res,
                "on_time_resolution": _ratio(res_ok, res),
                "closed": clo,
                "on_time_closing": _ratio(clo_ok, clo),
                "verified": ver,
                "rework_rate": _ratio(rew, ver),
                "overdue": overdue,
            }
        )
    return out


async def open_tasks(conn: AsyncConnection[Any]) -> list[tuple[str, str, int]]:
    """(assignee level, light, count) of active tasks, for the gauges."""
    cur = await conn.execute(
        "SELECT t.assignee_level, i.light, count(*) FROM tasks t JOIN incidents i USING (incident_id) "
        "WHERE t.status = 'active' GROUP BY 1, 2"
    )
    return [(str(a), str(b), int(c)) for a, b, c in await cur.fetchall()]
