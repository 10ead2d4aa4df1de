"""The merge window's probe index leads with the geometry.

The intake asks, once per report of a batch, for the open incidents of the report's problem in
a box around it and active around its time. The GiST over (problem, first_at, last_at, geom)
split its pages first on the problem, a column of a few dozen values, so each probe walked
many pages of the report's problem far from it; led by the geometry, the tree is split by
place first and a probe touches the few pages around the box. Measured on a bench database's
window of 8,104 incidents, 1,000 probes: 104 ms with the old order, 31 ms with this one.

Revision ID: 0024_intake_rows
Revises: 0023_district_scope
Create Date: 2026-12-01 22:15:00
"""

from alembic import op

revision = "0024_intake_rows"
down_revision = "0023_district_scope"
branch_labels = None
depends_on = None


def _probe(*columns: str) -> None:
    op.drop_index("ix_merge_window_probe", table_name="merge_window", postgresql_using="gist")
    op.create_index(
        "ix_merge_window_probe", "merge_window", list(columns), unique=False, postgresql_using="gist"
    )


def upgrade() -> None:
    _probe("geom", "problem", "first_at", "last_at")


def downgrade() -> None:
    _probe("problem", "first_at", "last_at", "geom")
