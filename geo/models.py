"""The geo tables (PostGIS, SRID 4326) and their declarative base.

Layers are versioned: every import (or `yiwang geo load`) writes one complete layer
version (district, streets, communities, grids) with the date it takes effect; the
previous version's `effective_to` is set to that date and its rows stay, so history is
kept and a report is placed with the version in force at its own time.

SRID 4326 (WGS84): every map feed is converted to WGS84 at intake (geo.coords), GPS
devices report it, and CGCS2000 (4490) differs from it by millimetres; one SRID for
everything means no ST_Transform anywhere. Vertices are on the 2^-20 degree lattice
(geo.lattice) so that PostGIS and the in-memory index agree exactly on boundaries.

Buildings and the workforce directory (`workers`) are not versioned; a worker's phone
number is stored for dispatch but never logged (Worker's repr leaves it out).
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326


class GeoBase(DeclarativeBase):
    pass


def _area_geom() -> Mapped[WKBElement]:
    return mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)


class LayerVersion(GeoBase):
    __tablename__ = "geo_layer_version"
    __table_args__ = (UniqueConstraint("district_code", "effective_from", name="uq_geo_layer_version_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    district_code: Mapped[str] = mapped_column(String(6), nullable=False)
    effective_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    effective_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


def _version_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("geo_layer_version.id", ondelete="CASCADE"), primary_key=True)


class District(GeoBase):
    __tablename__ = "geo_district"
    __table_args__ = (Index("ix_geo_district_geom", "geom", postgresql_using="gist"),)

    version_id: Mapped[int] = _version_fk()
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    geom: Mapped[WKBElement] = _area_geom()


class Street(GeoBase):
    __tablename__ = "geo_street"
    __table_args__ = (Index("ix_geo_street_geom", "geom", postgresql_using="gist"),)

    version_id: Mapped[int] = _version_fk()
    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    district_code: Mapped[str] = mapped_column(String(6), nullable=False)
    low_lying: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    geom: Mapped[WKBElement] = _area_geom()


class Community(GeoBase):
    __tablename__ = "geo_community"
    __table_args__ = (Index("ix_geo_community_geom", "geom", postgresql_using="gist"),)

    version_id: Mapped[int] = _version_fk()
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    street_code: Mapped[str] = mapped_column(String(9), nullable=False)
    geom: Mapped[WKBElement] = _area_geom()


class GridArea(GeoBase):
    __tablename__ = "geo_grid"
    __table_args__ = (Index("ix_geo_grid_geom", "geom", postgresql_using="gist"),)

    version_id: Mapped[int] = _version_fk()
    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    community_code: Mapped[str] = mapped_column(String(12), nullable=False)
    street_code: Mapped[str] = mapped_column(String(9), nullable=False)
    geom: Mapped[WKBElement] = _area_geom()


class BuildingRow(GeoBase):
    __tablename__ = "geo_building"
    __table_args__ = (
        Index("ix_geo_building_geom", "geom", postgresql_using="gist"),
        Index("ix_geo_building_address_norm", "address_norm"),
    )

    building_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    address: Mapped[str] = mapped_column(Text, nullable=False)
    address_norm: Mapped[str] = mapped_column(Text, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    grid_code: Mapped[str] = mapped_column(String(15), nullable=False)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=False), nullable=False
    )


class WorkerRow(GeoBase):
    """The workforce directory that dispatch routing reads."""

    __tablename__ = "workers"
    __table_args__ = (
        Index("ix_workers_grid_code", "grid_code"),
        Index("ix_workers_community_code", "community_code"),
        Index("ix_workers_street_code", "street_code"),
        Index("ix_workers_home", "home", postgresql_using="gist"),
        Index("ix_workers_district_code", "district_code"),
    )

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    force: Mapped[str] = mapped_column(String(32), nullable=False)
    is_role: Mapped[bool] = mapped_column(Boolean, nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    district_code: Mapped[str] = mapped_column(String(6), nullable=False)
    """The district the person works for (`city`: the city desk): routing never crosses it."""
    street_code: Mapped[str | None] = mapped_column(String(9), nullable=True)
    community_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), nullable=True)
    roster: Mapped[str] = mapped_column(String(32), nullable=False)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    home_lon: Mapped[float] = mapped_column(Float, nullable=False)
    home_lat: Mapped[float] = mapped_column(Float, nullable=False)
    home: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=False), nullable=False
    )
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    """False: left the workforce (a roster import without them); kept for the history of cases."""

    def __repr__(self) -> str:  # never the phone
        return f"WorkerRow({self.worker_id!r}, force={self.force!r}, grid={self.grid_code!r})"
