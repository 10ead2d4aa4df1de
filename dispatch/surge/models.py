"""The surge table: one row per warning put in force (from a CAP alert or an operator).

A surge is in force from `starts_at` until `ends_at` or until it is ended (`ended_at`, with
`end_reason`): its status is derived from those times, never stored beside them. `grids` are
the grid codes its area covered when it was declared (the layer in force then), so a later
layer version never changes what a past surge covered; KPIs split by surge join on them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models import TZ, DispatchBase


class SurgeOrigin(StrEnum):
    CAP = "cap"  # an alert of the emergency feed
    OPERATOR = "operator"  # drawn or picked on the board by a district operator


class EndReason(StrEnum):
    CANCELLED = "cancelled"  # a CAP Cancel naming it
    UPDATED = "updated"  # a CAP Update replaced it (the update is a surge of its own)
    OPERATOR = "operator"  # ended by a district operator


class SurgeStatus(StrEnum):
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    EXPIRED = "expired"
    ENDED = "ended"


class SurgeRow(DispatchBase):
    __tablename__ = "surges"
    __table_args__ = (
        CheckConstraint("origin IN ('cap', 'operator')", name="ck_surges_origin"),
        CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('cancelled', 'updated', 'operator')",
            name="ck_surges_end_reason",
        ),
        CheckConstraint("ends_at > starts_at", name="ck_surges_period"),
        Index("ix_surges_reference", "reference"),
        Index("ix_surges_ends_at", "ends_at"),
    )

    surge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    origin: Mapped[str] = mapped_column(String(8))
    reference: Mapped[str | None] = mapped_column(Text)  # the CAP identifier
    warning: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(Text)
    area: Mapped[dict[str, Any]] = mapped_column(JSONB)
    grids: Mapped[list[str]] = mapped_column(ARRAY(String(15)))
    starts_at: Mapped[datetime] = mapped_column(TZ)
    ends_at: Mapped[datetime] = mapped_column(TZ)
    declared_by: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[datetime] = mapped_column(TZ)
    ended_at: Mapped[datetime | None] = mapped_column(TZ)
    end_reason: Mapped[str | None] = mapped_column(String(12))
    ended_by: Mapped[str | None] = mapped_column(String(64))


def status_of(row: dict[str, Any], now: datetime) -> SurgeStatus:
    if row["ended_at"] is not None and row["ended_at"] <= now:
        return SurgeStatus.ENDED
    if now < row["starts_at"]:
        return SurgeStatus.SCHEDULED
    return SurgeStatus.ACTIVE if now < row["ends_at"] else SurgeStatus.EXPIRED
