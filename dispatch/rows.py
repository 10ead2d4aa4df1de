"""Rows of the dispatch tables as JSON-ready documents: what is written is what is published.

The intake (and later the API and the SLA tracker) build these dicts, COPY them into
PostgreSQL, and publish the very same documents on `incidents`, `dispatch.tasks` and
`dispatch.events`. `yiwang rebuild` reads them back from the topics and upserts them with the
same store code, so the tables are a projection of the topics (newest `revision` wins).

Values are what orjson and psycopg both take natively: ids as strings, times as aware
datetimes in UTC (RFC 3339 strings once published), points as EWKT ('SRID=4326;POINT(lon lat)').
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dispatch.codec import case_columns, clocks_doc, event_doc, utc
from dispatch.intake.rules import LocatedReport, Opened
from dispatch.lifecycle.case import CaseEvent
from dispatch.models import Light, TaskStatus
from schemas.report_struct import ReportStruct

Row = dict[str, Any]


def ewkt(lon: float | None, lat: float | None) -> str | None:
    return None if lon is None or lat is None else f"SRID=4326;POINT({lon!r} {lat!r})"


def report_row(
    report: ReportStruct,
    doc: dict[str, Any],
    where: LocatedReport,
    *,
    incident_id: str,
    merged: bool,
    origin: tuple[str, int, int] | None,
    now: datetime,
) -> Row:
    body = {k: v for k, v in doc.items() if k != "reporter"}  # as received: unknown fields kept
    return {
        "report_id": str(report.report_id),
        "source": report.source.value,
        "source_ref": report.source_ref,
        "incident_id": incident_id,
        "merged": merged,
        "category": report.category,
        "priority": where.priority.value,
        "reported_at": utc(report.reported_at),
        "received_at": utc(report.received_at),
        "ingested_at": utc(now),
        "crs": report.location.crs.value if report.location.crs else None,
        "geom": ewkt(where.lon, where.lat),
        "address": report.location.address,
        "grid_code": where.grid_code,
        "placement": where.placement,
        "placement_reason": where.placement_reason,
        "description": report.description,
        "reporter": doc.get("reporter"),
        "body": body,
        "kafka_topic": origin[0] if origin else None,
        "kafka_partition": origin[1] if origin else None,
        "kafka_offset": origin[2] if origin else None,
    }


def incident_row(opened: Opened, report: ReportStruct, *, now: datetime, policy_id: str) -> Row:
    return opened_incident_row(
        opened,
        address=report.location.address,
        description=report.description,
        now=now,
        policy_id=policy_id,
    )


def opened_incident_row(
    opened: Opened, *, address: str | None, description: str, now: datetime, policy_id: str
) -> Row:
    """The row of a newly opened case (the intake; a report split out of a case)."""
    where, case = opened.report, opened.case
    return {
        "incident_id": opened.incident_id,
        "revision": 1,
        "category": where.category.code,
        "family": where.category.family,
        "priority": where.priority.value,
        "agency_led": where.category.agency_led,
        "district_code": where.district_code,
        "street_code": where.street_code,
        "community_code": where.community_code,
        "grid_code": where.grid_code,
        "layer_version": where.layer_version,
        "placement_reason": where.placement_reason,
        "geom": ewkt(where.lon, where.lat),
        "address": address,
        "description": description,
        "report_count": 1,
        "first_reported_at": utc(where.reported_at),
        "last_reported_at": utc(where.reported_at),
        "created_at": utc(now),
        "updated_at": utc(now),
        "closed_at": None,
        "current_task_id": opened.task_id,
        **case_columns(case),
        "clocks": clocks_doc(opened.clocks),
        "policy_id": policy_id,
        "next_sla_at": utc(opened.next_sla_at) if opened.next_sla_at else None,
        "light": Light.GREEN.value,
        "escalation_level": None,
        "sla_note": opened.sla_note,
        "surge_id": opened.surge_id,
    }


def task_row(opened: Opened, *, now: datetime) -> Row | None:
    decision, where = opened.decision, opened.report
    if opened.task_id is None or decision.worker_id is None or decision.role is None:
        return None
    return new_task_row(
        task_id=opened.task_id,
        incident_id=opened.incident_id,
        kind=decision.kind.value,
        assignee_id=decision.worker_id,
        level=decision.rule.value,
        role=decision.role,
        grid_code=where.grid_code,
        street_code=where.street_code,
        reason=decision.reason,
        created_at=utc(now),
        revision=1,
    )


def new_task_row(
    *,
    task_id: str,
    incident_id: str,
    kind: str,
    assignee_id: str,
    level: str,
    role: str,
    grid_code: str | None,
    street_code: str | None,
    reason: str,
    created_at: datetime | str,
    revision: int,
) -> Row:
    """A task as it starts: active, nothing stamped yet (the intake and the case flows)."""
    return {
        "task_id": task_id,
        "incident_id": incident_id,
        "kind": kind,
        "status": TaskStatus.ACTIVE.value,
        "revision": revision,
        "assignee_id": assignee_id,
        "assignee_level": level,
        "assignee_role": role,
        "grid_code": grid_code,
        "street_code": street_code,
        "routing_reason": reason,
        "created_at": created_at,
        "accepted_at": None,
        "arrived_at": None,
        "resolved_at": None,
        "ended_at": None,
        "end_reason": None,
        "notes": None,
        "photos": [],
    }


def event_row(
    event: CaseEvent,
    *,
    grid_code: str | None,
    district_code: str | None,
    task_id: str | None,
    published_at: datetime | None = None,
) -> Row:
    """`published_at`: set by writers that publish right after their commit and recover by
    replaying their input (the intake); None leaves the event to the outbox relay (API, SLA).
    `district_code`: the case's, so an event of a case no grid holds still names its district."""
    doc = event_doc(event)
    return {
        "incident_id": event.case_id,
        "sequence": event.sequence,
        "action": doc["action"],
        "from_state": doc["from_state"],
        "to_state": doc["to_state"],
        "actor_role": doc["actor"]["role"],
        "actor_id": event.actor.actor_id,
        "at": doc["at"],
        "reason": event.reason,
        "task_id": task_id,
        "grid_code": grid_code,
        "street_code": event.street_code or None,
        "data": doc,
        "district_code": district_code,
        "published_at": utc(published_at) if published_at else None,
    }


def merge_window_row(opened: Opened, *, problem: str) -> Row | None:
    """`problem`: the merge key of the category (`dispatch.merging.MergePolicy.problem_of`)."""
    where = opened.report
    point = ewkt(where.lon, where.lat)
    if point is None:
        return None
    return {
        "incident_id": opened.incident_id,
        "family": where.category.family,
        "problem": problem,
        "priority": where.priority.value,
        "lead_department": where.category.lead_department,
        "street_code": where.street_code,
        "geom": point,
        "first_at": utc(where.reported_at),
        "last_at": utc(where.reported_at),
    }
