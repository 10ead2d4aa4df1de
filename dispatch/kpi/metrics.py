"""Prometheus metrics of dispatch: transitions, escalations, open tasks, KPI gauges, alarms.

One object built on an injected registry (tests use a fresh one). Labels are closed
vocabularies (actions, steps, levels, lights, KPI names, street codes): no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from psycopg import AsyncConnection

from dispatch.kpi.queries import KpiGroup, kpis, open_tasks, out_of_area

KPI_WINDOW = timedelta(days=30)
_RATIOS = (
    "on_time_acceptance",
    "on_time_resolution",
    "on_time_closing",
    "rework_rate",
    "volunteer_share",
    "volunteer_on_time",
)


@dataclass(frozen=True)
class DispatchMetrics:
    transitions: Counter
    refused: Counter
    escalations: Counter
    reassigned: Counter
    calendar_alarms: Counter
    published: Counter
    relayed: Counter
    open_tasks: Gauge
    kpi: Gauge
    overdue: Gauge
    points: Gauge
    satisfaction: Gauge
    sla_lag: Gauge
    calendar_until: Gauge
    out_of_area: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> DispatchMetrics:
        return cls(
            transitions=Counter(
                "yiwang_case_transitions_total",
                "Lifecycle transitions applied, by action and actor role",
                ["action", "role"],
                registry=registry,
            ),
            refused=Counter(
                "yiwang_case_commands_refused_total",
                "Commands refused, by reason class (illegal, scope, detail, not_found)",
                ["reason"],
                registry=registry,
            ),
            escalations=Counter(
                "yiwang_sla_escalations_total",
                "Escalation steps taken, by step and clock (manual: by an operator)",
                ["step", "clock"],
                registry=registry,
            ),
            reassigned=Counter(
                "yiwang_sla_reassigned_total",
                "Tasks taken from an assignee who had not accepted in time",
                registry=registry,
            ),
            calendar_alarms=Counter(
                "yiwang_sla_calendar_alarms_total",
                "Clocks that could not be read past the working calendar's data (import the notice)",
                registry=registry,
            ),
            published=Counter(
                "yiwang_case_documents_published_total",
                "Documents published after commit, by topic",
                ["topic"],
                registry=registry,
            ),
            relayed=Counter(
                "yiwang_outbox_relayed_total",
                "Events the outbox relay published (left unpublished by a crash or a broker outage)",
                registry=registry,
            ),
            open_tasks=Gauge(
                "yiwang_open_tasks",
                "Active tasks, by assignee level and the case's light",
                ["level", "light"],
                registry=registry,
            ),
            kpi=Gauge(
                "yiwang_kpi_ratio",
                "Dispatch KPIs over the last 30 days (按时签收率, 按期处置率, 按期结案率, 返工率, "
                "volunteers' share of resolutions and their on-time rate), by street",
                ["kpi", "street"],
                registry=registry,
            ),
            overdue=Gauge(
                "yiwang_kpi_overdue",
                "超期数: cases overdue in the last 30 days, by street",
                ["street"],
                registry=registry,
            ),
            points=Gauge(
                "yiwang_volunteer_points",
                "公益积分 issued (verified work) and redeemed in the last 30 days, by street",
                ["flow", "street"],
                registry=registry,
            ),
            satisfaction=Gauge(
                "yiwang_satisfaction_ratio",
                "满意率 (satisfaction) and 回访率 (return-visit rate) of the return visits asked in the "
                "last 30 days (dispatch.kpi.satisfaction), by street",
                ["kpi", "street"],
                registry=registry,
            ),
            sla_lag=Gauge(
                "yiwang_sla_lag_seconds",
                "How far behind the SLA tracker is (oldest due check not yet taken)",
                registry=registry,
            ),
            calendar_until=Gauge(
                "yiwang_calendar_authoritative_until_timestamp_seconds",
                "Until when the working calendar follows published notices (Unix time); "
                "working-time deadlines after it are provisional",
                registry=registry,
            ),
            out_of_area=Gauge(
                "yiwang_reports_out_of_area",
                "Reports of the last 30 days placed outside the district (alerts wholly elsewhere): "
                "recorded, never dispatched",
                registry=registry,
            ),
        )

    async def refresh(self, conn: AsyncConnection[Any], now: datetime) -> None:
        """Set the gauges from the database (on a scrape of the API, or a worker timer)."""
        self.open_tasks.clear()
        for level, light, count in await open_tasks(conn):
            self.open_tasks.labels(level, light).set(count)
        self.kpi.clear()
        self.overdue.clear()
        self.points.clear()
        self.satisfaction.clear()
        self.out_of_area.set(await out_of_area(conn, since=now - KPI_WINDOW, until=now))
        for row in await kpis(conn, since=now - KPI_WINDOW, until=now, group=KpiGroup.STREET):
            street = row["key"] or "unplaced"
            for name in _RATIOS:
                if row[name] is not None:
                    self.kpi.labels(name, street).set(row[name])
            self.overdue.labels(street).set(row["overdue"])
            for name in ("satisfaction", "revisit_rate"):
                if row[name] is not None:
                    self.satisfaction.labels(name, street).set(row[name])
            if row["points_issued"] is not None:
                self.points.labels("issued", street).set(row["points_issued"])
                self.points.labels("redeemed", street).set(row["points_redeemed"])
