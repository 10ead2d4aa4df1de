"""The documents the dispatch publishes, v1: what agencies and dashboards consume.

- `incidents`: `IncidentDocument` (`incident.v1.json`), the case row and the reports that
  arrived with this change;
- `dispatch.tasks`: `TaskDocument` (`task.v1.json`), one task row;
- `dispatch.events`: `EventDocument` (`event.v1.json`), one lifecycle event row, its full
  event in `data`;
- `sla.escalations`: `Escalation` (`escalation.v1.json`), one escalation step or an
  operator's escalation by hand;
- `feedback.<source>`: `Feedback` (`feedback.v1.json`), the outcome of one original report of
  a closed or rejected case — except `feedback.hotline`, which carries 12345's own reply
  document (dispatch/revisits/hotline_reply.py).

The rows are the database rows as published (what is written is what is published): ids are
UUID strings, times RFC 3339 with an offset, points EWKT (`SRID=4326;POINT(lon lat)`).
Consumers key on ids and keep the highest `revision` (incidents, tasks) or `sequence`
(events): every document may arrive more than once. States, actions and roles are the
lifecycle's (README, "Case lifecycle"); the files are generated from these models
(`python -m schemas.export`) and a test checks what the pipeline publishes against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

VERSION = 1


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clock(_Doc):
    """One SLA clock of a case: its budget and how much of it is used (durations in seconds)."""

    kind: str
    budget_s: float
    started_at: AwareDatetime
    status: str
    since: AwareDatetime
    used_s: float
    extended_s: float
    steps_taken: int


class CaseRest(_Doc):
    """What of the lifecycle snapshot no column of the incident holds."""

    previous_state: str | None
    returned_by: list[str]
    extension_requests: int
    requested_extension: str | None
    volunteer_id: str | None


class Incident(_Doc):
    incident_id: str
    state: str
    version: int
    revision: int
    category: str
    family: str
    priority: str
    agency_led: bool
    district_code: str
    street_code: str | None
    community_code: str | None
    grid_code: str | None
    layer_version: int | None
    placement_reason: str | None
    geom: str | None
    address: str | None
    description: str
    sources: list[str]
    report_count: int
    first_reported_at: AwareDatetime
    last_reported_at: AwareDatetime
    created_at: AwareDatetime
    updated_at: AwareDatetime
    closed_at: AwareDatetime | None
    assignee_id: str | None
    current_task_id: str | None
    merged_into: str | None
    returns: int
    reworks: int
    reopens: int
    case: CaseRest
    clocks: dict[str, Clock]
    policy_id: str
    next_sla_at: AwareDatetime | None
    light: Literal["green", "yellow", "red"]
    escalation_level: str | None
    sla_note: str | None
    surge_id: str | None  # the surge the case opened under or was raised by


class ReportRecord(_Doc):
    """A report as stored with its case (`body`: the canonical report as received, without
    the reporter; `reporter`: personal data, for the agencies' own desks only)."""

    report_id: str
    source: str
    source_ref: str
    incident_id: str
    merged: bool
    category: str
    priority: str
    reported_at: AwareDatetime
    received_at: AwareDatetime
    ingested_at: AwareDatetime
    crs: str | None
    geom: str | None
    address: str | None
    grid_code: str | None
    placement: str
    placement_reason: str | None
    description: str
    reporter: dict[str, Any] | None
    reporter_phone_hash: str | None = None
    """A keyed hash of the reporter's phone (how an operator's search finds the report)."""
    body: dict[str, Any]
    kafka_topic: str | None
    kafka_partition: int | None
    kafka_offset: int | None


class IncidentDocument(_Doc):
    incident: Incident
    reports: list[ReportRecord]


class Task(_Doc):
    task_id: str
    incident_id: str
    kind: str
    status: Literal["active", "done", "returned", "reassigned", "cancelled"]
    revision: int
    assignee_id: str
    assignee_level: str
    assignee_role: str
    grid_code: str | None
    street_code: str | None
    routing_reason: str
    created_at: AwareDatetime
    accepted_at: AwareDatetime | None
    arrived_at: AwareDatetime | None
    resolved_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    end_reason: str | None
    notes: str | None
    photos: list[str]


class TaskDocument(_Doc):
    task: Task


class Escalation(_Doc):
    """One step of a case's escalation ladder (`key` is its idempotency key), or an operator's
    escalation by hand (`step` "manual", `by` the operator)."""

    key: str | None
    incident_id: str
    task_id: str | None
    assignee_id: str | None
    state: str
    priority: str | None
    category: str | None
    grid_code: str | None
    community_code: str | None
    street_code: str | None
    at: AwareDatetime
    clock: str | None
    run_started_at: AwareDatetime | None
    step: str
    index: int | None
    action: str
    target: str
    target_ids: list[str]
    copy_to: list[str]
    copy_to_ids: list[str]
    level: str
    fraction: float | None
    due_at: AwareDatetime | None
    provisional: bool
    overtaken: bool
    budget_s: float | None
    by: str | None = None
    district_code: str | None = None
    """The case's district (`city`: the city desk); added to v1, optional."""


class EventActor(_Doc):
    role: str
    id: str
    street_code: str | None


class EventData(BaseModel):
    """The event in full, and what its action adds (`escalation`, `sla`: the clocks it
    stopped, `note`, `photos`, `on_time` on a close, a split's or a raise's details)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    event_id: str
    case_id: str
    sequence: int
    action: str
    from_state: str | None
    to_state: str
    actor: EventActor
    at: AwareDatetime
    reason: str | None
    assignee_id: str | None
    merged_into: str | None
    extension: str | None
    street_code: str | None
    sources: list[str]
    escalation: Escalation | None = None
    note: str | None = None
    photos: list[str] | None = None
    on_time: bool | None = None


class Event(_Doc):
    incident_id: str
    sequence: int
    action: str
    from_state: str | None
    to_state: str
    actor_role: str
    actor_id: str
    at: AwareDatetime
    reason: str | None
    task_id: str | None
    grid_code: str | None
    street_code: str | None
    data: EventData
    published_at: AwareDatetime | None
    district_code: str | None = None
    """The case's district (`city`: the city desk), also for a case no grid holds; added to v1
    (optional: an older event and a consumer that ignores it stay valid)."""


class EventDocument(_Doc):
    event: Event


class Feedback(_Doc):
    """On `feedback.<source>`, keyed by the agency's own `source_ref`."""

    source: str
    source_ref: str
    report_id: str
    incident_id: str
    event_id: str
    outcome: Literal["closed", "rejected", "cancelled by the source", "expired", "voided"]
    """How the case ended for this report: closed or rejected by the case flows, withdrawn by
    its source (a CAP Cancel), expired (a CAP alert past its time), voided (an operator's
    duplicate or test record). v1 listed only the first two while all five were published."""
    closed_at: AwareDatetime
    note: str | None
    resolution: str | None
    on_time: bool | None


DOCUMENTS: dict[str, type[BaseModel]] = {
    "incident": IncidentDocument,
    "task": TaskDocument,
    "event": EventDocument,
    "escalation": Escalation,
    "feedback": Feedback,
}
"""File stem → model (`<stem>.v1.json`)."""
TOPIC_DOCUMENTS: dict[str, str] = {
    "incidents": "incident",
    "dispatch.tasks": "task",
    "dispatch.events": "event",
    "sla.escalations": "escalation",
    "feedback.": "feedback",  # every feedback.<source> but feedback.hotline (12345's own reply format)
}
"""Topic (prefix for feedback) → the file stem of its document."""
