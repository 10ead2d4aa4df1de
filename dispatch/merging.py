"""Duplicate merging: is this report another sighting of an incident we already have?

The rule lives here, as a pure function over plain values, so that the stream intake
(which feeds it candidates from the database under a per-street lock) and the tests call
the same code. Nearest match wins (distances within a metre tie); ties go to the older
incident, so the outcome does not depend on the order candidates arrive in.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from config.policy import Duration

MERGING_FILE = Path(__file__).resolve().parent.parent / "config" / "merging.toml"
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class MergePolicy:
    radius_m: float
    window: timedelta
    never_merge: frozenset[str]

    @classmethod
    def load(cls, path: Path = MERGING_FILE) -> MergePolicy:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
        window = Duration.parse(doc["window"])
        minutes = {"min": 1, "h": 60, "d": 1440}[window.unit] * window.value
        radius = float(doc["radius_m"])
        if radius <= 0:
            raise ValueError(f"{path}: radius_m must be > 0")
        return cls(radius, timedelta(minutes=minutes), frozenset(doc.get("never_merge", [])))

    @property
    def search_degrees(self) -> float:
        """A bounding half-width in degrees that surely contains radius_m (for index queries)."""
        return self.radius_m / 111_000 / math.cos(math.radians(60))


@dataclass(frozen=True, slots=True)
class Sighting:
    """What the rule needs to know about a located report."""

    family: str
    lon: float
    lat: float
    at: datetime


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """What the rule needs to know about an incident that may absorb the report."""

    incident_id: str
    family: str
    lon: float
    lat: float
    first_at: datetime
    last_at: datetime


LOCK_CELL_DEG = 0.006
"""Lock cell size: larger than the merge diameter (500 m) in both directions at these latitudes."""


def lock_keys(family: str, lon: float, lat: float, policy: MergePolicy) -> list[int]:
    """Advisory-lock keys that serialise every pair of reports that could merge.

    A report locks each (family, cell) its merge disc touches, its own cell included. Two
    reports within the radius share a cell (the other's cell lies in each one's disc), and a
    report and any incident it could join share the incident's cell; reports farther apart
    rarely share one, so workers contend only where duplicates are actually possible.

    >>> policy = MergePolicy(250, timedelta(minutes=30), frozenset())
    >>> len(lock_keys("road_traffic", 106.4531, 29.5512, policy))
    4
    """
    dlat = policy.radius_m / 111_000
    dlon = policy.radius_m / (111_320 * math.cos(math.radians(lat)))
    x0, x1 = math.floor((lon - dlon) / LOCK_CELL_DEG), math.floor((lon + dlon) / LOCK_CELL_DEG)
    y0, y1 = math.floor((lat - dlat) / LOCK_CELL_DEG), math.floor((lat + dlat) / LOCK_CELL_DEG)
    return [_key(family, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _key(family: str, x: int, y: int) -> int:
    digest = hashlib.blake2b(f"{family}:{x}:{y}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine); exact enough at 250 m scales.

    >>> round(distance_m(106.45, 29.55, 106.45, 29.551))
    111
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def find_match(
    sighting: Sighting, candidates: Iterable[OpenIncident], policy: MergePolicy
) -> OpenIncident | None:
    """The incident this sighting duplicates, or None for a new incident."""
    if sighting.family in policy.never_merge:
        return None
    best: tuple[int, datetime, str] | None = None
    match: OpenIncident | None = None
    for incident in candidates:
        if incident.family != sighting.family:
            continue
        if sighting.at < incident.first_at - policy.window or sighting.at > incident.last_at + policy.window:
            continue
        d = distance_m(sighting.lon, sighting.lat, incident.lon, incident.lat)
        if d > policy.radius_m:
            continue
        key = (round(d), incident.first_at, incident.incident_id)  # within a metre is a tie
        if best is None or key < best:
            best, match = key, incident
    return match
