"""A geometry written and read back through GeoAlchemy2 on the real PostGIS."""

from __future__ import annotations

import pytest
from geoalchemy2 import Geometry, WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point, Polygon
from sqlalchemy import String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

pytestmark = pytest.mark.db


class _Base(DeclarativeBase):
    pass


class Area(_Base):
    __tablename__ = "roundtrip_area"
    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=True))


def test_polygon_roundtrip_and_spatial_query(db_session: Session) -> None:
    _Base.metadata.create_all(db_session.connection())
    west = Polygon([(106.40, 29.50), (106.45, 29.50), (106.45, 29.55), (106.40, 29.55)])
    east = Polygon([(106.45, 29.50), (106.50, 29.50), (106.50, 29.55), (106.45, 29.55)])
    db_session.add_all(
        [
            Area(code="500106001001001", geom=from_shape(west, srid=4326)),
            Area(code="500106001001002", geom=from_shape(east, srid=4326)),
        ]
    )
    db_session.flush()

    stored = db_session.get(Area, "500106001001001")
    assert stored is not None
    assert to_shape(stored.geom).equals(west)
    assert db_session.scalar(select(func.ST_SRID(Area.geom)).where(Area.code == stored.code)) == 4326

    def covering(lon: float, lat: float) -> list[str]:
        point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
        return list(
            db_session.scalars(select(Area.code).where(func.ST_Covers(Area.geom, point)).order_by(Area.code))
        )

    assert covering(106.42, 29.52) == ["500106001001001"]
    assert covering(106.47, 29.52) == ["500106001001002"]
    assert covering(106.45, 29.52) == ["500106001001001", "500106001001002"]  # shared edge
    assert covering(106.60, 29.52) == []
    area_km2 = db_session.scalar(
        select(func.ST_Area(func.Geography(Area.geom)) / 1e6).where(Area.code == "500106001001001")
    )
    assert area_km2 == pytest.approx(4.84 * 5.56, rel=0.02)  # 0.05 deg x 0.05 deg at 29.5 N

    point = to_shape(
        db_session.scalar(select(func.ST_Centroid(Area.geom)).where(Area.code == "500106001001002"))
    )
    assert isinstance(point, Point) and point.x == pytest.approx(106.475)
