"""Which partition of its report topic a report is written to: its district's range
(config/districts.toml `[report_partitions]`), so that a burst in one district queues in that
district's partitions and not in front of another district's reports (docs/architecture.md,
"Several districts").

The district is a hint found here, where the report is produced, without a second Kafka hop:
the report's point (converted from its declared CRS) inside a district outline; without a point,
a CAP geocode beginning with a district's code, or an address that names one district for
certain by the names it begins with — the district's own, or street and community names only
that district has (geo/gazetteer.py's `CityNames`, the rule the intake and the dead-letter desk
read addresses by; a bare road name is ambiguous in a city); else the city's range. The intake
still places every
report exactly, so a wrong or missing hint costs only fairness, never correctness. Inside its
range a report's partition is murmur2 of its key (the agency's reference), as the Java client
hashes, so every version of one agency record lands in one partition and stays in order.

>>> chooser = shipped_partitions()
>>> chooser.district_of(Location(lon=106.511, lat=29.506, crs="wgs84"))
'500107'
>>> chooser.district_of(Location(address="重庆市九龙坡区景苑巷2号3栋"))
'500107'
>>> chooser.district_of(Location(address="杨家坪街道办事处景苑巷2号"))  # a street only 九龙坡 has
'500107'
>>> outside, no_point = Location(lon=106.58, lat=29.56, crs="wgs84"), Location(address="景苑巷2号")
>>> chooser.district_of(outside), chooser.district_of(no_point)
('city', 'city')
>>> chooser.partition_of("500107", b"HL-1", 6) in (2, 3), chooser.partition_of("500107", b"HL-1", 3)
(True, None)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import shapely
from kafka.partitioner.default import murmur2
from shapely.geometry import shape

from config.report_partitions import CITY, ReportPartitions, load_report_partitions
from geo.coords import CoordinateError, to_wgs84
from geo.gazetteer import CityNames, DistrictNames
from geo.reference import reference_names
from geo.reference.store import DATA_DIR, read_features
from schemas.report import Location, Report


class DistrictPartitions:
    """The district hint of a report and the partition of its district's range."""

    def __init__(
        self,
        shares: ReportPartitions,
        outlines: Mapping[str, shapely.Geometry],
        names: CityNames | None = None,
    ) -> None:
        self.shares = shares
        self.outlines = dict(outlines)
        self.names = names
        """The districts' own, street and community names an address may begin with."""
        for outline in self.outlines.values():
            shapely.prepare(outline)  # point-in-polygon in microseconds

    def district_of(self, location: Location) -> str:
        """The district code whose outline holds the point (without a point: whose code a CAP
        geocode begins with, or which the address names for certain), else `city`."""
        if location.lon is not None and location.lat is not None and location.crs is not None:
            try:
                lon, lat = to_wgs84(location.lon, location.lat, location.crs)
            except CoordinateError:
                return CITY
            for code, outline in self.outlines.items():
                if shapely.intersects_xy(outline, lon, lat):
                    return code
            return CITY
        if location.area is not None:
            for geocode in location.area.geocodes:
                for code in self.shares.districts:
                    if geocode.value.startswith(code):
                        return code
        if location.address is not None and self.names is not None:
            return self.names.named(location.address).district or CITY
        return CITY

    def partition_of(self, district_code: str, key: bytes, partitions: int) -> int | None:
        """The partition of `key` in the district's range; None when the topic has fewer
        partitions than the ranges need (a topic made before them): then Kafka's default
        partitioning applies, without isolation."""
        if partitions < self.shares.needed:
            return None
        share = self.shares.range_of(district_code)
        hashed: int = murmur2(key) & 0x7FFFFFFF  # as Kafka's default partitioner masks it
        return share[hashed % len(share)]

    def partition_for(self, report: Report, partitions: int) -> int | None:
        district = self.district_of(report.location)
        return self.partition_of(district, report.source_ref.encode("utf-8"), partitions)


def reference_outlines(codes: tuple[str, ...]) -> tuple[dict[str, shapely.Geometry], CityNames]:
    """The outlines of the shipped reference districts (geo/reference/data/) among `codes`, and
    their own, streets' and communities' names."""
    outlines: dict[str, shapely.Geometry] = {}
    names: list[DistrictNames] = []
    for folder in reference_names():
        (district,) = read_features(DATA_DIR / folder / "district.geojson")
        code = str(district["properties"]["code"])
        if code in codes:
            outlines[code] = shape(district["geometry"])
            streets = read_features(DATA_DIR / folder / "streets.geojson")
            communities = read_features(DATA_DIR / folder / "communities.geojson.gz")
            names.append(
                DistrictNames(
                    code,
                    str(district["properties"]["name"]),
                    tuple(str(f["properties"]["name"]) for f in streets),
                    tuple(str(f["properties"]["name"]) for f in communities),
                )
            )
    return outlines, CityNames(names)


@cache
def shipped_partitions() -> DistrictPartitions:
    """The configured ranges over the shipped districts' outlines and names (read once per
    process)."""
    shares = load_report_partitions()
    return DistrictPartitions(shares, *reference_outlines(shares.districts))
