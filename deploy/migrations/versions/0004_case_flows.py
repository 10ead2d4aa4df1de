"""Case flows: the SLA alarm note on incidents, idempotency keys of API commands.

Revision ID: 0004_case_flows
Revises: 0003_dispatch
Create Date: 2026-11-26 18:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_case_flows"
down_revision = "0003_dispatch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("sla_note", sa.Text(), nullable=True))
    op.create_table(
        "api_requests",
        sa.Column("actor", sa.String(length=96), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("actor", "key"),
    )
    op.create_index("ix_api_requests_created", "api_requests", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_api_requests_created", table_name="api_requests")
    op.drop_table("api_requests")
    op.drop_column("incidents", "sla_note")
