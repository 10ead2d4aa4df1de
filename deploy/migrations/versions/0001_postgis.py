"""PostGIS extension (the local cluster creates it as superuser; this covers DATABASE_URL).

Revision ID: 0001_postgis
Revises:
"""

from alembic import op

revision = "0001_postgis"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def downgrade() -> None:
    pass
