"""The SLA tracker's schema: the surge a case is under (dispatch.cases.case_rules).

A case opened under a surge, or raised by one, names it in `incidents.surge_id`, so a clock it
starts later (the verify clock at resolve, the owner clocks of a reassignment) gets the surge's
scaled limits while the surge holds, as the clocks that ran when it opened did.

Revision ID: 0021_sla_speed
Revises: 0022_districts
Create Date: 2026-12-01 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_sla_speed"
down_revision = "0022_districts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("surge_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("incidents", "surge_id")
