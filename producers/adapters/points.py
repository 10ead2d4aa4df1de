"""Where an agency's own record says it happened, read by its adapter's field names alone.

The dead-letter desk places a refused record in its district (dispatch/deadletters/places.py)
without running the adapter that refused it: the point is read from the native fields the
adapter maps to `location.lon`, `location.lat` and `location.crs` (its `NATIVES`), in a JSON
record that the desk has parsed once; the CRS is the record's own or the feed's configured one
(config/sources.toml). A record whose point is missing or unreadable, or a feed whose records
are not JSON objects (XML, CAP, free text: the desk does not ask), names no point.
"""

from __future__ import annotations

from collections.abc import Mapping

from producers.adapters import fields, fire, hotline, patrol, police, resident
from producers.errors import FieldError
from producers.sources import SourceConfig
from schemas.report import Source

NATIVE_POINTS: Mapping[Source, Mapping[str, str]] = {
    Source.POLICE: police.NATIVES,
    Source.PATROL: patrol.NATIVES,
    Source.HOTLINE: hotline.NATIVES,
    Source.FIRE: fire.NATIVES,
    Source.RESIDENT: resident.NATIVES,
}
"""The feeds whose records are JSON objects naming a point, with their adapters' field names."""


def record_point(
    sources: Mapping[Source, SourceConfig], source: Source, record: Mapping[str, object]
) -> tuple[float, float, str] | None:
    """(lon, lat, crs) as the parsed JSON record gives them, or None.

    >>> from producers.sources import load_sources
    >>> record = {"ajlb": "0698", "zbx": 106.45791, "zby": 29.55263, "zbxt": "CGCS2000"}
    >>> record_point(load_sources(), Source.POLICE, record)
    (106.45791, 29.55263, 'cgcs2000')
    >>> record_point(load_sources(), Source.POLICE, {"zbx": "east"}) is None
    True
    """
    natives, config = NATIVE_POINTS.get(source), sources.get(source)
    if natives is None or config is None or "location.lon" not in natives:
        return None
    lon, lat = record.get(natives["location.lon"]), record.get(natives["location.lat"])
    if not isinstance(lon, int | float | str) or not isinstance(lat, int | float | str):
        return None
    crs_native = natives.get("location.crs", "")
    try:
        declared = record.get(crs_native) if crs_native else None
        crs = fields.crs(declared, native=crs_native, default=config.crs)
        return float(lon), float(lat), crs.value
    except (FieldError, TypeError, ValueError):
        return None


def record_address(source: Source, record: Mapping[str, object]) -> str | None:
    """The address a parsed JSON record gives by its adapter's field for `location.address`, or
    None (the desk reads the district it names when the record has no readable point).

    >>> record_address(Source.HOTLINE, {"address": "重庆市九龙坡区梅岭街5号"})
    '重庆市九龙坡区梅岭街5号'
    >>> record_address(Source.HOTLINE, {"address": 5}) is None
    True
    """
    natives = NATIVE_POINTS.get(source)
    native = natives.get("location.address") if natives is not None else None
    address = record.get(native) if native is not None else None
    return address.strip() or None if isinstance(address, str) else None
