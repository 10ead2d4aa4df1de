"""Generate buildings (楼栋) with realistic addresses inside the generated communities.

- In a 社区 every grid gets a road: a straight segment through the grid. House numbers
  run along it, odd on one side and even on the other (the Chinese convention); a number
  is a single building ("汉渝路15号") or a compound of several ("汉渝路12号3栋"). A
  community named after a road ("龙泉路社区") has that road.
- In a village (村) every grid is a villagers' group (组) around a hamlet: "管家桥村3组15号".

Full addresses start with city and district ("重庆市沙坪坝区…"); rural ones also name the
town. Every building point lies inside its community and carries the grid that covers it.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from geo.reference import names
from geo.reference.district import Area, Building, Grid
from geo.reference.layout import allocate

_M_PER_DEG_LAT = 110_574.0
_ROAD_MARKERS = ("路", "街", "巷")


def _metres_to_deg(lat: float) -> tuple[float, float]:
    return 1.0 / (111_320.0 * math.cos(math.radians(lat))), 1.0 / _M_PER_DEG_LAT


def _own_road(community_name: str) -> str | None:
    stem = community_name.removesuffix("社区")
    return stem if stem.endswith(_ROAD_MARKERS) else None


def _road_line(area: BaseGeometry, rng: np.random.Generator) -> LineString:
    """A straight road through a random point of the area, clipped to the piece holding it."""
    through = area.representative_point() if rng.random() < 0.2 else None
    x0, y0, x1, y1 = area.bounds
    while through is None:
        cand = Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if area.contains(cand):
            through = cand
    angle = rng.uniform(0, math.pi)
    reach = max(x1 - x0, y1 - y0) * 2
    dx, dy = math.cos(angle) * reach, math.sin(angle) * reach
    line = LineString([(through.x - dx, through.y - dy), (through.x + dx, through.y + dy)])
    pieces = [p for p in shapely.get_parts(line.intersection(area)) if isinstance(p, LineString)]
    return min(pieces, key=lambda p: p.distance(through))


class _Placer:
    """Keeps building points inside one community and finds their grid."""

    def __init__(self, area: Area, grids: list[Grid]) -> None:
        self.area = area.geometry
        shapely.prepare(self.area)
        self.grids = sorted(grids, key=lambda g: g.code)
        for g in self.grids:
            shapely.prepare(g.geometry)

    def place(self, lon: float, lat: float) -> tuple[float, float, str] | None:
        """The point rounded to 1e-7 degrees (~1 cm) with its grid, or None outside."""
        lon, lat = round(lon, 7), round(lat, 7)
        if not shapely.contains_xy(self.area, lon, lat):
            return None
        grid = next((g.code for g in self.grids if shapely.intersects_xy(g.geometry, lon, lat)), None)
        return None if grid is None else (lon, lat, grid)


Row = tuple[str, float, float, str]  # local address, lon, lat, grid code


def _along_road(grid: Grid, road: str, n: int, placer: _Placer, rng: np.random.Generator) -> list[Row]:
    """n buildings on one road through the grid: odd numbers on one side, even on the other."""
    out: list[Row] = []
    line = _road_line(grid.geometry, rng)
    (ax, ay), (bx, by) = line.coords[0], line.coords[-1]
    kx, ky = _metres_to_deg((ay + by) / 2)
    length_m = math.hypot((bx - ax) / kx, (by - ay) / ky) or 1.0
    ux, uy = (bx - ax) / kx / length_m, (by - ay) / ky / length_m  # unit vector along, metres
    number, tries = 0, 0
    while len(out) < n and tries < n * 20:
        tries += 1
        number += 1
        base = line.interpolate(min(1.0, number / (n + 2)), normalized=True)
        side = 1.0 if number % 2 else -1.0
        compound = int(rng.integers(2, 9)) if rng.random() < 0.6 else 1
        for b in range(1, min(compound, n - len(out)) + 1):
            off, along = side * rng.uniform(10, 40), rng.uniform(-20, 20)
            lon = base.x + (-uy * off + ux * along) * kx
            lat = base.y + (ux * off + uy * along) * ky
            placed = placer.place(lon, lat)
            if placed is not None:
                out.append((f"{road}{number}号" + (f"{b}栋" if compound > 1 else ""), *placed))
    return out


def _hamlet(
    *, grid: Grid, group: int, village: str, n: int, placer: _Placer, rng: np.random.Generator
) -> list[Row]:
    """n houses of one villagers' group (组) scattered around a point of the grid."""
    out: list[Row] = []
    centre = _road_line(grid.geometry, rng).interpolate(0.5, normalized=True)
    kx, ky = _metres_to_deg(centre.y)
    tries = 0
    while len(out) < n and tries < n * 50:
        tries += 1
        placed = placer.place(centre.x + rng.normal(0, 120) * kx, centre.y + rng.normal(0, 120) * ky)
        if placed is not None:
            out.append((f"{village}{group}组{len(out) + 1}号", *placed))
    return out


def generate_buildings(
    *,
    prefix: str,
    street_names: dict[str, str],
    communities: tuple[Area, ...],
    grids: tuple[Grid, ...],
    total: int,
    village_weight: float,
    rng: np.random.Generator,
) -> tuple[Building, ...]:
    by_comm: dict[str, list[Grid]] = {}
    for g in grids:
        by_comm.setdefault(g.parent_code, []).append(g)
    weights = [len(by_comm[c.code]) * (village_weight if c.name.endswith("村") else 1.0) for c in communities]
    counts = allocate(total, weights, minimum=1)
    pool = names.road_pool(rng)
    used: set[str] = set()

    def road_name(preferred: str | None) -> str:
        name = preferred if preferred is not None and preferred not in used else None
        while name is None or name in used:
            name = pool.pop()
        used.add(name)
        return name

    out: list[Building] = []
    for community, n in zip(communities, counts, strict=True):
        members = sorted(by_comm[community.code], key=lambda g: g.code)
        placer = _Placer(community, members)
        per_grid = allocate(n, [1.0] * len(members), minimum=1 if n >= len(members) else 0)
        village = community.name.endswith("村")
        where = prefix + (street_names[community.parent_code] if village else "")  # rural: name the town
        rows: list[Row] = []
        for k, (grid, count) in enumerate(zip(members, per_grid, strict=True)):
            if count == 0:
                continue
            if village:
                rows += _hamlet(
                    grid=grid, group=k + 1, village=community.name, n=count, placer=placer, rng=rng
                )
            else:
                rows += _along_road(
                    grid, road_name(_own_road(community.name) if k == 0 else None), count, placer, rng
                )
        for seq, (address, lon, lat, grid_code) in enumerate(rows, start=1):
            out.append(Building(f"B{community.code}{seq:04d}", where + address, lon, lat, grid_code))
    return tuple(out)
