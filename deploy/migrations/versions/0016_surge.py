"""Surge mode: the warnings put in force over grids (dispatch.surge.models).

Revision ID: 0016_surge
Revises: 0010_notices
Create Date: 2026-12-01 13:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016_surge"
down_revision = "0018_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surges",
        sa.Column("surge_id", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("warning", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("area", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("grids", postgresql.ARRAY(sa.String(length=15)), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_by", sa.String(length=64), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=12), nullable=True),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint("origin IN ('cap', 'operator')", name="ck_surges_origin"),
        sa.CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('cancelled', 'updated', 'operator')", name="ck_surges_end_reason"
        ),
        sa.CheckConstraint("ends_at > starts_at", name="ck_surges_period"),
        sa.PrimaryKeyConstraint("surge_id"),
    )
    op.create_index("ix_surges_reference", "surges", ["reference"])
    op.create_index("ix_surges_ends_at", "surges", ["ends_at"])


def downgrade() -> None:
    op.drop_table("surges")
