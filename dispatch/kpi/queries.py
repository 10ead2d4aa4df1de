"""The dispatch KPIs from SQL, over the events (what happened when) and the incidents (where).

Definitions (each a ratio over the events of the period; None when nothing was counted):
- 按时签收率 on-time acceptance  — `accept` events whose accept clock had not overrun;
- 按期处置率 on-time resolution  — `resolve` events whose resolve clock had not overrun
                                   (no resolve limit, e.g. P0 assists, counts as on time);
- 按期结案率 on-time closing     — `close` events with `on_time` (resolve and verify in limit);
- 返工率 rework rate             — failed verifications / verifications;
- 超期数 overdue                 — cases with any clock overrun in the period: an escalation
                                   step at or past 100 % of a limit, or a clock stopped late
                                   (`dispatch.kpi.overdue`, the board's definition too);
- 超期在办 open_overdue          — open cases overdue now, whatever the period (the number the
                                   board's 超期 queue shows; rows of the whole range only);
- volunteers' share              — `volunteer_resolve` events / all resolutions (a volunteer's
                                   or the assignee's), and their on-time rate (resolve clock);
- 满意率, 回访率             — from the return visits, defined in `dispatch.kpi.satisfaction`;
- points issued / redeemed       — 公益积分 credited for verified work (less reversals of it) and
                                   spent on redemptions, from the ledger (`points_entries`), by
                                   the volunteer's community (district, street and community
                                   groups only: points have no grid or source).
The flows record what these need on each event (`data.sla.<clock>.late`, `data.on_time`,
`data.escalation.fraction`) at the time of the transition, so the numbers never depend on the
tracker's timing. Grouped by grid, community, street, source (each source of a merged case
counts), worker (the holder of the event's task; events without a task are left out) or the
whole district, and by day, week, month or the whole range (Asia/Shanghai).

Cases without a grid (a point no grid covers, 属地兜底 to the district centre, or the city desk's)
have no grid or community: the grid and community groups leave them out (`PLACED_ONLY`) rather
than count them under a null key no page or sheet can name; they count in the district group
(under its code, or `city`), and in the street group under no key (the metrics' `unplaced`).

Split by surge (`SurgeScope`, `GET /kpi?surge=`): every KPI above over the cases of one surge
only, defined once (`SURGE_CASES_SQL`, also the surge list's counts): the cases of its
categories in its grids that were opened while it was in force or raised by it. Points have no
case, so a surge's rows carry none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from psycopg import AsyncConnection, sql

from dispatch.kpi.overdue import OPEN_OVERDUE, overrun
from dispatch.kpi.satisfaction import SATISFACTION_COLUMNS, satisfaction
from dispatch.scope import CITY, Level, Scope

Row = dict[str, Any]
_NO_VISITS: Row = {
    name: 0 if name in ("visits", "answered", "not_reached", "dissatisfied", "reworked") else None
    for name in SATISFACTION_COLUMNS
}


class KpiGroup(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    SOURCE = "source"
    WORKER = "worker"  # the task's holder (events of a task; 满意率 by the assignee at closing)


class Period(StrEnum):
    ALL = "all"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


PLACED_ONLY = frozenset({KpiGroup.GRID, KpiGroup.COMMUNITY})
"""The groups whose rows are areas that a case placed in no grid lacks (the module doc says why
such cases are left out of them)."""

_GROUP = {
    KpiGroup.DISTRICT: "i.district_code",
    KpiGroup.STREET: "i.street_code",
    KpiGroup.COMMUNITY: "i.community_code",
    KpiGroup.GRID: "i.grid_code",
    KpiGroup.SOURCE: "src.source",
    KpiGroup.WORKER: "t.assignee_id",
}

KPI_SQL = """
SELECT {group} AS key, {period} AS period,
    count(*) FILTER (WHERE e.action = 'accept') AS accepted,
    count(*) FILTER (WHERE e.action = 'accept'
        AND NOT COALESCE((e.data #>> '{{sla,accept,late}}')::boolean, false)) AS accepted_on_time,
    count(*) FILTER (WHERE e.action IN ('resolve', 'volunteer_resolve')) AS resolved,
    count(*) FILTER (WHERE e.action IN ('resolve', 'volunteer_resolve')
        AND NOT COALESCE((e.data #>> '{{sla,resolve,late}}')::boolean, false)) AS resolved_on_time,
    count(*) FILTER (WHERE e.action = 'volunteer_resolve') AS by_volunteers,
    count(*) FILTER (WHERE e.action = 'volunteer_resolve'
        AND NOT COALESCE((e.data #>> '{{sla,resolve,late}}')::boolean, false)) AS by_volunteers_on_time,
    count(*) FILTER (WHERE e.action = 'close') AS closed,
    count(*) FILTER (WHERE e.action = 'close' AND COALESCE((e.data ->> 'on_time')::boolean, false))
        AS closed_on_time,
    count(*) FILTER (WHERE e.action IN ('verify', 'fail_verification', 'verify_volunteer', 'fail_volunteer'))
        AS verified,
    count(*) FILTER (WHERE e.action IN ('fail_verification', 'fail_volunteer')) AS reworked,
    count(*) FILTER (WHERE e.action = 'void') AS voided,
    count(*) FILTER (WHERE e.action = 'withdraw') AS withdrawn,
    count(*) FILTER (WHERE e.action = 'expire') AS expired,
    count(DISTINCT e.incident_id) FILTER (WHERE {overrun}) AS overdue
FROM events e JOIN incidents i USING (incident_id) {unnest}
WHERE e.at >= %s AND e.at < %s AND {scope}
GROUP BY 1, 2 ORDER BY 1, 2
"""


POINTS_SQL = """
SELECT {group} AS key, {period} AS period,
    COALESCE(sum(p.points) FILTER (WHERE p.kind IN ('earn', 'bonus')
        OR (p.kind = 'reversal' AND split_part(p.reverses, ':', 1) IN ('earn', 'bonus'))), 0) AS issued,
    COALESCE(-sum(p.points) FILTER (WHERE p.kind = 'redeem'
        OR (p.kind = 'reversal' AND split_part(p.reverses, ':', 1) = 'redeem')), 0) AS redeemed
FROM points_entries p
WHERE p.at >= %s AND p.at < %s AND {scope}
GROUP BY 1, 2 ORDER BY 1, 2
"""
_POINTS_GROUP = {  # community codes begin with their street's code, which begins with the district's
    KpiGroup.DISTRICT: "left(p.community_code, 6)",
    KpiGroup.STREET: "left(p.community_code, 9)",
    KpiGroup.COMMUNITY: "p.community_code",
}


OPEN_OVERDUE_SQL = """
SELECT {group} AS key, count(DISTINCT i.incident_id) AS open_overdue
FROM incidents i {unnest}
WHERE {open_overdue} AND {scope}
GROUP BY 1
"""
_OPEN_GROUP = {**_GROUP, KpiGroup.WORKER: "i.assignee_id"}  # an open case's holder now

_JOINS = {
    KpiGroup.SOURCE: ", unnest(i.sources) AS src(source)",
    KpiGroup.WORKER: " JOIN tasks t ON t.task_id = e.task_id",
}


SURGE_CASES_SQL = """
SELECT i.incident_id FROM incidents i
WHERE i.grid_code = ANY(%s) AND i.category = ANY(%s) AND ((i.created_at >= %s AND i.created_at < %s)
    OR EXISTS (SELECT 1 FROM events r WHERE r.incident_id = i.incident_id AND r.action = 'raise_priority'
        AND r.data -> 'raised' ->> 'surge_id' = %s))
"""


@dataclass(frozen=True, slots=True)
class SurgeScope:
    """One surge as its KPI split sees it: its grids, its rule's categories, its period
    [starts_at, ends_at) (ended early: until it was ended)."""

    surge_id: str
    grids: Sequence[str]
    categories: Sequence[str]
    starts_at: datetime
    ends_at: datetime

    def args(self) -> list[Any]:
        """`SURGE_CASES_SQL`'s arguments."""
        return [list(self.grids), list(self.categories), self.starts_at, self.ends_at, self.surge_id]


async def surge_cases(conn: AsyncConnection[Any], scope: SurgeScope) -> list[str]:
    """The ids of the surge's cases (`SURGE_CASES_SQL`)."""
    cur = await conn.execute(SURGE_CASES_SQL, scope.args())
    return [str(r[0]) for r in await cur.fetchall()]


def _scope(scope: Scope, cases: list[str] | None, group: KpiGroup) -> tuple[sql.Composable, list[Any]]:
    """The WHERE piece (over `i`) and its arguments: the caller's scope, one surge's cases, and
    the cases placed in an area of the group's level (`PLACED_ONLY`)."""
    where = placed_only(scope.where("i"), group)
    if cases is None:
        return where, []
    return sql.SQL("{} AND i.incident_id = ANY(%s::uuid[])").format(where), [cases]


def placed_only(where: sql.Composable, group: KpiGroup) -> sql.Composable:
    """`where` and, for a `PLACED_ONLY` group, the case has an area of its level."""
    if group not in PLACED_ONLY:
        return where
    return sql.SQL("{} AND {} IS NOT NULL").format(where, sql.SQL(_GROUP[group]))


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


async def kpis(
    conn: AsyncConnection[Any],
    *,
    since: datetime,
    until: datetime,
    group: KpiGroup = KpiGroup.STREET,
    period: Period = Period.ALL,
    scope: Scope = CITY,
    surge: SurgeScope | None = None,
) -> list[Row]:
    """One row per group and period; `scope` (`dispatch.scope`) limits the events to a
    district's or a street's cases, `surge` to the cases of one surge."""
    cases = None if surge is None else await surge_cases(conn, surge)
    where, scope_args = _scope(scope, cases, group)
    period_sql = (
        "'all'"
        if period is Period.ALL
        else f"to_char(date_trunc('{period.value}', e.at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD')"
    )
    query = sql.SQL(KPI_SQL).format(  # the pieces are this module's constants, chosen by enum
        group=sql.SQL(_GROUP[group]),
        period=sql.SQL(period_sql),
        unnest=sql.SQL(_JOINS.get(group, "")),
        scope=where,
        overrun=overrun("e"),
    )
    cur = await conn.execute(query, [since, until, *scope_args])
    out: dict[tuple[Any, Any], Row] = {}
    for (
        key,
        when,
        acc,
        acc_ok,
        res,
        res_ok,
        vol,
        vol_ok,
        clo,
        clo_ok,
        ver,
        rew,
        voided,
        withdrawn,
        expired,
        overdue,
    ) in await cur.fetchall():
        out[(key, when)] = {
            "group": group.value,
            "key": key,
            "period": when,
            "accepted": acc,
            "on_time_acceptance": _ratio(acc_ok, acc),
            "resolved": res,
            "on_time_resolution": _ratio(res_ok, res),
            "resolved_by_volunteers": vol,
            "volunteer_share": _ratio(vol, res),
            "volunteer_on_time": _ratio(vol_ok, vol),
            "closed": clo,
            "on_time_closing": _ratio(clo_ok, clo),
            "verified": ver,
            "rework_rate": _ratio(rew, ver),
            "overdue": overdue,
            "voided": voided,
            "withdrawn": withdrawn,
            "expired": expired,
            "open_overdue": 0 if period is Period.ALL else None,
            "points_issued": None,
            "points_redeemed": None,
            **_NO_VISITS,
        }
    visits = await satisfaction(
        conn,
        since=since,
        until=until,
        group=group.value,
        period_sql=period_sql,
        scope=scope,
        cases=cases,
        keyed_only=group in PLACED_ONLY,
    )
    for k, columns in visits.items():
        out.setdefault(k, _empty(group, *k)).update(columns)
    if period is Period.ALL:
        for key, count in await open_overdue(conn, group=group, scope=scope, cases=cases):
            out.setdefault((key, "all"), _empty(group, key, "all"))["open_overdue"] = count
    if group in _POINTS_GROUP and surge is None:
        points = sql.SQL(POINTS_SQL).format(
            group=sql.SQL(_POINTS_GROUP[group]),
            period=sql.SQL(period_sql.replace("e.at", "p.at")),
            scope=scope.where("p", {Level.COMMUNITY: "community_code"}),
        )
        cur = await conn.execute(points, [since, until])
        for key, when, issued, redeemed in await cur.fetchall():
            row = out.setdefault((key, when), _empty(group, key, when))
            row["points_issued"], row["points_redeemed"] = int(issued), int(redeemed)
    return [out[k] for k in sorted(out, key=lambda k: (str(k[0]), str(k[1])))]


def _empty(group: KpiGroup, key: Any, when: Any) -> Row:
    """A group and period with points but no case events."""
    row: Row = {"group": group.value, "key": key, "period": when}
    for name in (
        "accepted",
        "resolved",
        "resolved_by_volunteers",
        "closed",
        "verified",
        "overdue",
        "voided",
        "withdrawn",
        "expired",
    ):
        row[name] = 0
    for name in ("on_time_acceptance", "on_time_resolution", "volunteer_share", "volunteer_on_time"):
        row[name] = None
    row.update(on_time_closing=None, rework_rate=None, points_issued=None, points_redeemed=None, **_NO_VISITS)
    row["open_overdue"] = 0 if when == "all" else None
    return row


async def out_of_area(conn: AsyncConnection[Any], *, since: datetime, until: datetime) -> int:
    """Reports placed outside the district (an alert wholly elsewhere): recorded, never dispatched."""
    cur = await conn.execute(
        "SELECT count(*) FROM reports WHERE placement = 'outside' AND received_at >= %s AND received_at < %s",
        (since, until),
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def open_overdue(
    conn: AsyncConnection[Any],
    *,
    group: KpiGroup = KpiGroup.DISTRICT,
    scope: Scope = CITY,
    cases: list[str] | None = None,
) -> list[tuple[Any, int]]:
    """(group key, open cases overdue now): the board's 超期 queue, counted by group (of the
    ids `cases` only, when given)."""
    where, args = _scope(scope, cases, group)
    query = sql.SQL(OPEN_OVERDUE_SQL).format(
        group=sql.SQL(_OPEN_GROUP[group]),
        unnest=sql.SQL(_JOINS.get(group, "") if group is KpiGroup.SOURCE else ""),
        open_overdue=OPEN_OVERDUE,
        scope=where,
    )
    cur = await conn.execute(query, args)
    return [(key, int(n)) for key, n in await cur.fetchall()]


async def open_tasks(conn: AsyncConnection[Any]) -> list[tuple[str, str, int]]:
    """(assignee level, light, count) of active tasks, for the gauges."""
    cur = await conn.execute(
        "SELECT t.assignee_level, i.light, count(*) FROM tasks t JOIN incidents i USING (incident_id) "
        "WHERE t.status = 'active' GROUP BY 1, 2"
    )
    return [(str(a), str(b), int(c)) for a, b, c in await cur.fetchall()]
