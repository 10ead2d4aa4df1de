"""What each API operation answers (pydantic), so /openapi.json describes every body.

Every answer model allows extra keys: a new column or flag (a deadline's `provisional`, a new
event field) reaches clients before its model names it, and the response-schema check of the
generated tests still holds. Timestamps are ISO 8601 strings with an offset, passed through as
the database wrote them. Error bodies are at the end: every router documents them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

Stamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Json = dict[str, Any]


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- cases -------------------------------------------------------------------------------


class Deadline(Answer):
    status: str = Field(description="running, paused, stopped, …")
    deadline: Stamp | None = Field(description="None when paused, stopped or past the calendar's data")
    budget_s: float
    steps_taken: int


class IncidentSummary(Answer):
    incident_id: str
    state: str
    priority: str
    category: str
    family: str | None = None
    light: str | None = None
    escalation_level: str | None = None
    street_code: str | None = None
    community_code: str | None = None
    grid_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    description: str | None = None
    sources: list[str] = []
    report_count: int
    assignee_id: str | None = None
    current_task_id: str | None = None
    merged_into: str | None = None
    first_reported_at: Stamp
    created_at: Stamp
    updated_at: Stamp
    closed_at: Stamp | None = None
    next_sla_at: Stamp | None = None
    returns: int
    reworks: int
    reopens: int
    sla_note: str | None = None
    revision: int
    deadlines: dict[str, Deadline] = Field(description="each clock by name (acceptance, resolution, …)")


class Reporter(Answer):
    """Masked: a name's first character, a phone's first three and last four digits."""

    name: str | None
    phone: str | None
    email: str | None
    anonymous: bool


class CaseReport(Answer):
    report_id: str
    incident_id: str
    source: str
    source_ref: str
    category: str
    priority: str
    reported_at: Stamp
    received_at: Stamp
    description: str | None = None
    address: str | None = None
    grid_code: str | None = None
    placement: str | None = None
    placement_reason: str | None = None
    merged: bool | None = None
    attachments: list[Any] = []
    reporter: Reporter | None


class CaseEvent(Answer):
    incident_id: str
    sequence: int
    action: str
    from_state: str | None
    to_state: str
    actor_role: str
    actor_id: str
    at: Stamp
    reason: str | None = None
    task_id: str | None = None
    data: Json = {}


class Task(Answer):
    task_id: str
    incident_id: str
    kind: str
    status: str
    revision: int
    assignee_id: str
    assignee_level: str
    assignee_role: str
    grid_code: str | None = None
    street_code: str | None = None
    routing_reason: str
    created_at: Stamp
    accepted_at: Stamp | None = None
    arrived_at: Stamp | None = None
    resolved_at: Stamp | None = None
    ended_at: Stamp | None = None
    end_reason: str | None = None
    notes: str | None = None
    photos: list[str] = []


class BoardTask(Task):
    """A task with what the board shows of its case."""

    state: str
    light: str | None = None
    priority: str
    category: str


class ActionOffer(Answer):
    action: str
    reason: bool = Field(description="the action needs a reason")


class IncidentPage(Answer):
    total: int
    limit: int
    offset: int
    items: list[IncidentSummary]


class SearchHit(IncidentSummary):
    matched: list[str] = Field(description="how: incident_id, report_id, source_ref, phone, address")
    report_ids: list[str] = Field(description="its reports that matched (none for a case-level match)")


class SearchAnswer(Answer):
    q: str
    items: list[SearchHit]


class TaskPage(Answer):
    total: int
    limit: int
    offset: int
    items: list[BoardTask]


class QueueCounts(Answer):
    """Cases waiting in each of the board's queues (dispatch.api.queues)."""

    triage: int = Field(description="reported by a triage source: to register (立案) or reject (不予立案)")
    new: int
    verify: int = Field(description="resolved: to verify")
    extension: int = Field(description="extension requested")
    returned: int
    overdue: int = Field(description="open and overdue (the KPIs' open_overdue)")
    escalated: int = Field(description="open, escalated past the community")


class Person(Answer):
    """A worker as the board shows them: operators call them, so the phone is in clear."""

    worker_id: str
    name: str
    force: str
    force_zh: str
    force_en: str
    phone: str
    level: str
    active: bool
    on_shift: bool | None = Field(description="by their roster and dated exceptions; None: not known here")


class IncidentDetail(Answer):
    incident: IncidentSummary
    reports: list[CaseReport]
    events: list[CaseEvent]
    tasks: list[Task]
    actions: list[ActionOffer]
    people: dict[str, Person] = Field(description="the assignee and the tasks' holders, by worker id")


class CaseCandidate(Answer):
    """Someone the routing rule would consider for the case, on shift now."""

    worker_id: str
    name: str | None
    role: str
    role_zh: str
    role_en: str
    rule: str = Field(description="eligible_worker, community_lead, street_center, district_center")
    open_tasks: int
    distance_m: float | None
    current: bool = Field(description="holds the case now")


class MergeSuggestion(Answer):
    incident_id: str
    category: str
    priority: str
    state: str
    grid_code: str | None
    address: str | None
    description: str
    first_reported_at: Stamp
    distance_m: float


