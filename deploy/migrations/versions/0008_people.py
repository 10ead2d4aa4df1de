"""People and dead letters without editing files: the active flag, PINs, shift exceptions,
dead-letter decisions.

Revision ID: 0008_people
Revises: 0006_urgency
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_people"
down_revision = "0006_urgency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workers", sa.Column("active", sa.Boolean(), server_default="true", nullable=False))
    op.create_table(
        "worker_pins",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("pin_hash", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("worker_id"),
    )
    op.create_table(
        "roster_exceptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("other_id", sa.String(length=64), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('swap', 'take', 'leave')", name="ck_roster_exceptions_kind"),
        sa.CheckConstraint("last_day >= first_day", name="ck_roster_exceptions_days"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_roster_exceptions_last_day", "roster_exceptions", ["last_day"], unique=False)
    op.create_table(
        "dlq_decisions",
        sa.Column("dlq_id", sa.UUID(), nullable=False),
        sa.Column("decision", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), server_default="", nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("decision IN ('replayed', 'discarded')", name="ck_dlq_decisions_decision"),
        sa.PrimaryKeyConstraint("dlq_id"),
    )


def downgrade() -> None:
    op.drop_table("dlq_decisions")
    op.drop_index("ix_roster_exceptions_last_day", table_name="roster_exceptions")
    op.drop_table("roster_exceptions")
    op.drop_table("worker_pins")
    op.drop_column("workers", "active")
