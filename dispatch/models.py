"""The dispatch tables: a projection of the events, written in batches by the stream intake,
the SLA tracker and the API.

Statuses are text columns constrained to the domain enums' values (a CHECK per column, made
from the enums), so adding a state is a migration, and no bare string escapes the enums.
Clocks are stored on the incident as JSON (one row per incident, not one per clock), with
`next_sla_at` indexed so the SLA tracker can claim due incidents with SKIP LOCKED.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dispatch.lifecycle.states import Action, CaseState
from dispatch.routing.values import DecisionKind


class TaskStatus(StrEnum):
    ACTIVE = "active"  # the assignee holds it (dispatched, accepted, on site, resolving)
    DONE = "done"  # resolved and the case verified or closed
    RETURNED = "returned"  # handed back (回退): the case is routed again
    REASSIGNED = "reassigned"  # taken away (by an operator, or the SLA tracker when unaccepted)
    CANCELLED = "cancelled"  # the case was merged, rejected or closed around it


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"  # 80 % of a limit used
    RED = "red"  # a limit passed


def one_of(column: str, values: type[StrEnum], name: str) -> CheckConstraint:
    """A CHECK that keeps a text column inside a domain enum (the enum is the source of truth)."""
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class DispatchBase(DeclarativeBase):
    pass


TZ = DateTime(timezone=True)


class ReportRow(DispatchBase):
    """One agency report as received (after validation), and where it went."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_reports_source_ref"),
        Index("ix_reports_incident", "incident_id"),
        # reports with a phone only: the search asks `= digest` (0025_write_cost)
        Index(
            "ix_reports_phone_hash",
            "reporter_phone_hash",
            postgresql_where=text("reporter_phone_hash IS NOT NULL"),
        ),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(128))
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    merged: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str] = mapped_column(String(48))
    priority: Mapped[str] = mapped_column(String(2))
    reported_at: Mapped[datetime] = mapped_column(TZ)
    received_at: Mapped[datetime] = mapped_column(TZ)
    ingested_at: Mapped[datetime] = mapped_column(TZ, server_default=text("now()"))
    crs: Mapped[str | None] = mapped_column(String(8))
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    address: Mapped[str | None] = mapped_column(Text)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    placement: Mapped[str] = mapped_column(String(16))
    placement_reason: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    reporter: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """Personal data: never logged, exported to metrics or returned outside the agency's scope."""
    reporter_phone_hash: Mapped[str | None] = mapped_column(String(64))
    """HMAC of the reporter's phone (dispatch/search/phones.py): how an operator finds it."""
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    kafka_topic: Mapped[str | None] = mapped_column(String(128))
    kafka_partition: Mapped[int | None] = mapped_column(Integer)
    kafka_offset: Mapped[int | None] = mapped_column(BigInteger)


class IncidentRow(DispatchBase):
    """A case (案卷): one or more reports of the same event, and its lifecycle state."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_state", "state"),
        Index("ix_incidents_street_state", "street_code", "state"),
        Index("ix_incidents_grid", "grid_code"),
        Index("ix_incidents_next_sla", "next_sla_at", postgresql_where=text("next_sla_at IS NOT NULL")),
        one_of("state", CaseState, "ck_incidents_state"),
        one_of("light", Light, "ck_incidents_light"),
        # fillfactor 80 (0025_write_cost): room on the page for a merge's new row version, so
        # the intake's merge UPDATE, which changes no indexed column, is a HOT update
        {"postgresql_with": {"fillfactor": 80}},
    )

    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    state: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer)
    """Lifecycle events applied (the next event's sequence is version + 1)."""
    revision: Mapped[int] = mapped_column(Integer)
    """Every change, lifecycle or not (a report merged in): newer snapshots win on replay."""
    category: Mapped[str] = mapped_column(String(48))
    family: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(2))
    agency_led: Mapped[bool] = mapped_column(Boolean)
    district_code: Mapped[str] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(9))
    community_code: Mapped[str | None] = mapped_column(String(12))
    grid_code: Mapped[str | None] = mapped_column(String(15))
    layer_version: Mapped[int | None] = mapped_column(Integer)
    placement_reason: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    address: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    report_count: Mapped[int] = mapped_column(Integer)
    first_reported_at: Mapped[datetime] = mapped_column(TZ)
    last_reported_at: Mapped[datetime] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ)
    updated_at: Mapped[datetime] = mapped_column(TZ)
    closed_at: Mapped[datetime | None] = mapped_column(TZ)
    assignee_id: Mapped[str | None] = mapped_column(String(64))
    current_task_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    merged_into: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    returns: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    reworks: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    reopens: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    case: Mapped[dict[str, Any]] = mapped_column(JSONB)
    """The lifecycle snapshot fields no column holds (previous state, returned_by …): read only
    as a whole, with the columns, when the case is loaded (`dispatch.codec.case_from`)."""
    clocks: Mapped[dict[str, Any]] = mapped_column(JSONB)
    """SLA clock states by clock name; deadlines are derived from them, never stored stale."""
    policy_id: Mapped[str] = mapped_column(String(64))
    """The escalation policy in force when the case was created (frozen; see sla_policies)."""
    next_sla_at: Mapped[datetime | None] = mapped_column(TZ)
    light: Mapped[str] = mapped_column(String(8), server_default=text("'green'"))
    escalation_level: Mapped[str | None] = mapped_column(String(16))
    sla_note: Mapped[str | None] = mapped_column(Text)
    """Why a clock could not be scheduled (a working-time limit past the calendar's data): an alarm."""
    surge_id: Mapped[str | None] = mapped_column(String(64))
    """The surge the case opened under or was raised by: clocks it starts while that surge holds
    get the surge's scaled limits (dispatch.cases.case_rules)."""