class RevealedReporter(Answer):
    """A reporter in clear, for a call back; the reveal is recorded (GET /reveals)."""

    report_id: str
    incident_id: str
    name: str | None
    phone: str | None
    revealed_by: str
    revealed_at: Stamp


class Reveal(Answer):
    id: int
    incident_id: str
    report_id: str
    street_code: str | None
    revealed_by: str
    revealed_at: Stamp


class RevealPage(Answer):
    total: int
    limit: int
    offset: int
    items: list[Reveal]


class CommandAnswer(Answer):
    """What a command changed, as stored and published (the header Idempotent-Replayed: a retry)."""

    incident: Json
    tasks: list[Json]
    events: list[Json]


# --- grid workers --------------------------------------------------------------------------


class WorkerTask(Task):
    incident: Json = Field(description="the case: summary fields, without its clocks")
    deadlines: dict[str, Deadline]
    due: Stamp | None = Field(description="the nearest running deadline")


class WorkerTasks(Answer):
    worker_id: str
    items: list[WorkerTask]


class PhotoStored(Answer):
    key: str = Field(description="pass it in resolve's `photos`")
    media_type: str
    bytes: int


# --- the map, KPIs, reference ---------------------------------------------------------------


class Feature(Answer):
    type: Literal["Feature"]
    id: str
    geometry: Json | None
    properties: Json


class FeatureCollection(Answer):
    type: Literal["FeatureCollection"]
    features: list[Feature]


class KpiRow(Answer):
    group: str
    key: str | None
    period: str | None
    accepted: int
    on_time_acceptance: float | None
    resolved: int
    on_time_resolution: float | None
    closed: int
    on_time_closing: float | None
    verified: int
    rework_rate: float | None
    overdue: int
    voided: int = 0  # 作废 by an operator: counted apart from closing
    withdrawn: int = 0  # cancelled by the source (a CAP Cancel)
    expired: int = 0  # an alert expired with nothing dispatched
    open_overdue: int | None = Field(None, description="超期在办: open cases overdue now (whole range rows)")


class Kpis(Answer):
    since: Stamp
    until: Stamp
    items: list[KpiRow]
    out_of_area: int = 0  # reports placed outside the district in the range: never dispatched


class LayerVersion(Answer):
    id: int
    effective_from: Stamp


class Area(Answer):
    code: str
    name: str


class Layers(Answer):
    version: LayerVersion
    scope: str | None
    district: Area  # the caller's district (the city operator: the city)
    districts: list[Area] = []  # every district whose layers follow (`dispatch.scope`)
    streets: FeatureCollection
    communities: FeatureCollection
    grids: FeatureCollection


class Category(Answer):
    zh: str
    en: str
    family: str
    priority: str


# --- logins and agencies ------------------------------------------------------------------


class Claims(Answer):
    sub: str
    role: str
    worker: str | None = None
    source: str | None = None
    street: str | None = None
    district: str | None = None  # operators: their district (city operators name none)


class Token(Claims):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int


class ReportStatus(Answer):
    report_id: str
    source: str
    source_ref: str
    incident_id: str
    case_id: str = Field(description="the case the report is in now (after merges)")
    state: str
    merged_into: str | None = None
    updated_at: Stamp
    closed_at: Stamp | None = None
    category: str
    received_at: Stamp


class AgencyReports(Answer):
    source: str
    items: list[ReportStatus]


# --- errors -------------------------------------------------------------------------------


class Problem(Answer):
    detail: str
    code: str | None = Field(
        default=None, description="what is wrong, as a stable word the pages word in their language"
    )


class Refused(Problem):
    """409: the case's state does not allow this action by this role."""

    state: str
    action: str
    role: str


class Issue(Answer):
    loc: list[str | int]
    msg: str
    type: str


class Invalid(Answer):
    """422: either one field's reason (`field` names it) or the list of validation issues."""

    detail: str | list[Issue]
    field: str | None = None
    code: str | None = Field(default=None, description="required, too_long, unknown_worker, … (errors.CODES)")


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the body cannot be parsed"},
    401: {"model": Problem, "description": "no valid bearer token"},
    403: {"model": Problem, "description": "not for your role, or a filter outside your scope"},
    404: {"model": Problem, "description": "absent or outside your scope (the same answer)"},
    422: {"model": Invalid, "description": "a field is invalid (named)"},
}
COMMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the body cannot be parsed"},
    409: {"model": Refused, "description": "the case's state refuses this action"},
    503: {"model": Problem, "description": "the working calendar needs its next year's data"},
}
PHOTO_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": Invalid, "description": "larger than 5 MB"},
    415: {"model": Invalid, "description": "not a JPEG, PNG or WebP"},
}

VOLUNTEER_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": Problem, "description": "refused by the volunteer scheme's rules"},
}
NOTICE_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": Refused, "description": "the notice's state refuses this (received twice, or not yet)"},
}

RESIDENT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the body cannot be parsed"},
    404: {"model": Problem, "description": "no report with this code (a wrong code looks the same)"},
    409: {"model": Problem, "description": "answered already, or the time to answer is over"},
    422: {"model": Invalid, "description": "a field is invalid (named)"},
    429: {"model": Problem, "description": "too many reports from this device or network"},
    503: {"model": Problem, "description": "the broker is unavailable: try again"},
}
