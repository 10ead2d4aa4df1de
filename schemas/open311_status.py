"""The status of a published Open311 request, as the dispatch side answers it.

Open311 GeoReport v2's GET requests shows, for each request, whether it is open or closed,
a note, the agency responsible, when it last changed, when it is expected to be done and the
return visit (回访) of its latest closing (in the note, and as an extended attribute). The
Open311 intake (`producers/open311`) renders these fields; the dispatch API
(`dispatch/api/status.py`) fills them from the case the request became. The shape is the seam
between the two, so it lives in the contract and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ReturnVisit:
    """The return visit (回访) of the request's latest closing, as GET requests shows it."""

    status: str  # pending | answered | not_reached (未回访成功: no answer in time)
    requested_at: datetime
    due_at: datetime
    answer: str | None = None  # satisfied | basically_satisfied | dissatisfied
    reworked: bool = False  # the answer reopened the case (返工)

    def note(self) -> str:
        """The visit in words, for status_notes."""
        words = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
        if self.status == "answered" and self.answer:
            return f"回访: {words.get(self.answer, self.answer)}" + (
                "; reopened (返工)" if self.reworked else ""
            )
        if self.status == "not_reached":
            return "回访: not reached (未回访成功)"
        return f"回访: awaiting the reporter's answer until {self.due_at.isoformat()}"

    def attribute(self) -> dict[str, Any]:
        """GeoReport v2's extended attribute `return_visit` (GET with extensions=true)."""
        return {
            "status": self.status,
            "requested_datetime": self.requested_at.isoformat(),
            "due_datetime": self.due_at.isoformat(),
            "answer": self.answer,
            "reworked": self.reworked,
        }


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    status: str  # Open311: "open" or "closed"
    status_notes: str | None
    agency_responsible: str | None
    updated_at: datetime
    expected_at: datetime | None = None
    """The case's next deadline (Open311's expected_datetime); None once handled."""
    return_visit: ReturnVisit | None = None
    """The latest closing's return visit, once the case has been closed."""
