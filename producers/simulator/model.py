"""The simulator's value types: places, events, native drafts and expected outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from schemas.report import Source


@dataclass(frozen=True, slots=True)
class Place:
    """A building of the reference district: WGS84 point, gazetteer address, its street."""

    building_id: str
    address: str
    lon: float
    lat: float
    grid_code: str
    street_code: str
    street_name: str
    low_lying: bool


@dataclass(frozen=True, slots=True)
class SimDistrict:
    code: str
    name: str
    places: tuple[Place, ...]
    low_lying: tuple[Place, ...]
    """Places in low-lying streets (where a rainstorm floods first)."""


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened once; several agencies may report it."""

    event_id: str
    category: str
    place: Place
    at: datetime


@dataclass(slots=True)
class Draft:
    """One agency's record of an event, before it is written in that agency's format.

    Coordinates are already in the feed's own CRS (`crs` is the name the feed writes).
    `time_text` overrides the rendered timestamp (used to malform it)."""

    source: Source
    ref: str | None
    at: datetime
    code: str
    level: str | None
    lon: float | str | None
    lat: float | str | None
    crs: str
    address: str | None
    description: str
    reporter: tuple[str, str] | None = None
    accuracy: float | None = None
    photos: list[str] = field(default_factory=list)
    radius_km: float | None = None
    polygon: list[tuple[float, float]] | None = None
    time_text: str | None = None


@dataclass(frozen=True, slots=True)
class Expected:
    """What the adapter must make of a payload: a report, or a rejection naming `field`."""

    ok: bool
    event_id: str
    source_ref: str | None
    field: str | None = None
    malformation: str | None = None
    address_only: bool = False
    crs: str | None = None
    """The canonical CRS the report will declare (None for address-only)."""
    burst: bool = False
    """Part of the rainstorm burst."""


class Simulated(NamedTuple):
    source: Source
    payload: bytes
    expected: Expected
