"""The `cap_messages` table: one row per CAP message (sender, identifier), with where it stands.

A row is the message's life-cycle record as received (`record`), the case it resolved to, and
its state (`AlertState`). An Alert's row carries its own report (`report_id`); an Update's or a
Cancel's row the report of the Alert its references lead back to, once they resolve.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models import TZ, DispatchBase, one_of
from schemas.cap_record import MsgType


class AlertState(StrEnum):
    ACTIVE = "active"  # an Alert whose case may still expire (it has an <expires> not yet reached)
    RECORDED = "recorded"  # nothing (more) to do: an Ack, an Error, an Alert without <expires>
    PENDING = "pending"  # an Update or a Cancel whose case is not known yet (retried)
    APPLIED = "applied"  # the Update or Cancel changed its case
    UNRESOLVED = "unresolved"  # its references never led to a case (given up after the grace)
    EXPIRED = "expired"  # the Alert expired with nothing dispatched: its case closed as expired
    LAPSED = "lapsed"  # the Alert expired after its case was dispatched (or had ended): case untouched


class CapMessageRow(DispatchBase):
    __tablename__ = "cap_messages"
    __table_args__ = (
        Index("ix_cap_messages_due", "state", "expires"),
        Index("ix_cap_messages_report", "report_id"),
        one_of("msg_type", MsgType, "ck_cap_messages_msg_type"),
        one_of("state", AlertState, "ck_cap_messages_state"),
    )

    sender: Mapped[str] = mapped_column(String(256), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(256), primary_key=True)
    msg_type: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12))
    sent: Mapped[datetime] = mapped_column(TZ)
    expires: Mapped[datetime | None] = mapped_column(TZ)
    received_at: Mapped[datetime] = mapped_column(TZ)
    report_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    """An Alert's own report; an Update's or Cancel's: the report of the Alert it resolved to."""
    incident_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    record: Mapped[dict[str, Any]] = mapped_column(JSONB)
    outcome: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=text("now()"))
