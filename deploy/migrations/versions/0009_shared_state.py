"""Shared state: the Open311 request log and the photos in PostgreSQL (no state on one host).

Revision ID: 0009_shared_state
Revises: 0006_urgency
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_shared_state"
down_revision = "0008_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open311_requests",
        sa.Column("service_request_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("service_code", sa.String(length=48), nullable=False),
        sa.Column("service_name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("agency_responsible", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("long", sa.Float(), nullable=True),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("service_request_id"),
    )
    op.create_index("ix_open311_requests_time", "open311_requests", ["requested_at"], unique=False)
    op.create_table(
        "photos",
        sa.Column("photo_key", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=16), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("photo_key"),
    )


def downgrade() -> None:
    op.drop_table("photos")
    op.drop_index("ix_open311_requests_time", table_name="open311_requests")
    op.drop_table("open311_requests")
