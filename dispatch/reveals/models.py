"""The log of reporters revealed in clear: one row per reveal, never updated or deleted.

The street and the district are copied from the case at the time of the reveal so the district
(and the street itself) can list its own reveals without joining cases that may have moved on;
a case at its district's centre has no street, and its reveals are its district's.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models import DispatchBase

TZ = DateTime(timezone=True)


class RevealRow(DispatchBase):
    __tablename__ = "reporter_reveals"
    __table_args__ = (
        Index("ix_reporter_reveals_at", "revealed_at"),
        Index("ix_reporter_reveals_incident", "incident_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    report_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    street_code: Mapped[str | None] = mapped_column(String(9))
    district_code: Mapped[str | None] = mapped_column(String(6))
    revealed_by: Mapped[str] = mapped_column(String(96))
    revealed_at: Mapped[datetime] = mapped_column(TZ, server_default=text("now()"))
