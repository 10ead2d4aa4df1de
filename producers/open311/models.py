"""The Open311 request log's table: what GET requests lists, shared by every API host.

The producers keep their own declarative base (the dispatch tables are not theirs); the
schema comes from migration 0009_shared_state like every other table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Open311Base(DeclarativeBase):
    pass


class Open311RequestRow(Open311Base):
    """One accepted Open311 request (no personal data: the reporter stays in the report)."""

    __tablename__ = "open311_requests"
    __table_args__ = (Index("ix_open311_requests_time", "requested_at"),)

    service_request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    service_code: Mapped[str] = mapped_column(String(48))
    service_name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    agency_responsible: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    media_url: Mapped[str | None] = mapped_column(Text)
