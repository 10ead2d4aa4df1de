"""Which open points a redrawn grid layer moves: pure, over any (id, grid code, lon, lat) list.

When a new layer version takes effect, a case whose point now falls in another grid (its own
grid redrawn or gone) is re-homed to the grid that covers it now (dispatch/regrid/). The same
computation answers `yiwang geo import --dry-run`: how many open cases would move, per old →
new grid, before anything is loaded.

>>> from geo.index import index_from_reference
>>> from geo.reference import load_reference
>>> index = index_from_reference(load_reference())
>>> grid = index.grids[0]
>>> p = grid.geometry.representative_point()
>>> found = moves(index, [OpenPoint("a", grid.code, p.x, p.y), OpenPoint("b", "500106999999999", p.x, p.y)])
>>> [(m.point.incident_id, m.to.grid_code == grid.code) for m in found]
[('b', True)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geo.index import GridIndex
from geo.records import Placement


@dataclass(frozen=True, slots=True)
class OpenPoint:
    incident_id: str
    grid_code: str | None
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Move:
    point: OpenPoint
    to: Placement


def moves(index: GridIndex, points: Sequence[OpenPoint]) -> list[Move]:
    """The points whose grid in `index` is not the one they are in now."""
    if not points:
        return []
    lons = np.array([p.lon for p in points], dtype=np.float64)
    lats = np.array([p.lat for p in points], dtype=np.float64)
    out: list[Move] = []
    for point, placement in zip(points, index.placements(lons, lats), strict=True):
        if placement.grid_code != point.grid_code:
            out.append(Move(point, placement))
    return out


def per_grid(found: Sequence[Move]) -> list[tuple[str, str, int]]:
    """(old grid, new grid, how many), most first; "-" for none (the district desk)."""
    counts = Counter((m.point.grid_code or "-", m.to.grid_code or "-") for m in found)
    return [(old, new, n) for (old, new), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def summary(found: Sequence[Move], *, limit: int = 50) -> list[str]:
    lines = [f"{len(found)} open case(s) move to another grid"]
    rows = per_grid(found)
    lines += [f"  {old} → {new}: {n}" for old, new, n in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"  … and {len(rows) - limit} more old → new pairs")
    return lines
