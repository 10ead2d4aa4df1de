"""Which grids a warning's area covers.

A warning area is what CAP's `<area>` carries: polygons ("lat,lon" rings, given here as
(lon, lat)), circles (centre and radius in metres) and geocodes (administrative division
codes: 6 digits a district, 9 a street or town, 12 a community, 15 a grid). A grid is covered
when its outline overlaps a polygon or circle (touching along an edge is not overlapping).
The drawn shapes are the precise statement: geocodes count only for an area that has no
polygon and no circle (the national platform sends the district's code beside the polygon).

>>> from shapely.geometry import box
>>> grids = [GridShape("500106001001001", box(0, 0, 1, 1)), GridShape("500106001001002", box(1, 0, 2, 1))]
>>> sorted(covered_grids(WarningArea(polygons=(((0.5, 0.5), (0.9, 0.5), (0.9, 0.9), (0.5, 0.5)),)), grids))
['500106001001001']
>>> sorted(covered_grids(WarningArea(geocodes=("500106001",)), grids))
['500106001001001', '500106001001002']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shapely import prepared
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

EARTH_M_PER_DEG = 111_320.0
CIRCLE_VERTICES = 72


class AreaError(ValueError):
    """A warning area that cannot be read; the message names the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


@dataclass(frozen=True, slots=True)
class WarningArea:
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[tuple[float, float, float], ...] = ()  # lon, lat, radius_m
    geocodes: tuple[str, ...] = ()

    def shapes(self) -> list[BaseGeometry]:
        """The polygons and circles as (lon, lat) shapes; errors name the offending entry."""
        out: list[BaseGeometry] = []
        for i, ring in enumerate(self.polygons):
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise AreaError(f"polygons[{i}]", "needs at least 4 points, the first equal to the last")
            _check_points(ring, f"polygons[{i}]")
            shape = Polygon(ring)
            if not shape.is_valid:
                shape = shape.buffer(0)  # a self-crossing ring: its covered area
            if shape.area <= 0:
                raise AreaError(f"polygons[{i}]", "encloses no area")
            out.append(shape)
        for i, (lon, lat, radius_m) in enumerate(self.circles):
            _check_points([(lon, lat)], f"circles[{i}]")
            if not 0 < radius_m <= 200_000:
                raise AreaError(f"circles[{i}].radius_m", "must be in (0, 200000] metres")
            out.append(circle(lon, lat, radius_m))
        for i, code in enumerate(self.geocodes):
            if not (code.isdigit() and len(code) in (6, 9, 12, 15)):
                raise AreaError(f"geocodes[{i}]", f"{code[:20]!r} is not a 6/9/12/15-digit division code")
        return out

    @property
    def empty(self) -> bool:
        return not (self.polygons or self.circles or self.geocodes)


def _check_points(points: Iterable[tuple[float, float]], where: str) -> None:
    for lon, lat in points:
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise AreaError(where, f"({lon}, {lat}) is not a WGS84 lon/lat")


def circle(lon: float, lat: float, radius_m: float) -> Polygon:
    """A circle on the ground as a (lon, lat) polygon (local scale: fine at city size)."""
    dy = radius_m / EARTH_M_PER_DEG
    dx = dy / max(math.cos(math.radians(lat)), 1e-6)
    step = 2 * math.pi / CIRCLE_VERTICES
    return Polygon(
        [(lon + dx * math.cos(k * step), lat + dy * math.sin(k * step)) for k in range(CIRCLE_VERTICES)]
    )


@dataclass(frozen=True, slots=True)
class GridShape:
    code: str
    shape: BaseGeometry = field(compare=False)


def covered_grids(area: WarningArea, grids: Sequence[GridShape]) -> frozenset[str]:
    """The codes of the grids `area` covers (see the module doc)."""
    shapes = area.shapes()
    if shapes:
        tests = [prepared.prep(s) for s in shapes]
        return frozenset(
            g.code
            for g in grids
            if any(
                t.intersects(g.shape) and not s.touches(g.shape) for t, s in zip(tests, shapes, strict=True)
            )
        )
    return frozenset(g.code for g in grids if any(g.code.startswith(c) for c in area.geocodes))
