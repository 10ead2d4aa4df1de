"""Value types of the lookup: what an index is built from and what it answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True, slots=True)
class GridRecord:
    """One grid of a layer version, with the names of its community and street."""

    code: str
    name: str
    community_code: str
    community_name: str
    street_code: str
    street_name: str
    geometry: BaseGeometry


@dataclass(frozen=True, slots=True)
class StreetRecord:
    code: str
    name: str
    geometry: BaseGeometry


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a point belongs. `fallback_reason` is None when a grid covers the point."""

    grid_code: str | None
    grid_name: str | None
    community_code: str | None
    community_name: str | None
    street_code: str | None
    street_name: str | None
    district_code: str
    layer_version: int
    fallback_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
