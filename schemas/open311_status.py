"""The status of a published Open311 request, as the dispatch side answers it.

Open311 GeoReport v2's GET requests shows, for each request, whether it is open or closed,
a note, the agency responsible, when it last changed and when it is expected to be done. The
Open311 intake (`producers/open311`) renders these fields; the dispatch API
(`dispatch/api/status.py`) fills them from the case the request became. The shape is the seam
between the two, so it lives in the contract and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    status: str  # Open311: "open" or "closed"
    status_notes: str | None
    agency_responsible: str | None
    updated_at: datetime
    expected_at: datetime | None = None
    """The case's next deadline (Open311's expected_datetime); None once handled."""
