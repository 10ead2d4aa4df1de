"""Every case event names its case's district, and so does every reveal of a reporter.

A case placed at its district's centre (no street, community or grid) is still its district's:
`events.district_code` (published on `dispatch.events` with the row, and read back by the outbox
relay) and `reporter_reveals.district_code` let a district operator's live feed and reveals list
admit it, where the area codes they were scoped by are empty. Rows already there take the
district of their case.

Revision ID: 0023_district_scope
Revises: 0021_sla_speed
Create Date: 2026-12-01 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_district_scope"
down_revision = "0021_sla_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("events", "reporter_reveals"):
        op.add_column(table, sa.Column("district_code", sa.String(length=6), nullable=True))
        op.execute(
            f"UPDATE {table} t SET district_code = i.district_code "  # noqa: S608 (constant names)
            "FROM incidents i WHERE i.incident_id = t.incident_id"
        )


def downgrade() -> None:
    for table in ("events", "reporter_reveals"):
        op.drop_column(table, "district_code")