class TaskRow(DispatchBase):
    """One assignment of a case to a person (main) or a supporting grid task (assist)."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_incident", "incident_id"),
        Index("ix_tasks_assignee_active", "assignee_id", postgresql_where=text("status = 'active'")),
        one_of("status", TaskStatus, "ck_tasks_status"),
        one_of("kind", DecisionKind, "ck_tasks_kind"),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.incident_id"))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))
    revision: Mapped[int] = mapped_column(Integer)
    """Every change of the task: newer snapshots win on replay."""
    assignee_id: Mapped[str] = mapped_column(String(64))
    assignee_level: Mapped[str] = mapped_column(String(24))
    assignee_role: Mapped[str] = mapped_column(String(32))
    grid_code: Mapped[str | None] = mapped_column(String(15))
    street_code: Mapped[str | None] = mapped_column(String(9))
    routing_reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ)
    accepted_at: Mapped[datetime | None] = mapped_column(TZ)
    arrived_at: Mapped[datetime | None] = mapped_column(TZ)
    resolved_at: Mapped[datetime | None] = mapped_column(TZ)
    ended_at: Mapped[datetime | None] = mapped_column(TZ)
    end_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))


class EventRow(DispatchBase):
    """Every transition of every case, in order: the record the tables are a projection of."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_at", "at"),
        Index("ix_events_unpublished", "at", postgresql_where=text("published_at IS NULL")),
        one_of("action", Action, "ck_events_action"),
    )

    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(TZ)
    reason: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    grid_code: Mapped[str | None] = mapped_column(String(15))
    street_code: Mapped[str | None] = mapped_column(String(9))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    district_code: Mapped[str | None] = mapped_column(String(6))
    """The case's district (also when no area code is known: a case at its district's centre)."""
    published_at: Mapped[datetime | None] = mapped_column(TZ)
    """Outbox marker for writers not driven by a Kafka input (API, SLA tracker)."""


class MergeWindowRow(DispatchBase):
    """Recently reported incidents that a new report may still merge into (kept small: pruned)."""

    __tablename__ = "merge_window"
    __table_args__ = (
        # one GiST over (geom, problem, first_at, last_at) answers "same problem, active around
        # this time, in this box" in one probe (btree_gist), bounded on both sides in time even
        # when a backlog arrives late; a geometry-only index returns every incident ever there.
        # The geometry leads: split by place first, a probe reads the pages around its box only
        Index("ix_merge_window_probe", "geom", "problem", "first_at", "last_at", postgresql_using="gist"),
        # no index on last_at alone: the periodic prune scans the small table (0025_write_cost)
    )

    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    family: Mapped[str] = mapped_column(String(32))
    problem: Mapped[str] = mapped_column(String(64))  # dispatch.merging.MergePolicy.problem_of
    priority: Mapped[str] = mapped_column(String(2))  # as handled now: raised by merges
    lead_department: Mapped[str] = mapped_column(String(64))  # who leads it (for the P0 rule)
    street_code: Mapped[str | None] = mapped_column(String(9))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    first_at: Mapped[datetime] = mapped_column(TZ)
    last_at: Mapped[datetime] = mapped_column(TZ)


class SlaPolicyRow(DispatchBase):
    """Each escalation/SLA policy ever in force, by content hash; cases point at theirs."""

    __tablename__ = "sla_policies"

    policy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    first_used_at: Mapped[datetime] = mapped_column(TZ, server_default=text("now()"))


class ApiRequestRow(DispatchBase):
    """Idempotency keys of API commands: a retried POST returns the stored answer, applied once.

    Keyed by the caller and its key, so two callers can never collide; `fingerprint` is a hash
    of the command, so a key reused for a different command is refused instead of replayed.
    """

    __tablename__ = "api_requests"
    __table_args__ = (Index("ix_api_requests_created", "created_at"),)

    actor: Mapped[str] = mapped_column(String(96), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=text("now()"))


class CalendarYearRow(DispatchBase):
    """A year of the statutory working calendar an operator imported from the State Council's
    notice (`yiwang calendar import`), for the years the installed chinese-calendar lacks.

    Every process builds its calendar from these rows and re-reads them when `revision` (the
    import that last wrote a row; the highest one names the calendar's state) moves.
    """

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    holidays: Mapped[list[date]] = mapped_column(ARRAY(Date))
    workdays: Mapped[list[date]] = mapped_column(ARRAY(Date))
    source: Mapped[str] = mapped_column(Text, server_default=text("''"))
    revision: Mapped[int] = mapped_column(BigInteger)
    imported_at: Mapped[datetime] = mapped_column(TZ, server_default=text("now()"))


class PhotoRow(DispatchBase):
    """Photos attached to resolves, in the database so that every API host serves them (a pod's
    disk is neither shared nor kept). Written once under a key the API makes (dispatch/api/photos.py)."""

    __tablename__ = "photos"

    photo_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(16))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(TZ, server_default=text("now()"))
