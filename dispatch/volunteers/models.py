"""The volunteer tables: volunteers, offers (and their claims), the points ledger, the
catalogue and redemptions.

The ledger's rules hold in the database too, whoever writes: `cause` is unique (an entry is
posted once), `balance_after` and `volunteers.balance` are CHECKed non-negative, and a trigger
(created by the migration) refuses UPDATE and DELETE on `points_entries`: append-only.
Statuses are text columns CHECKed against the domain enums, as in `dispatch.models`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dispatch.models import TZ, one_of
from dispatch.volunteers.ledger import EntryKind
from dispatch.volunteers.values import ItemKind, OfferStatus, RedemptionStatus, VolunteerStatus


class VolunteerBase(DeclarativeBase):
    pass


class VolunteerRow(VolunteerBase):
    """A community's volunteer (registered on the phone page or imported), and their balance."""

    __tablename__ = "volunteers"
    __table_args__ = (
        Index("ix_volunteers_community", "community_code", "status"),
        one_of("status", VolunteerStatus, "ck_volunteers_status"),
        CheckConstraint("balance >= 0", name="ck_volunteers_balance"),
    )

    volunteer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    community_code: Mapped[str] = mapped_column(String(12))
    skills: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(String(16))
    pin: Mapped[str] = mapped_column(Text)
    """The volunteer's login PIN as a salted scrypt hash (`dispatch.api.accounts.hash_secret`)."""
    balance: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    registered_at: Mapped[datetime] = mapped_column(TZ)
    approved_at: Mapped[datetime | None] = mapped_column(TZ)
    approved_by: Mapped[str | None] = mapped_column(String(64))


class OfferRow(VolunteerBase):
    """A case offered to one community's volunteers, and its current claim (one per case)."""

    __tablename__ = "volunteer_offers"
    __table_args__ = (
        Index("ix_volunteer_offers_community", "community_code", "status"),
        Index("ix_volunteer_offers_holder", "holder"),
        one_of("status", OfferStatus, "ck_volunteer_offers_status"),
    )

    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    community_code: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    holder: Mapped[str | None] = mapped_column(ForeignKey("volunteers.volunteer_id"))
    claimed_at: Mapped[datetime | None] = mapped_column(TZ)
    lapses_at: Mapped[datetime | None] = mapped_column(TZ)
    resolved_at: Mapped[datetime | None] = mapped_column(TZ)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    offered_by: Mapped[str] = mapped_column(String(64))
    offered_at: Mapped[datetime] = mapped_column(TZ)
    settled_at: Mapped[datetime | None] = mapped_column(TZ)
    settled_by: Mapped[str | None] = mapped_column(String(64))


class PointsEntryRow(VolunteerBase):
    """One entry of the 公益积分 ledger (append-only; see the module doc)."""

    __tablename__ = "points_entries"
    __table_args__ = (
        Index("ix_points_entries_volunteer", "volunteer_id", "at"),
        Index("ix_points_entries_at", "at"),
        one_of("kind", EntryKind, "ck_points_entries_kind"),
        CheckConstraint("points <> 0", name="ck_points_entries_points"),
        CheckConstraint("balance_after >= 0", name="ck_points_entries_balance"),
    )

    entry_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteers.volunteer_id"))
    cause: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(TZ)
    reverses: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    community_code: Mapped[str] = mapped_column(String(12))
    """The volunteer's community when posted (leaderboards per community)."""


class CatalogueItemRow(VolunteerBase):
    """Something points buy: goods, a home service (上门服务) or a voucher, with its stock."""

    __tablename__ = "catalogue_items"
    __table_args__ = (
        one_of("kind", ItemKind, "ck_catalogue_items_kind"),
        CheckConstraint("cost > 0", name="ck_catalogue_items_cost"),
        CheckConstraint("stock >= 0", name="ck_catalogue_items_stock"),
    )

    item_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    community_code: Mapped[str | None] = mapped_column(String(12))
    """Offered in one community; None: district-wide."""
    zh: Mapped[str] = mapped_column(Text)
    en: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    cost: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    partner_id: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    updated_at: Mapped[datetime] = mapped_column(TZ)


class RedemptionRow(VolunteerBase):
    """A redemption: points and one unit of stock debited together; the partner fulfils it."""

    __tablename__ = "redemptions"
    __table_args__ = (
        Index("ix_redemptions_volunteer", "volunteer_id", "created_at"),
        Index("ix_redemptions_partner", "partner_id", "status"),
        one_of("status", RedemptionStatus, "ck_redemptions_status"),
    )

    redemption_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteers.volunteer_id"))
    item_id: Mapped[str] = mapped_column(ForeignKey("catalogue_items.item_id"))
    partner_id: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(TZ)
    fulfilled_at: Mapped[datetime | None] = mapped_column(TZ)
