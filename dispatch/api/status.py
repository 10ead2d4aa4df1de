"""The Open311 `StatusSource` backed by the dispatch database: GET requests/:id shows the
real state of the case a request became (following a merge to the case that absorbed it),
the resolution note once it is handled, its next deadline as `expected_datetime`, and the
return visit (回访) of the latest closing (`dispatch.revisits`; not reached derived from its time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, text

from dispatch.api.views import next_deadline
from dispatch.revisits.values import status_at
from dispatch.sla.calendar import Timekeeper
from dispatch.sla.policy_book import load_policy_book
from schemas.open311_status import ReturnVisit, StatusUpdate

CLOSED_STATES = frozenset({"closed", "rejected"})
_NOTES = {
    "reported": "received",
    "registered": "registered (立案); awaiting dispatch",
    "dispatched": "dispatched to the responsible grid (派遣)",
    "accepted": "accepted by the grid worker (签收)",
    "on_site": "a worker is on site",
    "resolved": "handled; awaiting verification (核查)",
    "verified": "verified; closing",
    "closed": "closed (结案)",
    "returned": "being routed to the responsible unit",
    "extension_requested": "in progress; an extension was requested",
    "parked": "long-term item (挂账), explained to the command center",
    "rework": "being reworked after verification",
    "reopened": "reopened; being dispatched again",
    "rejected": "not accepted as a case (不予立案)",
}

HANDLED_STATES = frozenset({"resolved", "verified", "closed"})
STATUS_SQL = text("""
    SELECT r.report_id::text, c.state, c.updated_at, c.clocks,
           (SELECT k.notes FROM tasks k WHERE k.incident_id = c.incident_id AND k.notes IS NOT NULL
            ORDER BY k.created_at DESC LIMIT 1) AS resolution,
           v.status AS visit_status, v.requested_at AS visit_asked, v.due_at AS visit_due,
           v.answer AS visit_answer, v.rework IS NOT NULL AS visit_reworked
    FROM reports r JOIN incidents i ON i.incident_id = r.incident_id
    JOIN incidents c ON c.incident_id = COALESCE(i.merged_into, i.incident_id)
    LEFT JOIN LATERAL (
        SELECT status, requested_at, due_at, answer, rework FROM return_visits
        WHERE report_id = r.report_id ORDER BY closing DESC LIMIT 1
    ) v ON true
    WHERE r.report_id = ANY(CAST(:ids AS uuid[]))
""")


class DispatchStatus:
    """Report id -> Open311 status ("open"/"closed"), a note naming the case's state, the time."""

    def __init__(self, engine: Engine, timekeeper: Timekeeper | None = None) -> None:
        self.engine = engine
        self.timekeeper = timekeeper or load_policy_book().tk  # working time: the deployment's

    def statuses(self, report_ids: Sequence[str]) -> Mapping[str, StatusUpdate]:
        ids = [i for i in report_ids if _is_uuid(i)]
        if not ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(STATUS_SQL, {"ids": ids}).all()
        out = {}
        now = datetime.now(UTC)
        for report_id, state, updated_at, clocks, resolution, *visit in rows:
            note = f"{state}: {_NOTES.get(state, state)}"
            if state in HANDLED_STATES and resolution:
                note += f"; {resolution}"
            due, _ = next_deadline(clocks, self.timekeeper) if state not in HANDLED_STATES else (None, False)
            out[report_id] = StatusUpdate(
                status="closed" if state in CLOSED_STATES else "open",
                status_notes=note,
                agency_responsible=None,
                updated_at=updated_at,
                expected_at=datetime.fromisoformat(due) if due else None,
                return_visit=_visit(visit, now),
            )
        return out


def _visit(columns: list[Any], now: datetime) -> ReturnVisit | None:
    """The latest closing's return visit; not reached is derived from its due time."""
    status, asked, due, answer, reworked = columns
    if status is None:
        return None
    derived = status_at(answered=status == "answered", due_at=due, now=now)
    return ReturnVisit(derived.value, asked, due, answer, bool(reworked))


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
