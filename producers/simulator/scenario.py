"""How much each feed reports, when, and about what: the simulator's assumptions as data.

Shares and hourly rhythms are rough shapes of a district's day (12345 and city management
follow office hours, patrols the day shift, 110 peaks in the evening and keeps going at
night); the category each feed reports is drawn from that feed's own code table in
config/sources.toml, weighted here where some codes are far more common than others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.report import Source

SHARE: dict[Source, float] = {
    Source.HOTLINE: 0.34,
    Source.PATROL: 0.26,
    Source.CITYMGMT: 0.16,
    Source.POLICE: 0.15,
    Source.CYBERSPACE: 0.04,
    Source.FIRE: 0.035,
    Source.EMERGENCY: 0.015,
    Source.RESIDENT: 0.04,  # the resident page /r, as the resident API submits it
}


def _bell(hour: float, peak: float, width: float) -> float:
    d = min(abs(hour - peak), 24 - abs(hour - peak))
    return math.exp(-((d / width) ** 2))


def rhythm(source: Source, hour: float) -> float:
    """Relative activity of a feed at a local hour of day (0..24), between ~0.05 and ~1."""
    if source is Source.RESIDENT:  # mornings and evenings, around work
        return 0.1 + 0.9 * max(_bell(hour, 9, 2), _bell(hour, 20, 2.5))
    if source in (Source.PATROL, Source.CITYMGMT):
        return 0.05 + (0.95 if 8.5 <= hour < 17.5 else 0.0) * (0.7 + 0.3 * _bell(hour, 10, 2))
    if source is Source.HOTLINE:
        return 0.1 + 0.9 * max(_bell(hour, 10, 2.5), _bell(hour, 15, 2.5), 0.6 * _bell(hour, 20, 2))
    if source is Source.POLICE:
        return 0.35 + 0.65 * max(_bell(hour, 21, 3), 0.6 * _bell(hour, 12, 3))
    if source is Source.CYBERSPACE:
        return 0.2 + 0.8 * _bell(hour, 14, 4)
    return 0.5 + 0.5 * _bell(hour, 17, 5)  # fire, emergency: around the clock


WEIGHTS: dict[str, float] = {
    # categories far more common than the rest of their feed's table
    "exposed_garbage": 6, "garbage_overflow": 3, "illegal_parking": 4, "street_vending": 3,
    "shared_bikes_disorder": 3, "streetlight_out": 3, "noise_nuisance": 3, "neighbour_dispute": 3,
    "hotline_consultation": 4, "hotline_complaint": 4, "hotline_help": 2, "traffic_accident": 3,
    "theft": 3, "illegal_ads": 2, "road_dirt": 2, "property_dispute": 2,
    "violent_crime": 0.3, "landslide": 0.3, "gas_leak": 0.5, "waterlogging": 0.6,
}  # fmt: skip
"""Default weight is 1."""

MULTI_AGENCY: dict[str, tuple[Source, ...]] = {
    # an event of this category is often reported by several of these feeds
    "fire": (Source.FIRE, Source.POLICE, Source.HOTLINE),
    "gas_leak": (Source.FIRE, Source.POLICE, Source.HOTLINE),
    "traffic_accident": (Source.POLICE, Source.PATROL, Source.HOTLINE),
    "road_blocked": (Source.POLICE, Source.PATROL, Source.HOTLINE),
    "waterlogging": (Source.CITYMGMT, Source.PATROL, Source.HOTLINE),
    "manhole_cover_missing": (Source.CITYMGMT, Source.PATROL, Source.HOTLINE),
    "noise_nuisance": (Source.POLICE, Source.HOTLINE, Source.CITYMGMT),
    "fallen_tree": (Source.CITYMGMT, Source.PATROL),
    "exposed_garbage": (Source.CITYMGMT, Source.PATROL),
    "illegal_construction": (Source.HOTLINE, Source.PATROL, Source.CITYMGMT),
    "public_disturbance": (Source.POLICE, Source.CYBERSPACE),
    "wage_arrears": (Source.HOTLINE, Source.POLICE, Source.CYBERSPACE),
}
MULTI_AGENCY_SHARE = 0.3
"""Of events in a MULTI_AGENCY category, the share reported by more than one feed."""
MALFORMED_SHARE = 0.02


@dataclass(frozen=True, slots=True)
class Rainstorm:
    """A burst: for `length`, waterlogging (and friends) pour in from low-lying streets."""

    start: datetime
    length: timedelta
    boost: float = 2.5
    """Extra reports per normal report while it rains."""

    def covers(self, when: datetime) -> bool:
        return self.start <= when < self.start + self.length


RAIN_CATEGORIES: dict[str, float] = {
    "waterlogging": 8,
    "road_blocked": 2,
    "fallen_tree": 2,
    "manhole_cover_missing": 1,
    "landslide": 0.3,
}
RAIN_SOURCES: dict[Source, float] = {
    Source.CITYMGMT: 3,
    Source.PATROL: 3,
    Source.HOTLINE: 4,
    Source.POLICE: 1,
    Source.FIRE: 0.5,
    Source.EMERGENCY: 0.3,
}


def default_rainstorm(start: datetime, span: timedelta) -> Rainstorm:
    """Rain through the middle of the simulated window: from 55 % for 15 % of it."""
    return Rainstorm(start + span * 0.55, span * 0.15)
