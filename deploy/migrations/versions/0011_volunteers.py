"""Volunteers and public-welfare points: volunteers, offers and claims, the append-only points
ledger, the redemption catalogue and redemptions; the volunteer actions on case events.

Revision ID: 0011_volunteers
Revises: 0004_case_flows
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_volunteers"
down_revision = "0004_case_flows"
branch_labels = None
depends_on = None

_ACTIONS = (
    "'report', 'register', 'reject', 'dispatch', 'accept', 'arrive', 'resolve', 'return', 'reassign', "
    "'request_extension', 'approve_extension', 'deny_extension', 'park', 'unpark', 'verify', "
    "'fail_verification', 'close', 'reopen', 'merge', 'escalate'"
)
_VOLUNTEER_ACTIONS = "'volunteer_resolve', 'verify_volunteer', 'fail_volunteer'"
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_constraint("ck_events_action", "events", type_="check")
    op.create_check_constraint("ck_events_action", "events", f"action IN ({_ACTIONS}, {_VOLUNTEER_ACTIONS})")
    op.create_table(
        "volunteers",
        sa.Column("volunteer_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("skills", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pin", sa.Text(), nullable=False),
        sa.Column("balance", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
        sa.Column("approved_at", TZ, nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'active', 'inactive')", name="ck_volunteers_status"),
        sa.CheckConstraint("balance >= 0", name="ck_volunteers_balance"),
        sa.PrimaryKeyConstraint("volunteer_id"),
        sa.UniqueConstraint("phone"),
    )
    op.create_index("ix_volunteers_community", "volunteers", ["community_code", "status"])
    op.create_table(
        "volunteer_offers",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=48), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("holder", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("lapses_at", TZ, nullable=True),
        sa.Column("resolved_at", TZ, nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("offered_by", sa.String(length=64), nullable=False),
        sa.Column("offered_at", TZ, nullable=False),
        sa.Column("settled_at", TZ, nullable=True),
        sa.Column("settled_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "status IN ('offered', 'claimed', 'resolved', 'verified', 'failed')",
            name="ck_volunteer_offers_status",
        ),
        sa.ForeignKeyConstraint(["holder"], ["volunteers.volunteer_id"]),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    op.create_index("ix_volunteer_offers_community", "volunteer_offers", ["community_code", "status"])
    op.create_index("ix_volunteer_offers_holder", "volunteer_offers", ["holder"])
    op.create_table(
        "points_entries",
        sa.Column("entry_id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("volunteer_id", sa.String(length=32), nullable=False),
        sa.Column("cause", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("reverses", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.CheckConstraint("kind IN ('earn', 'bonus', 'redeem', 'reversal')", name="ck_points_entries_kind"),
        sa.CheckConstraint("points <> 0", name="ck_points_entries_points"),
        sa.CheckConstraint("balance_after >= 0", name="ck_points_entries_balance"),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteers.volunteer_id"]),
        sa.PrimaryKeyConstraint("entry_id"),
        sa.UniqueConstraint("cause"),
    )
    op.create_index("ix_points_entries_volunteer", "points_entries", ["volunteer_id", "at"])
    op.create_index("ix_points_entries_at", "points_entries", ["at"])
    op.execute(
        """CREATE FUNCTION points_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'points_entries is append-only: post a reversal instead of %', TG_OP;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER points_entries_append_only BEFORE UPDATE OR DELETE ON points_entries "
        "FOR EACH ROW EXECUTE FUNCTION points_entries_append_only()"
    )
    op.create_table(
        "catalogue_items",
        sa.Column("item_id", sa.String(length=48), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("zh", sa.Text(), nullable=False),
        sa.Column("en", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint("kind IN ('goods', 'home_service', 'voucher')", name="ck_catalogue_items_kind"),
        sa.CheckConstraint("cost > 0", name="ck_catalogue_items_cost"),
        sa.CheckConstraint("stock >= 0", name="ck_catalogue_items_stock"),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_table(
        "redemptions",
        sa.Column("redemption_id", sa.UUID(), nullable=False),
        sa.Column("volunteer_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=48), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("fulfilled_at", TZ, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'fulfilled')", name="ck_redemptions_status"),
        sa.ForeignKeyConstraint(["item_id"], ["catalogue_items.item_id"]),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteers.volunteer_id"]),
        sa.PrimaryKeyConstraint("redemption_id"),
    )
    op.create_index("ix_redemptions_volunteer", "redemptions", ["volunteer_id", "created_at"])
    op.create_index("ix_redemptions_partner", "redemptions", ["partner_id", "status"])


def downgrade() -> None:
    op.drop_table("redemptions")
    op.drop_table("catalogue_items")
    op.execute("DROP TRIGGER points_entries_append_only ON points_entries")
    op.execute("DROP FUNCTION points_entries_append_only()")
    op.drop_table("points_entries")
    op.drop_table("volunteer_offers")
    op.drop_table("volunteers")
    op.drop_constraint("ck_events_action", "events", type_="check")
    op.create_check_constraint("ck_events_action", "events", f"action IN ({_ACTIONS})")
