"""The board: the log of reporters' phones revealed to operators for a call back.

Revision ID: 0014_board
Revises: 0016_surge
Create Date: 2026-12-01 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_board"
down_revision = "0016_surge"  # chained after main's head
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reporter_reveals",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("report_id", sa.UUID(), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("revealed_by", sa.String(length=96), nullable=False),
        sa.Column("revealed_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reporter_reveals_at", "reporter_reveals", ["revealed_at"])
    op.create_index("ix_reporter_reveals_incident", "reporter_reveals", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_reporter_reveals_incident", table_name="reporter_reveals")
    op.drop_index("ix_reporter_reveals_at", table_name="reporter_reveals")
    op.drop_table("reporter_reveals")
