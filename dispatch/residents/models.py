"""The residents' submissions: the tracking code, the device and the address only as hashes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models import TZ, DispatchBase


class ResidentSubmissionRow(DispatchBase):
    __tablename__ = "resident_submissions"
    __table_args__ = (
        Index("ix_resident_submissions_device", "device_hash", "submitted_at"),
        Index("ix_resident_submissions_ip", "ip_hash", "submitted_at"),
    )

    source_ref: Mapped[str] = mapped_column(String(16), primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    device_hash: Mapped[str] = mapped_column(String(64))
    ip_hash: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(TZ)
