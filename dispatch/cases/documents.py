"""What a committed change publishes, as (topic, key, value) triples: pure, so the flows and
the outbox relay publish exactly the same documents for the same rows.

- `incidents`        {"incident": row, "reports": [...]}    (reports are published only with
                                                           the change they arrived with)
- `dispatch.tasks`   {"task": row}
- `dispatch.events`  {"event": row}
- `sla.escalations`  the escalation document of each `escalate` event (README: "SLA tracking")
- `feedback.<source>` one outcome record per original report of a closed, rejected, withdrawn,
                     expired or voided case,
                     every source of a merged case included (the 12345 / 110 reply loop);
                     12345 gets its own reply document (dispatch/revisits/hotline_reply.py)

Keys: the grid code (the district when unplaced) on the dispatch topics; the agency's own
`source_ref` on `feedback.<source>`. The one builder of each document: the intake, the case
flows, the SLA pass and the outbox relay all publish through these functions; the documents'
JSON Schemas are `schemas/documents.py` (schemas/*.v1.json).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from dispatch.lifecycle.states import Action
from dispatch.revisits.hotline_reply import outcome_reply
from schemas.report import Source

Row = dict[str, Any]
HEADERS: list[tuple[str, bytes]] = [("content-type", b"application/json")]
FEEDBACK_ACTIONS = {
    Action.CLOSE.value: "closed",
    Action.REJECT.value: "rejected",
    Action.WITHDRAW.value: "cancelled by the source",
    Action.EXPIRE.value: "expired",
    Action.VOID.value: "voided",
}


@dataclass(frozen=True, slots=True)
class Message:
    topic: str  # the declared name; the publisher applies the deployment's prefix
    key: bytes
    value: bytes


def grid_key(row: Mapping[str, Any]) -> bytes:
    code = row.get("grid_code") or row.get("district_code") or "unplaced"
    return str(code).encode()


def incident_message(row: Mapping[str, Any], reports: Sequence[Mapping[str, Any]] = ()) -> Message:
    return Message("incidents", grid_key(row), orjson.dumps({"incident": row, "reports": list(reports)}))


def task_message(row: Mapping[str, Any]) -> Message:
    return Message("dispatch.tasks", grid_key(row), orjson.dumps({"task": row}))


def event_message(row: Mapping[str, Any], key: bytes | None = None) -> Message:
    """`key`: the incident's (an event row carries its grid code only from the intake on)."""
    return Message("dispatch.events", key or grid_key(row), orjson.dumps({"event": row}))


def feedback_doc(event: Mapping[str, Any], report: Mapping[str, Any], resolution: str | None) -> Row:
    """The outcome of one original report, for the agency that sent it."""
    data = event.get("data") or {}
    return {
        "source": report["source"],
        "source_ref": report["source_ref"],
        "report_id": str(report["report_id"]),
        "incident_id": str(event["incident_id"]),
        "event_id": f"{event['incident_id']}:{event['sequence']}",
        "outcome": FEEDBACK_ACTIONS[str(event["action"])],
        "closed_at": event["at"],
        "note": event.get("reason"),
        "resolution": resolution,
        "on_time": data.get("on_time"),
    }


def messages(
    incidents: Iterable[Mapping[str, Any]],
    tasks: Iterable[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]],
    reports: Mapping[str, Sequence[Mapping[str, Any]]],
) -> list[Message]:
    """Every document of the given rows. `reports`: the original reports of each incident that
    has a close or reject event among `events` (its own and those of cases merged into it)."""
    incident_rows = list(incidents)
    by_id = {str(i["incident_id"]): i for i in incident_rows}
    task_rows = list(tasks)
    resolution = {
        str(t["incident_id"]): t.get("notes") for t in sorted(task_rows, key=lambda t: str(t["created_at"]))
    }
    out = [incident_message(i) for i in incident_rows]
    out += [task_message(t) for t in task_rows]
    for event in events:
        incident_id = str(event["incident_id"])
        key = grid_key(by_id.get(incident_id) or event)
        out.append(event_message(event, key))
        escalation = (event.get("data") or {}).get("escalation")
        if event["action"] == Action.ESCALATE.value and escalation:
            out.append(Message("sla.escalations", key, orjson.dumps(escalation)))
        if event["action"] in FEEDBACK_ACTIONS:
            note = resolution.get(incident_id)
            for report in reports.get(incident_id, ()):
                doc = feedback_doc(event, report, note)
                value = (
                    outcome_reply(doc, unit=report.get("unit"))
                    if report["source"] == Source.HOTLINE.value
                    else orjson.dumps(doc)
                )
                out.append(Message(f"feedback.{report['source']}", str(report["source_ref"]).encode(), value))
    return out


def needs_reports(events: Iterable[Mapping[str, Any]]) -> set[str]:
    """Incidents whose events send feedback (their original reports must be loaded)."""
    return {str(e["incident_id"]) for e in events if e["action"] in FEEDBACK_ACTIONS}
