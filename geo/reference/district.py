"""The reference district as plain typed records (no database needed).

`geo.reference.load_reference()` returns a `ReferenceDistrict`; the simulator, the stream
tests and `yiwang geo load` all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias

from shapely.geometry import MultiPolygon, Polygon

Geometry: TypeAlias = Polygon | MultiPolygon


class Level(StrEnum):
    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"


@dataclass(frozen=True, slots=True)
class Area:
    """A street (parent: district), community (parent: street) or grid (parent: community)."""

    code: str
    name: str
    parent_code: str
    geometry: Geometry


@dataclass(frozen=True, slots=True)
class Street(Area):
    low_lying: bool


@dataclass(frozen=True, slots=True)
class Grid(Area):
    street_code: str


@dataclass(frozen=True, slots=True)
class Building:
    building_id: str
    address: str
    lon: float
    lat: float
    grid_code: str


@dataclass(frozen=True, slots=True)
class Worker:
    """One entry of the workforce directory: a force member or a ladder role holder.

    `phone` is personal data: it is left out of repr() so it never reaches a log line.
    """

    worker_id: str
    name: str
    force: str  # a force code, or a ladder role code when is_role
    is_role: bool
    level: Level
    street_code: str | None
    community_code: str | None
    grid_code: str | None
    roster: str
    home_lon: float
    home_lat: float
    phone: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ReferenceDistrict:
    code: str
    name: str
    city: str
    effective_from: datetime
    centre: tuple[float, float]
    outline: Geometry
    streets: tuple[Street, ...]
    communities: tuple[Area, ...]
    grids: tuple[Grid, ...]
    buildings: tuple[Building, ...]
    workers: tuple[Worker, ...]
    low_lying: frozenset[str]
    source: str

    def street(self, code: str) -> Street:
        return next(s for s in self.streets if s.code == code)

    def community(self, code: str) -> Area:
        return next(c for c in self.communities if c.code == code)

    def grid(self, code: str) -> Grid:
        return next(g for g in self.grids if g.code == code)
