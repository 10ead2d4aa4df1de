"""Several districts in one index: a report is placed by the outline it falls in.

`CityIndex` is a `GridIndex` over the grids of every district (one raster, one vectorised
lookup), whose placements carry each grid's own district and layer version. A point no grid
covers goes to the district whose outline holds it (属地兜底, that district's centre), and a
point outside every outline — or a report with no usable place at all — to the city desk
(城市运行管理中心, `CITY_DESK`) with the reason.

>>> from geo.reference import load_reference
>>> from geo.index import index_from_reference
>>> city = CityIndex([index_from_reference(load_reference(n)) for n in ("shapingba", "jiulongpo")])
>>> [city.locate(106.456, 29.542).district_code, city.locate(106.511, 29.506).district_code]
['500106', '500107']
>>> city.locate(106.58, 29.56).fallback_reason
'outside every district (500106, 500107): to the city desk (城市运行管理中心)'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import shapely
from sqlalchemy import Connection, Engine

from config.districts import load_city_desk
from geo import service
from geo.index import GridIndex, GridIndexes, NoLayerInForce
from geo.records import Placement
from geo.reference.district import Level, Worker

CITY_DESK = "city"
"""The district code a city-desk placement carries (no district is responsible for it)."""


class CityIndex(GridIndex):
    def __init__(self, districts: Sequence[GridIndex]) -> None:
        if not districts:
            raise ValueError("a city index needs at least one district")
        codes = [d.district_code for d in districts]
        if len(set(codes)) != len(codes):
            raise ValueError(f"a district appears twice: {', '.join(codes)}")
        self.districts: dict[str, GridIndex] = {d.district_code: d for d in districts}
        self._owner = {g.code: d for d in districts for g in d.grids}
        outline = shapely.union_all([d.outline for d in districts if d.outline is not None])
        super().__init__(
            [g for d in districts for g in d.grids],
            district_code=CITY_DESK,
            layer_version=0,
            streets=[s for d in districts for s in d._streets],
            outline=outline,
        )
        self._placements = tuple(
            replace(p, district_code=owner.district_code, layer_version=owner.layer_version)
            for p in self._placements
            for owner in (self._owner[str(p.grid_code)],)
        )

    @property
    def district_codes(self) -> tuple[str, ...]:
        return tuple(sorted(self.districts))

    def district_of(self, code: str) -> GridIndex | None:
        return self.districts.get(code[:6])

    def fallback(self, lon: float, lat: float) -> Placement:
        """The district whose outline holds the point takes it; outside them all, the city desk."""
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return self.fallback_for("coordinates are not finite numbers")
        for d in self.districts.values():
            if d.outline is not None and shapely.intersects_xy(d.outline, lon, lat):
                return d.fallback(lon, lat)
        return self.fallback_for(f"outside every district ({', '.join(sorted(self.districts))})")

    def fallback_for(self, reason: str) -> Placement:
        why = f"{reason}: to the city desk (城市运行管理中心)"
        return Placement(None, None, None, None, None, None, CITY_DESK, 0, why)


class CityIndexes(GridIndexes):
    """Every district's layer versions; `at(when)` is the city index of those in force then.

    A drop-in for the intake's `Locator` (which asks `at(when)` for each report): built once per
    combination of versions in force, refreshed like `GridIndexes` (new versions only). With one
    district in force it is that district's own index: a deployment of one district keeps its
    属地兜底 (a point outside the outline goes to the district centre, there is no city desk).
    """

    def __init__(self) -> None:
        super().__init__(CITY_DESK)
        self._cities: dict[tuple[int, ...], CityIndex] = {}

    def at(self, when: datetime) -> GridIndex:
        key = tuple(v.id for v in service.in_force_by_district(self._versions, when))
        if not key:
            raise NoLayerInForce(f"no layer version in force at {when.isoformat()} in any district")
        if len(key) == 1:
            return self._indexes[key[0]]
        city = self._cities.get(key)
        if city is None:
            city = self._cities[key] = CityIndex([self._indexes[i] for i in key])
        return city

    def refresh(self, engine: Engine | Connection) -> bool:
        if isinstance(engine, Engine):
            with engine.connect() as conn:
                return self.refresh(conn)
        versions = tuple(service.list_versions(engine))
        if versions == self._versions:
            return False
        for v in versions:
            if v.id not in self._indexes:
                inputs = service.read_index_inputs(engine, v.id)
                self._indexes[v.id] = GridIndex(
                    inputs.grids,
                    district_code=v.district_code,
                    layer_version=v.id,
                    streets=inputs.streets,
                    outline=inputs.outline,
                )
        self._versions = versions
        self._cities = {}
        districts = {v.district_code for v in versions}
        self.district_code = (
            districts.pop() if len(districts) == 1 else CITY_DESK
        )  # who takes the unplaceable
        return True

    def newest(self) -> list[int]:
        """The newest layer version of each district (the gazetteer's place names come from them)."""
        return sorted(v.id for v in service.in_force_by_district(self._versions, None))


def load_city(conn: Connection) -> CityIndexes:
    """Every district's layer versions from the database."""
    indexes = CityIndexes()
    indexes.refresh(conn)
    return indexes


def add_city_desk(conn: Connection) -> str | None:
    """The city desk's duty desk in the workforce directory once two or more districts are
    loaded (config/districts.toml; a person already there keeps what an import gave them).
    Returns what happened, or None with fewer than two districts."""
    districts = sorted({v.district_code for v in service.list_versions(conn)} - {CITY_DESK})
    if len(districts) < 2:
        return None
    desk = load_city_desk()
    worker = Worker(
        worker_id=desk.desk_id,
        name=desk.desk_name,
        force=desk.role,
        is_role=True,
        level=Level.DISTRICT,
        street_code=None,
        community_code=None,
        grid_code=None,
        roster=desk.roster,
        home_lon=desk.home[0],
        home_lat=desk.home[1],
        phone="100-0000-0000",
    )
    service.upsert_workers(conn, [worker], district_code=CITY_DESK, overwrite=False)
    return f"{desk.name} ({CITY_DESK}): duty desk {desk.desk_id} over {', '.join(districts)}"
