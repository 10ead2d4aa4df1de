"""Several districts in one deployment: each person of the workforce directory belongs to one
district (`workers.district_code`, the six-digit code; `city` for the city desk's people), so
routing and escalation of a case never reach another district's people.

Rows already there take the district their area codes begin with; a district-level person (no
area code) takes that of their id's prefix when it is a loaded district (the reference sets name
them `500106-district_center-1`), else the district of the newest layer version.

Revision ID: 0022_districts
Revises: 0013_alerts
Create Date: 2026-12-01 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_districts"
down_revision = "0013_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workers", sa.Column("district_code", sa.String(6), nullable=True))
    op.execute(
        """
        UPDATE workers w SET district_code = COALESCE(
            left(COALESCE(w.grid_code, w.community_code, w.street_code), 6),
            (SELECT v.district_code FROM geo_layer_version v
             WHERE v.district_code = left(w.worker_id, 6) LIMIT 1),
            (SELECT v.district_code FROM geo_layer_version v ORDER BY v.effective_from DESC, v.id DESC LIMIT 1),
            ''
        )
        """
    )
    op.alter_column("workers", "district_code", nullable=False)
    op.create_index("ix_workers_district_code", "workers", ["district_code"])


def downgrade() -> None:
    op.drop_index("ix_workers_district_code", "workers")
    op.drop_column("workers", "district_code")
