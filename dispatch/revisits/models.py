"""The return-visit table: one request per report and closing, and its answer.

`status` is pending, answered or not_reached: the worker's sweep stores 未回访成功 once `due_at`
is past (`dispatch.revisits.flows.RevisitFlows.sweep`); until it runs, not reached is derived
from `due_at` (`dispatch.revisits.values.Visit.status_at`), so readers are right either way.
`told_at` is the outbox marker of the 回访结果 sent to 12345 (NULL while still to send).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models import TZ, DispatchBase, one_of
from dispatch.revisits.values import ReworkTarget, Satisfaction


class ReturnVisitRow(DispatchBase):
    __tablename__ = "return_visits"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'answered', 'not_reached')", name="ck_return_visits_status"),
        CheckConstraint(
            "answer IS NULL OR " + str(one_of("answer", Satisfaction, "x").sqltext),
            name="ck_return_visits_answer",
        ),
        CheckConstraint(
            "rework IS NULL OR " + str(one_of("rework", ReworkTarget, "x").sqltext),
            name="ck_return_visits_rework",
        ),
        CheckConstraint("(status = 'answered') = (answer IS NOT NULL)", name="ck_return_visits_answered"),
        Index("ix_return_visits_incident", "incident_id", "closing"),
        Index("ix_return_visits_report", "report_id"),
        Index("ix_return_visits_requested", "requested_at"),
        Index("ix_return_visits_due", "due_at", postgresql_where=text("status = 'pending'")),
        Index(
            "ix_return_visits_untold",
            "source",
            postgresql_where=text("told_at IS NULL AND status <> 'pending'"),
        ),
    )

    visit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID)  # no FK: incidents is rebuilt from topics
    report_id: Mapped[uuid.UUID] = mapped_column(UUID)
    source: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str] = mapped_column(Text)
    closing: Mapped[int] = mapped_column(Integer)
    worker_id: Mapped[str | None] = mapped_column(String(64))
    street_code: Mapped[str | None] = mapped_column(String(9))
    requested_at: Mapped[datetime] = mapped_column(TZ)
    due_at: Mapped[datetime] = mapped_column(TZ)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'pending'"))
    answer: Mapped[str | None] = mapped_column(String(24))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(TZ)
    channel: Mapped[str | None] = mapped_column(String(16))
    rework: Mapped[str | None] = mapped_column(String(16))
    told_at: Mapped[datetime | None] = mapped_column(TZ)
