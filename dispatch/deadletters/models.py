"""What an operator decided about a dead letter: replayed or discarded, by whom, why, when.

The dead letters themselves stay on `reports.dlq` (schemas.dead_letter, unchanged); this table
only records decisions, keyed by `dlq_id`, so a letter decided once leaves the open list.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models import DispatchBase, one_of


class Decision(StrEnum):
    REPLAYED = "replayed"  # sent through its adapter (or the intake) again
    DISCARDED = "discarded"  # dropped, with a reason


class DeadLetterDecisionRow(DispatchBase):
    __tablename__ = "dlq_decisions"
    __table_args__ = (one_of("decision", Decision, "ck_dlq_decisions_decision"),)

    dlq_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    decision: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text, server_default="")
    actor: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
