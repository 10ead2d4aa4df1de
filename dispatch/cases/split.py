"""Splitting a report out of a case: it was not the same problem after all.

An operator names a report that some case absorbed (by the intake's merge); it becomes a case of
its own again, opened, registered and routed exactly as the intake would have done had it never
merged (`IntakeRules.decide` with no merge candidates), with the id the intake would have given
it. The case it leaves records a `split` event naming the report and the new case, drops the
report's source when no other report of that source remains, and counts one report fewer. Its
priority is not lowered: urgency is never lost by a command (an operator re-prioritises by
hand). The report that opened a case cannot be split out of it (split the others instead).

This module is the pure part; `CaseFlows.split` loads, writes and publishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from config.policy import Category, Priority
from dispatch.cases.work import CaseWork
from dispatch.intake.rules import LocatedReport, Opened, incident_id_for
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.errors import DetailError
from dispatch.lifecycle.states import Action

Row = dict[str, Any]
STREET_DIGITS, COMMUNITY_DIGITS = 9, 12
"""A grid code is 6 admin + 3 street + 3 community + 3 grid digits: its prefixes are its places."""


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A stored report as the split needs it (reports table, point as lon/lat)."""

    report_id: str
    incident_id: str
    source: str
    category: str
    priority: Priority
    reported_at: datetime
    received_at: datetime
    lon: float | None
    lat: float | None
    grid_code: str | None
    placement: str
    placement_reason: str | None
    address: str | None
    description: str


def check_splittable(incident_id: str, report: StoredReport | None) -> StoredReport:
    if report is None or report.incident_id != incident_id:
        raise DetailError("report_id", f"no report of incident {incident_id} with this id")
    if incident_id_for(report.report_id) == incident_id:
        raise DetailError("report_id", "this report opened the case; split the other reports out instead")
    return report


def located(
    report: StoredReport, category: Category, incident: Row, street_name: str | None
) -> LocatedReport:
    """The report placed as the intake placed it (its own grid; street and community from it)."""
    grid = report.grid_code
    return LocatedReport(
        report_id=report.report_id,
        source=report.source,
        category=category,
        priority=report.priority,
        received_at=report.received_at,
        reported_at=report.reported_at,
        lon=report.lon,
        lat=report.lat,
        district_code=str(incident["district_code"]),
        street_code=grid[:STREET_DIGITS] if grid else None,
        street_name=street_name,
        community_code=grid[:COMMUNITY_DIGITS] if grid else None,
        grid_code=grid,
        placement_reason=report.placement_reason,
        placement=report.placement,
        layer_version=incident.get("layer_version") if grid == incident.get("grid_code") else None,
    )


def release(
    work: CaseWork,
    report: StoredReport,
    opened: Opened,
    *,
    actor: Actor,
    reason: str,
    remaining: Sequence[str],
) -> None:
    """The case lets the report go: a `split` event, one report fewer, its sources recounted.

    `remaining`: the sources of the reports that stay in the case.
    """
    data = {
        "split": {
            "report_id": report.report_id,
            "source": report.source,
            "category": report.category,
            "into": opened.incident_id,
            "assignee_id": opened.case.assignee_id,
        }
    }
    work.act(Action.SPLIT, actor, reason, data=data)
    work.case = msgspec.structs.replace(work.case, sources=frozenset(remaining) or work.case.sources)
    work.incident["report_count"] = max(1, int(work.incident["report_count"]) - 1)
