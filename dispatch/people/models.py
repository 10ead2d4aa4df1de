"""Tables of the people domain: PIN hashes and dated roster exceptions.

The people themselves are rows of `workers` (geo.models.WorkerRow, with its `active` flag):
routing, the ladder and the reference district all read that one table. A PIN is stored only
as its scrypt hash (dispatch.api.accounts); a deactivated person's PIN stops working because
the login joins the active flag.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models import DispatchBase, one_of
from dispatch.routing.rosters import ExceptionKind

TZ = DateTime(timezone=True)


class WorkerPinRow(DispatchBase):
    __tablename__ = "worker_pins"

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(TZ, server_default=text("now()"))


class RosterExceptionRow(DispatchBase):
    __tablename__ = "roster_exceptions"
    __table_args__ = (
        one_of("kind", ExceptionKind, "ck_roster_exceptions_kind"),
        CheckConstraint("last_day >= first_day", name="ck_roster_exceptions_days"),
        Index("ix_roster_exceptions_last_day", "last_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    worker_id: Mapped[str] = mapped_column(String(64))
    other_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, server_default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=text("now()"))
