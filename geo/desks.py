"""Places without a point: the desk of a street or community named by code or by name, and
whether an alert's area touches the district at all.

A report with no coordinates and no known building still often says where: a CAP `<geocode>`
with an administrative code (6 digits: the district; 9: a street/town; 12: a community, the
grid code's own prefixes), or an address that names a street (街道/镇) or a community (社区/村)
but no building. Such a report goes to that street's or community's desk, not the district's.

>>> from geo.index import index_from_reference
>>> from geo.reference import load_reference
>>> desks = Desks(index_from_reference(load_reference()))
>>> place = desks.by_name("歌乐山街道 高店子社区 后山边坡")
>>> (place.street_name, place.community_name, place.grid_code)
('歌乐山街道', '高店子社区', None)
>>> desks.by_code("500106").street_code is None  # the district itself: its centre's desk
True
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import shapely
from shapely import affinity
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo.index import GridIndex
from geo.records import Placement

EARTH_M_PER_DEG = 111_320.0


def _plain(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


class Desks:
    """The streets and communities of one layer version, by code and by name."""

    def __init__(self, index: GridIndex) -> None:
        self.index = index
        streets: dict[str, str] = {}
        communities: dict[str, tuple[str, str, str]] = {}  # code -> (name, street code, street name)
        for g in index.grids:
            streets.setdefault(g.street_code, g.street_name)
            communities.setdefault(g.community_code, (g.community_name, g.street_code, g.street_name))
        self.streets = streets
        self.communities = communities
        self._street_names = sorted(((_plain(n), c) for c, n in streets.items()), key=lambda x: -len(x[0]))
        self._community_names = sorted(
            ((_plain(n), c) for c, (n, _, _) in communities.items()), key=lambda x: -len(x[0])
        )

    def _owner(self, code: str) -> GridIndex:
        """The district index an area of this index belongs to (itself, but for a city index)."""
        return self.index.district_of(code) or self.index

    def _street(self, code: str, reason: str) -> Placement:
        i = self._owner(code)
        return Placement(
            None, None, None, None, code, self.streets[code], i.district_code, i.layer_version, reason
        )

    def _community(self, code: str, reason: str) -> Placement:
        name, street, street_name = self.communities[code]
        i = self._owner(code)
        return Placement(
            None, None, code, name, street, street_name, i.district_code, i.layer_version, reason
        )

    def by_code(self, code: str) -> Placement | None:
        """The desk an administrative code names, or None when it is not one of this district's."""
        code = code.strip()
        if not code.isdigit():
            return None
        if len(code) == 6 and (district := self.index.district_of(code)) is not None:
            return district.fallback_for(f"administrative code {code} names the district")
        if len(code) == 9 and code in self.streets:
            return self._street(code, f"administrative code {code}: the street's desk (no point given)")
        if len(code) == 12 and code in self.communities:
            return self._community(code, f"administrative code {code}: the community's desk (no point given)")
        return None

    def by_codes(self, codes: Iterable[str]) -> Placement | None:
        """The most specific desk among several codes (a community before a street before the district)."""
        found = [p for p in (self.by_code(c) for c in codes) if p is not None]
        return max(
            found, key=lambda p: (p.community_code is not None, p.street_code is not None), default=None
        )

    def by_name(self, address: str) -> Placement | None:
        """The community (else the street) an address names; a community name shared by several
        streets counts only with its street named too."""
        text = _plain(address)
        street = next((c for n, c in self._street_names if n and n in text), None)
        found = [(n, c) for n, c in self._community_names if n and n in text]
        named = [c for n, c in found if not any(n != m and n in m for m, _ in found)]  # 康宁村 in 康宁村社区
        if street is not None:
            named = [c for c in named if self.communities[c][1] == street] or []
        if len(named) == 1 or (named and street is not None):
            name = self.communities[named[0]][0]
            return self._community(named[0], f"the address names community {name} but no known building")
        if street is not None:
            return self._street(
                street, f"the address names street {self.streets[street]} but no known building"
            )
        return None


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def foreign_area(desks: Desks, area: Mapping[str, Any] | Any) -> bool:
    """A shape-less alert area that is not the district's: administrative codes none of which
    is the district's (or below it), or — with no codes of its own — a description that names
    no place of the district and has no Chinese text at all (the district's places are named in
    Chinese; "U.S. nationwide" is somewhere else)."""
    districts = desks.index.district_codes
    codes = [str(_get(g, "value")).strip() for g in (_get(area, "geocodes") or ())]
    administrative = [c for c in codes if c.isdigit() and len(c) in (6, 9, 12)]
    if administrative:
        return not any(desks.index.district_of(c) is not None for c in administrative)
    text = str(_get(area, "description") or "")
    return (
        bool(text.strip())
        and not _cjk(text)
        and desks.by_name(text) is None
        and not any(d in text for d in districts)
    )


def area_shape(area: Mapping[str, Any] | Any) -> BaseGeometry | None:
    """The union of an alert area's polygons (lon, lat rings) and circles (metres), or None."""
    polygons: Sequence[Sequence[Sequence[float]]] = _get(area, "polygons") or ()
    circles: Sequence[Any] = _get(area, "circles") or ()
    shapes: list[BaseGeometry] = [Polygon([(float(p[0]), float(p[1])) for p in ring]) for ring in polygons]
    for c in circles:
        lon, lat, radius = float(_get(c, "lon")), float(_get(c, "lat")), float(_get(c, "radius_m"))
        k = max(math.cos(math.radians(lat)), 1e-6)
        circle = Point(lon, lat).buffer(radius / EARTH_M_PER_DEG, quad_segs=8)
        shapes.append(affinity.scale(circle, xfact=1 / k, yfact=1.0, origin=(lon, lat)))
    shapes = [s if s.is_valid else s.buffer(0) for s in shapes]
    return shapely.union_all(shapes) if shapes else None


def wholly_outside(outline: BaseGeometry | None, area: Mapping[str, Any] | Any) -> bool:
    """True when the area has a shape and none of it touches the district outline."""
    shape = area_shape(area) if area is not None else None
    return outline is not None and shape is not None and not shape.is_empty and not outline.intersects(shape)


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else getattr(value, key, None)
