"""Notice tables and value types: kinds, states, desks.

A desk is a place on the ladder, not a person: `community_lead:<community code>`,
`street_center:<street code>`, `district_center:<district code>`, `department:<unit>`. People
come and go on a desk (the directory changes); a notice addressed to the desk stays put, and
the desk's account sees it. The desk's codes are also its scope: a community lead's token
names its community, and the inbox query filters on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dispatch.models import TZ, one_of


class NoticeKind(StrEnum):
    URGE = "urge"  # 催办
    ESCALATE = "escalate"  # 提级
    SUPERVISE = "supervise"  # 督办
    MANUAL = "manual"  # an operator escalated the case by hand
    REASSIGN = "reassign"  # 改派: the task changed hands
    WHISTLE = "whistle"  # 吹哨报到: the lead department is called in


class NoticeState(StrEnum):
    SENT = "sent"  # 待签收
    RECEIVED = "received"  # 已签收
    ANSWERED = "answered"  # 已反馈
    CLIMBED = "climbed"  # not received in time: the next rung holds it now


class NoticeAction(StrEnum):
    RECEIVE = "receive"
    ANSWER = "answer"
    CLIMB = "climb"


class DeskLevel(StrEnum):
    COMMUNITY_LEAD = "community_lead"
    STREET_CENTER = "street_center"
    DISTRICT_CENTER = "district_center"
    DEPARTMENT = "department"


class DeskError(ValueError):
    """A desk name that is not `<level>:<code>`."""


@dataclass(frozen=True, slots=True)
class Desk:
    level: DeskLevel
    code: str

    @classmethod
    def parse(cls, text: str) -> Desk:
        """>>> Desk.parse("street_center:500106001")
        Desk(level=<DeskLevel.STREET_CENTER: 'street_center'>, code='500106001')
        """
        level, sep, code = text.partition(":")
        if not sep or not code:
            raise DeskError(f"desk {text!r}: expected <level>:<code>")
        try:
            return cls(DeskLevel(level), code)
        except ValueError:
            raise DeskError(f"desk {text!r}: level must be one of {', '.join(DeskLevel)}") from None

    def __str__(self) -> str:
        return f"{self.level.value}:{self.code}"


class NoticeBase(DeclarativeBase):
    pass


class NoticeRow(NoticeBase):
    """One notice to one desk; its id derives from the case event that made it (idempotency)."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_desk_state", "desk", "state", "receive_by"),
        Index("ix_notices_incident", "incident_id"),
        Index("ix_notices_unreceived", "receive_by", postgresql_where=text("state = 'sent'")),
        one_of("kind", NoticeKind, "ck_notices_kind"),
        one_of("state", NoticeState, "ck_notices_state"),
    )

    notice_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    desk: Mapped[str] = mapped_column(String(64))
    rung: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    community_code: Mapped[str | None] = mapped_column(String(12))
    street_code: Mapped[str | None] = mapped_column(String(9))
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ)
    receive_by: Mapped[datetime] = mapped_column(TZ)
    received_at: Mapped[datetime | None] = mapped_column(TZ)
    received_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(TZ)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[str | None] = mapped_column(Text)
    answer_due: Mapped[datetime | None] = mapped_column(TZ)
    climbed_to: Mapped[str | None] = mapped_column(String(160))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class NoticeEventRow(NoticeBase):
    """Receiving, answering and climbing, in order: the notice's part of the case's history."""

    __tablename__ = "notice_events"
    __table_args__ = (
        Index("ix_notice_events_incident", "incident_id", "at"),
        one_of("action", NoticeAction, "ck_notice_events_action"),
    )

    notice_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(TZ)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a sender: the receiver may have it (idempotency key)
    SENT = "sent"
    FAILED = "failed"  # out of attempts


class DeliveryRow(NoticeBase):
    """One message of one notice on one channel to one recipient: the outbox of the channels.

    The key (notice, channel, recipient) is also the idempotency key sent to the receiver, so a
    sender killed between the receiver's answer and the commit sends the same key again."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        Index(
            "ix_notice_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("state IN ('pending', 'sending')"),
        ),
        one_of("state", DeliveryState, "ck_notice_deliveries_state"),
    )

    notice_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(TZ)
    sent_at: Mapped[datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(Text)
