"""Whose district a dead letter is (pure): what its record names, read without its adapter.

A district operator sees and decides only the letters of their district; the city operator
(城市运行管理中心) every letter. A letter is a district's when its raw record names a place
there that can be read for certain:

- stage `intake`: a canonical report (schemas/report.py) whose `location` has a point;
- stage `adapter`: an agency's JSON record whose point fields (its adapter's own names, read by
  the desk's port `point_of_record`: producers/adapters/points.py) hold a readable point;
- for both, the district whose outline in force holds the point (converted to WGS84 from its
  CRS; the SQL edge, `flows.letter_districts`, asks PostGIS);
- stage `notices`: a `dispatch.events` record: the event's `district_code`, else the district
  its grid or street code begins with.

Every other letter is the city's only: one whose point is missing or unreadable (often the very
field that was refused), an address without a point (the gazetteer is the intake's), an XML or
text export, an Open311 POST, a CAP record, a 12345 reply. Guessing would show a record that may
hold a reporter's personal data to a district that is not its own; the city operator sees them
all, and the fix that clears most letters (a source's mapping in config/sources.toml) is the
city's anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from dispatch.deadletters.ports import PointOfRecord
from dispatch.scope import DIGITS, Level, Scope
from geo.coords import CoordinateError, to_wgs84
from schemas.dead_letter import DeadLetter, Stage, raw_bytes
from schemas.report import Source

DISTRICT_DIGITS = DIGITS[Level.DISTRICT]


@dataclass(frozen=True, slots=True)
class NamedPlace:
    """What a letter's record names: a district code, or a WGS84 point to place in PostGIS."""

    district: str | None = None
    point: tuple[float, float] | None = None


def named_place(letter: DeadLetter, point_of_record: PointOfRecord | None = None) -> NamedPlace | None:
    """The place a letter's record names, or None (the letter is the city's only).

    >>> from schemas.dead_letter import dead_letter
    >>> report = b'{"location": {"lon": 106.45, "lat": 29.55, "crs": "wgs84"}}'
    >>> named_place(dead_letter("police", "intake", report, "category", "category: unknown"))
    NamedPlace(district=None, point=(106.45, 29.55))
    >>> event = b'{"event": {"district_code": null, "grid_code": "500107001001001"}}'
    >>> named_place(dead_letter("system", "notices", event, "$", "$: unreadable")).district
    '500107'
    >>> named_place(dead_letter("police", "adapter", b"jd=106.45", "jd", "jd: bad")) is None
    True
    """
    if letter.stage is Stage.ADAPTER:
        return _agency_place(letter, point_of_record)
    if letter.stage not in (Stage.INTAKE, Stage.NOTICES):
        return None
    try:
        doc = orjson.loads(raw_bytes(letter))
    except (orjson.JSONDecodeError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    if letter.stage is Stage.NOTICES:
        return _event_place(doc.get("event"))
    return _report_place(doc.get("location"))


def _event_place(event: object) -> NamedPlace | None:
    if not isinstance(event, dict):
        return None
    for key in ("district_code", "grid_code", "street_code"):
        code = event.get(key)
        if isinstance(code, str) and len(code) >= DISTRICT_DIGITS and code[:DISTRICT_DIGITS].isdigit():
            return NamedPlace(district=code[:DISTRICT_DIGITS])
    return None


def _agency_place(letter: DeadLetter, point_of_record: PointOfRecord | None) -> NamedPlace | None:
    try:
        source = Source(letter.source)
    except ValueError:
        return None
    found = point_of_record(source, raw_bytes(letter)) if point_of_record is not None else None
    if found is None:
        return None
    lon, lat, crs = found
    return _report_place({"lon": lon, "lat": lat, "crs": crs})


def _report_place(location: object) -> NamedPlace | None:
    if not isinstance(location, dict):
        return None
    lon, lat, crs = location.get("lon"), location.get("lat"), location.get("crs")
    if not isinstance(lon, int | float) or not isinstance(lat, int | float) or not isinstance(crs, str):
        return None
    try:
        return NamedPlace(point=to_wgs84(float(lon), float(lat), crs))
    except (CoordinateError, ValueError):
        return None


def visible(district: str | None, scope: Scope) -> bool:
    """Whether an operator of `scope` sees a letter of `district` (None: the city's only)."""
    return scope.whole_city or (district is not None and district == scope.district)
