"""Geo layers (versioned district/streets/communities/grids), buildings, the workforce directory.

Revision ID: 0002_geo
Revises: 0001_postgis
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0002_geo"
down_revision = "0001_postgis"
branch_labels = None
depends_on = None

SRID = 4326


def _area(name: str, code_len: int, *extra: sa.Column[Any]) -> None:
    op.create_table(
        name,
        sa.Column(
            "version_id",
            sa.Integer,
            sa.ForeignKey("geo_layer_version.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("code", sa.String(code_len), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        *extra,
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False),
    )
    op.create_index(f"ix_{name}_geom", name, ["geom"], postgresql_using="gist")


def upgrade() -> None:
    op.create_table(
        "geo_layer_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("district_code", "effective_from", name="uq_geo_layer_version_from"),
    )
    _area("geo_district", 6)
    _area(
        "geo_street",
        9,
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("low_lying", sa.Boolean, nullable=False, server_default="false"),
    )
    _area("geo_community", 12, sa.Column("street_code", sa.String(9), nullable=False))
    _area(
        "geo_grid",
        15,
        sa.Column("community_code", sa.String(12), nullable=False),
        sa.Column("street_code", sa.String(9), nullable=False),
    )
    op.create_table(
        "geo_building",
        sa.Column("building_id", sa.String(32), primary_key=True),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("address_norm", sa.Text, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("grid_code", sa.String(15), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=SRID, spatial_index=False), nullable=False),
    )
    op.create_index("ix_geo_building_geom", "geo_building", ["geom"], postgresql_using="gist")
    op.create_index("ix_geo_building_address_norm", "geo_building", ["address_norm"])
    op.create_table(
        "workers",
        sa.Column("worker_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("force", sa.String(32), nullable=False),
        sa.Column("is_role", sa.Boolean, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("street_code", sa.String(9), nullable=True),
        sa.Column("community_code", sa.String(12), nullable=True),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("roster", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("home_lon", sa.Float, nullable=False),
        sa.Column("home_lat", sa.Float, nullable=False),
        sa.Column("home", Geometry("POINT", srid=SRID, spatial_index=False), nullable=False),
    )
    op.create_index("ix_workers_grid_code", "workers", ["grid_code"])
    op.create_index("ix_workers_community_code", "workers", ["community_code"])
    op.create_index("ix_workers_street_code", "workers", ["street_code"])
    op.create_index("ix_workers_home", "workers", ["home"], postgresql_using="gist")


def downgrade() -> None:
    for table in (
        "workers",
        "geo_building",
        "geo_grid",
        "geo_community",
        "geo_street",
        "geo_district",
        "geo_layer_version",
    ):
        op.drop_table(table)
