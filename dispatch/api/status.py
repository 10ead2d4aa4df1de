"""The Open311 `StatusSource` backed by the dispatch database: GET requests/:id shows the
real state of the case a request became (following a merge to the case that absorbed it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from sqlalchemy import Engine, text

from producers.open311.store import StatusUpdate

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

STATUS_SQL = text("""
    SELECT r.report_id::text, COALESCE(t.state, i.state), COALESCE(t.updated_at, i.updated_at)
    FROM reports r JOIN incidents i ON i.incident_id = r.incident_id
    LEFT JOIN incidents t ON t.incident_id = i.merged_into
    WHERE r.report_id = ANY(CAST(:ids AS uuid[]))
""")


class DispatchStatus:
    """Report id -> Open311 status ("open"/"closed"), a note naming the case's state, the time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def statuses(self, report_ids: Sequence[str]) -> Mapping[str, StatusUpdate]:
        ids = [i for i in report_ids if _is_uuid(i)]
        if not ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(STATUS_SQL, {"ids": ids}).all()
        return {
            report_id: StatusUpdate(
                status="closed" if state in CLOSED_STATES else "open",
                status_notes=f"{state}: {_NOTES.get(state, state)}",
                agency_responsible=None,
                updated_at=updated_at,
            )
            for report_id, state, updated_at in rows
        }


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
