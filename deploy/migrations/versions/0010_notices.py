"""Notices to the ladder's desks, their events, and their deliveries on the channels; the
positions grid workers share.

Revision ID: 0010_notices
Revises: 0012_residents
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_notices"
down_revision = "0012_residents"  # chained after main's head
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.String(length=160), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("desk", sa.String(length=64), nullable=False),
        sa.Column("rung", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("receive_by", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=True),
        sa.Column("received_by", sa.String(length=64), nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answer_due", TZ, nullable=True),
        sa.Column("climbed_to", sa.String(length=160), nullable=True),
        sa.Column("data", JSON, server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('urge', 'escalate', 'supervise', 'manual', 'reassign', 'whistle')",
            name="ck_notices_kind",
        ),
        sa.CheckConstraint("state IN ('sent', 'received', 'answered', 'climbed')", name="ck_notices_state"),
        sa.PrimaryKeyConstraint("notice_id"),
    )
    op.create_index("ix_notices_desk_state", "notices", ["desk", "state", "receive_by"])
    op.create_index("ix_notices_incident", "notices", ["incident_id"])
    op.create_index(
        "ix_notices_unreceived", "notices", ["receive_by"], postgresql_where=sa.text("state = 'sent'")
    )
    op.create_table(
        "notice_events",
        sa.Column("notice_id", sa.String(length=160), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("data", JSON, server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.CheckConstraint("action IN ('receive', 'answer', 'climb')", name="ck_notice_events_action"),
        sa.PrimaryKeyConstraint("notice_id", "sequence"),
    )
    op.create_index("ix_notice_events_incident", "notice_events", ["incident_id", "at"])
    op.create_table(
        "notice_deliveries",
        sa.Column("notice_id", sa.String(length=160), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed')", name="ck_notice_deliveries_state"
        ),
        sa.PrimaryKeyConstraint("notice_id", "channel", "recipient"),
    )
    op.create_index(
        "ix_notice_deliveries_due",
        "notice_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("state IN ('pending', 'sending')"),
    )

    op.create_table(
        "worker_positions",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("worker_id"),
    )
    op.create_index("ix_worker_positions_at", "worker_positions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_worker_positions_at", table_name="worker_positions")
    op.drop_table("worker_positions")
    op.drop_index("ix_notice_deliveries_due", table_name="notice_deliveries")
    op.drop_table("notice_deliveries")
    op.drop_index("ix_notice_events_incident", table_name="notice_events")
    op.drop_table("notice_events")
    op.drop_index("ix_notices_unreceived", table_name="notices")
    op.drop_index("ix_notices_incident", table_name="notices")
    op.drop_index("ix_notices_desk_state", table_name="notices")
    op.drop_table("notices")
