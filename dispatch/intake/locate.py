"""Where each report happened: WGS84 point, grid, community, street — in batches.

Coordinates are converted per declared CRS with the vectorised transforms, points are looked
up in the grid index of the layer in force when the report happened (a batch usually needs
one index, so one vectorised call), and address-only reports go through the gazetteer. A
report that cannot be placed is not lost: it goes to the district center with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np

from config.policy import Taxonomy
from dispatch.intake.rules import LocatedReport
from geo.coords import Crs, to_wgs84_many
from geo.gazetteer import Gazetteer
from geo.index import GridIndex, GridIndexes, NoLayerInForce
from geo.records import Placement
from schemas.report_struct import ReportStruct as Report


class Locator:
    def __init__(self, indexes: GridIndexes, gazetteer: Gazetteer, taxonomy: Taxonomy) -> None:
        self.indexes = indexes
        self.gazetteer = gazetteer
        self.taxonomy = taxonomy

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
                match = self.gazetteer.lookup(loc.address)
                if match is None:
                    how[i], notes[i] = "fallback", "address not found in the gazetteer"
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
            if np.isnan(lons[i]):
                placement = index.fallback_for(notes[i] or "unplaced")
                out[i] = self._place(r, placement, how=how[i], note=placement.fallback_reason)
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
