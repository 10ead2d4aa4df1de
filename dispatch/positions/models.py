"""The last position a worker shared (one row per worker, WGS84)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dispatch.models import TZ


class PositionBase(DeclarativeBase):
    pass


class WorkerPositionRow(PositionBase):
    __tablename__ = "worker_positions"
    __table_args__ = (Index("ix_worker_positions_at", "at"),)

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(TZ)
