"""Where each report happened: WGS84 point, grid, community, street — in batches.

Coordinates are converted per declared CRS with the vectorised transforms, points are looked
up in the grid index of the layer in force when the report happened (a batch usually needs
one index, so one vectorised call), and address-only reports go through the gazetteer (over
several districts, one per district: an address naming a district is looked up in its own, a
bare one found only when exactly one district holds it, `geo.gazetteer.CityGazetteer`). A
report without a point or a known building goes to the desk of the community or street its
CAP `<geocode>` or its address names (`geo.desks`); one that cannot be placed is not lost: it
goes to the district center with the reason. An alert whose whole area lies outside the
district is placed `outside`: recorded, never dispatched (`dispatch.intake.rules`).

Over several districts (`geo.city.CityIndexes`) the index is the city's: a report lands in the
grid of the district whose outline holds it and carries that district's code; one outside every
outline, or with no usable place, goes to the city desk (`district_code = "city"`) with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np

from config.policy import Taxonomy
from dispatch.intake.rules import LocatedReport
from geo.coords import Crs, to_wgs84_many
from geo.desks import Desks, foreign_area, wholly_outside
from geo.gazetteer import CityGazetteer, Gazetteer
from geo.index import GridIndex, GridIndexes, NoLayerInForce
from geo.records import Placement
from schemas.report_struct import ReportStruct as Report


class Locator:
    def __init__(
        self, indexes: GridIndexes, gazetteer: Gazetteer | CityGazetteer, taxonomy: Taxonomy
    ) -> None:
        self.indexes = indexes
        self.gazetteer = gazetteer
        self.taxonomy = taxonomy
        self._desks: dict[int, Desks] = {}

    def desks_for(self, index: GridIndex) -> Desks:
        desks = self._desks.get(id(index))
        if desks is None or desks.index is not index:
            desks = self._desks[id(index)] = Desks(index)
        return desks

    def index_for(self, report: Report, now: datetime) -> GridIndex | None:
        for when in (report.reported_at, report.received_at, now):
            try:
                return self.indexes.at(when)
            except NoLayerInForce:
                continue
        return None

    def locate(self, reports: list[Report], now: datetime) -> list[LocatedReport]:
        n = len(reports)
        lons = np.full(n, np.nan)
        lats = np.full(n, np.nan)
        how = ["point"] * n
        notes: list[str | None] = [None] * n
        by_crs: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(reports):
            loc = r.location
            if loc.lon is not None and loc.lat is not None and loc.crs is not None:
                by_crs[loc.crs.value].append(i)
            elif loc.address:
                found = self.gazetteer.answer(loc.address)
                match = found.match
                if match is None:
                    how[i], notes[i] = "fallback", f"address {found.why}"
                else:
                    lons[i], lats[i], how[i] = match.lon, match.lat, "address"
            else:
                how[i], notes[i] = "fallback", "no coordinates and no address"
        for crs, idx in by_crs.items():
            xs = np.array([reports[i].location.lon for i in idx], dtype=np.float64)
            ys = np.array([reports[i].location.lat for i in idx], dtype=np.float64)
            wx, wy = to_wgs84_many(xs, ys, Crs(crs))
            lons[idx], lats[idx] = wx, wy
        by_index: dict[int, tuple[GridIndex, list[int]]] = {}
        out: list[LocatedReport | None] = [None] * n
        for i, r in enumerate(reports):
            index = self.index_for(r, now)
            if index is None:
                out[i] = self._place(r, None, how="fallback", note="no grid layer in force")
                continue
            off_grid = self._off_grid(r, index, how[i], notes[i], has_point=not np.isnan(lons[i]))
            if off_grid is not None:
                out[i] = off_grid
                continue
            by_index.setdefault(id(index), (index, []))[1].append(i)
        for index, idx in by_index.values():
            hits = index.locate_many(lons[idx], lats[idx])
            for i, hit in zip(idx, hits.tolist(), strict=True):
                lon, lat = float(lons[i]), float(lats[i])
                placement = index.placement(hit, lon, lat)
                kind = how[i] if hit >= 0 else "fallback"
                out[i] = self._place(
                    reports[i], placement, lon=lon, lat=lat, how=kind, note=placement.fallback_reason
                )
        return [o for o in out if o is not None]

    def _off_grid(
        self, r: Report, index: GridIndex, how: str, note: str | None, *, has_point: bool
    ) -> LocatedReport | None:
        """A report placed without the grid lookup: out of area, at a desk, or the fallback;
        None when its point is to be looked up."""
        area = r.location.area
        shapeless = area is not None and not area.polygons and not area.circles
        if area is not None and (
            wholly_outside(index.outline, area)
            or (shapeless and not has_point and foreign_area(self.desks_for(index), area))
        ):
            why = f"the alert area lies wholly outside {_districts(index)}: not dispatched"
            return self._place(r, index.fallback_for("outside"), how="outside", note=why)
        if has_point:
            return None
        desk = self._desk(r, index)
        if desk is not None:
            return self._place(r, desk, how="desk", note=desk.fallback_reason)
        placement = index.fallback_for(note or "unplaced")
        return self._place(r, placement, how=how, note=placement.fallback_reason)

    def _desk(self, r: Report, index: GridIndex) -> Placement | None:
        """The community's or street's desk a CAP geocode, else the address, names."""
        desks = self.desks_for(index)
        area = r.location.area
        if area is not None and area.geocodes:
            found = desks.by_codes(g.value for g in area.geocodes)
            if found is not None:
                return found
        return desks.by_name(r.location.address) if r.location.address else None

    def _place(
        self,
        r: Report,
        p: Placement | None,
        *,
        lon: float | None = None,
        lat: float | None = None,
        how: str,
        note: str | None,
    ) -> LocatedReport:
        category = self.taxonomy.category(r.category)
        return LocatedReport(
            report_id=str(r.report_id),
            source=r.source.value,
            category=category,
            priority=r.priority,
            received_at=r.received_at,
            reported_at=r.reported_at,
            lon=lon,
            lat=lat,
            district_code=p.district_code if p else (self.indexes.district_code or ""),
            street_code=p.street_code if p else None,
            street_name=p.street_name if p else None,
            community_code=p.community_code if p else None,
            grid_code=p.grid_code if p else None,
            placement_reason=note if p is None or p.grid_code is None else None,
            placement=how,
            layer_version=p.layer_version if p else None,
        )


def _districts(index: GridIndex) -> str:
    codes = index.district_codes
    return f"the district ({codes[0]})" if len(codes) == 1 else f"every district ({', '.join(codes)})"
