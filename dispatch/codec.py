"""Cases, events and clocks as JSON documents: one codec for the database and the wire.

The tables store what of a `CaseSnapshot` no column holds and the `ClockState`s as JSONB, and
`dispatch.events` carries each event with the snapshot after it, so a consumer (or `yiwang rebuild`) never has
to re-run the rules. Durations are seconds; times are ISO-8601 in UTC with an offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from config.policy import Duration
from dispatch.lifecycle.case import Actor, CaseEvent, CaseSnapshot
from dispatch.lifecycle.states import Action, CaseState, Role
from dispatch.scope import Scope
from dispatch.sla.calendar import ClockKind
from dispatch.sla.clocks import ClockName, ClockState, ClockStatus

Doc = dict[str, Any]


def utc(at: datetime) -> datetime:
    """Times in documents are aware UTC datetimes; orjson writes them as RFC 3339 strings.

    Most are UTC already (the worker's clock): those are returned as they are, which the
    intake's rows, a dozen times per report, notice.
    """
    return at if at.tzinfo is UTC else at.astimezone(UTC)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def when(value: str | datetime) -> datetime:
    """A time from a document: a datetime (built here) or an ISO string (read back)."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError(f"time without an offset: {value!r}")
    return at


def _duration(d: Duration | None) -> str | None:
    return None if d is None else str(d)


def clock_doc(c: ClockState) -> Doc:
    return {
        "kind": c.kind.value,
        "budget_s": c.budget.total_seconds(),
        "started_at": utc(c.started_at),
        "status": c.status.value,
        "since": utc(c.since),
        "used_s": c.used.total_seconds(),
        "extended_s": c.extended.total_seconds(),
        "steps_taken": c.steps_taken,
    }


def clock_from(name: str, d: Mapping[str, Any]) -> ClockState:
    return ClockState(
        name=ClockName(name),
        kind=ClockKind(d["kind"]),
        budget=timedelta(seconds=d["budget_s"]),
        started_at=when(d["started_at"]),
        status=ClockStatus(d["status"]),
        since=when(d["since"]),
        used=timedelta(seconds=d["used_s"]),
        extended=timedelta(seconds=d["extended_s"]),
        steps_taken=int(d["steps_taken"]),
    )


_CLOCK_ORDER = tuple(ClockName)


def clocks_doc(clocks: Mapping[ClockName, ClockState]) -> Doc:
    """In the enum's order (register, accept, on_site, resolve, verify): stable documents."""
    return {name.value: clock_doc(clocks[name]) for name in _CLOCK_ORDER if name in clocks}


def clocks_from(doc: Mapping[str, Any]) -> dict[ClockName, ClockState]:
    return {ClockName(name): clock_from(name, d) for name, d in doc.items()}


def case_columns(c: CaseSnapshot) -> Doc:
    """The snapshot's fields that are columns of `incidents` (filtered, counted, updated);
    the street is the incident's placement, written by whoever places it."""
    return {
        "state": c.state.value,
        "sources": sorted(c.sources),
        "version": c.version,
        "assignee_id": c.assignee_id,
        "returns": c.returns,
        "reworks": c.reworks,
        "reopens": c.reopens,
        "merged_into": c.merged_into,
        "case": case_doc(c),
    }


def case_doc(c: CaseSnapshot) -> Doc:
    """The rest of the snapshot, read only as a whole when the case is loaded: the `case`
    document (the columns hold everything else; `case_from` puts them back together)."""
    return {
        "previous_state": c.previous_state.value if c.previous_state else None,
        "returned_by": sorted(c.returned_by),
        "extension_requests": c.extension_requests,
        "requested_extension": _duration(c.requested_extension),
        "volunteer_id": c.volunteer_id,
    }


def case_from(row: Mapping[str, Any]) -> CaseSnapshot:
    """The snapshot of an incident row (its columns and its `case` document)."""
    d = row.get("case") or {}
    requested = d.get("requested_extension")
    previous = d.get("previous_state")
    return CaseSnapshot(
        case_id=str(row["incident_id"]),
        state=CaseState(row["state"]),
        street_code=row.get("street_code"),
        sources=frozenset(row.get("sources") or ()),
        version=int(row["version"]),
        updated_at=when(row["updated_at"]),
        assignee_id=row.get("assignee_id"),
        previous_state=CaseState(previous) if previous else None,
        returns=int(row.get("returns") or 0),
        returned_by=frozenset(d.get("returned_by", ())),
        reworks=int(row.get("reworks") or 0),
        reopens=int(row.get("reopens") or 0),
        extension_requests=int(d.get("extension_requests", 0)),
        requested_extension=Duration.parse(requested) if requested else None,
        merged_into=row.get("merged_into"),
        volunteer_id=d.get("volunteer_id"),
        district_code=row.get("district_code"),
    )


_ACTIONS = {a: a.value for a in Action}
_STATES = {s: s.value for s in CaseState}
_ROLES = {r: r.value for r in Role}
"""Enum values by member: a dict lookup instead of enum's `value` property (an event document
is built for every transition, the SLA tracker's and the replay's thousands a second)."""


def event_doc(e: CaseEvent) -> Doc:
    actor = e.actor
    return {
        "event_id": e.event_id,
        "case_id": e.case_id,
        "sequence": e.sequence,
        "action": _ACTIONS[e.action],
        "from_state": _STATES[e.from_state] if e.from_state else None,
        "to_state": _STATES[e.to_state],
        "actor": {"role": _ROLES[actor.role], "id": actor.actor_id, "street_code": actor.street_code},
        "at": utc(e.at),
        "reason": e.reason,
        "assignee_id": e.assignee_id,
        "merged_into": e.merged_into,
        "extension": _duration(e.extension),
        "street_code": e.street_code,
        "sources": sorted(e.sources),
    }


def event_from(d: Mapping[str, Any]) -> CaseEvent:
    actor = d["actor"]
    extension = d.get("extension")
    return CaseEvent(
        case_id=d["case_id"],
        sequence=int(d["sequence"]),
        action=Action(d["action"]),
        from_state=CaseState(d["from_state"]) if d.get("from_state") else None,
        to_state=CaseState(d["to_state"]),
        actor=Actor(Role(actor["role"]), actor["id"], Scope(street=actor.get("street_code"))),
        at=when(d["at"]),
        reason=d.get("reason"),
        assignee_id=d.get("assignee_id"),
        merged_into=d.get("merged_into"),
        extension=Duration.parse(extension) if extension else None,
        street_code=d.get("street_code"),
        sources=frozenset(d.get("sources", ())),
    )
