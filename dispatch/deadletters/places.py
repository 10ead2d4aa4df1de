"""Whose district a dead letter is (pure): what its record names, read without its adapter.

A district operator sees and decides only the letters of their district; the city operator
(城市运行管理中心) every letter. A letter is a district's when its raw record names a place
there that can be read for certain:

- stage `intake`: a canonical report (schemas/report.py) whose `location` has a point;
- stage `adapter`: an agency's JSON record whose point fields (its adapter's own names, read by
  the desk's port `point_of_record`: producers/adapters/points.py) hold a readable point;
- for both, the district whose outline in force holds the point (converted to WGS84 from its
  CRS; the SQL edge, `flows.letter_places`, asks PostGIS);
- for both, when no point can be read, the address the record gives (`location.address`, or the
  adapter's own address field by the port `address_of_record`), when it names one district for
  certain: the district's name, or street/community names only that district has
  (geo/gazetteer.py's `CityNames`, over the districts' layers in force);
- stage `notices`: a `dispatch.events` record: the event's `district_code`, else the district
  its grid or street code begins with.

Every other letter is the city's only, and `LetterPlace.why` says why: a point outside every
outline, an address that names no district or a name several districts have (a bare road name
is ambiguous in a city: 沙坪坝 and 九龙坡 both have a 梅岭街), a record whose point and address are
missing or unreadable (often the very field that was refused), an XML or text export, an Open311
POST, a CAP record, a 12345 reply. Guessing would show a record that may hold a reporter's
personal data to a district that is not its own; the city operator sees them all, and the fix
that clears most letters (a source's mapping in config/sources.toml) is the city's anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import orjson

from dispatch.deadletters.ports import AddressOfRecord, PointOfRecord
from dispatch.scope import DIGITS, Level, Scope
from geo.coords import CoordinateError, to_wgs84
from geo.gazetteer import CityNames, Named
from schemas.dead_letter import DeadLetter, Stage, raw_bytes
from schemas.report import Source

DISTRICT_DIGITS = DIGITS[Level.DISTRICT]


@dataclass(frozen=True, slots=True)
class NamedPlace:
    """What a letter's record names: a district code, a WGS84 point to place in PostGIS, or
    (no readable point) an address to read district names from."""

    district: str | None = None
    point: tuple[float, float] | None = None
    address: str | None = None


class PlacedBy(StrEnum):
    """How a letter's district was read, or why it has none: a stable word the pages word the
    placement by in their own language (`LetterPlace.why` is the English for the command line)."""

    EVENT = "event"  # its event names the district
    POINT = "point"  # its point lies in the district's outline in force
    OUTSIDE = "outside"  # its point lies outside every outline: the city's only
    ADDRESS = "address"  # its address names the district for certain (`LetterPlace.said`)
    ADDRESS_NOTHING = "address_nothing"  # its address names no district, street or community
    ADDRESS_SHARED = "address_shared"  # names several districts have
    ADDRESS_CONFLICTING = "address_conflicting"  # names of different districts
    NOTHING = "nothing"  # its record names nothing readable (`UNPLACED`, by the letter's stage)


_BY_NAMING = {
    Named.DISTRICT: PlacedBy.ADDRESS,
    Named.NOTHING: PlacedBy.ADDRESS_NOTHING,
    Named.SHARED: PlacedBy.ADDRESS_SHARED,
    Named.CONFLICTING: PlacedBy.ADDRESS_CONFLICTING,
}


@dataclass(frozen=True, slots=True)
class LetterPlace:
    """A letter's district (None: the city's only) and how it was placed, or why no district:
    in English (`why`) and as a word with the names its address begins with (`by`, `said`)."""

    district: str | None
    why: str
    by: PlacedBy
    said: tuple[str, ...] = ()


def named_place(
    letter: DeadLetter,
    point_of_record: PointOfRecord | None = None,
    address_of_record: AddressOfRecord | None = None,
) -> NamedPlace | None:
    """The place a letter's record names, or None (the letter is the city's only).

    >>> from schemas.dead_letter import dead_letter
    >>> report = b'{"location": {"lon": 106.45, "lat": 29.55, "crs": "wgs84"}}'
    >>> named_place(dead_letter("police", "intake", report, "category", "category: unknown"))
    NamedPlace(district=None, point=(106.45, 29.55), address=None)
    >>> event = b'{"event": {"district_code": null, "grid_code": "500107001001001"}}'
    >>> named_place(dead_letter("system", "notices", event, "$", "$: unreadable")).district
    '500107'
    >>> named_place(dead_letter("police", "adapter", b"jd=106.45", "jd", "jd: bad")) is None
    True
    >>> report = '{"location": {"address": "九龙坡区梅岭街5号"}}'.encode()
    >>> named_place(dead_letter("hotline", "intake", report, "category", "category: unknown"))
    NamedPlace(district=None, point=None, address='九龙坡区梅岭街5号')
    """
    if letter.stage not in (Stage.ADAPTER, Stage.INTAKE, Stage.NOTICES):
        return None
    try:  # the record is parsed once here; the adapter's ports read fields of the parsed object
        doc = orjson.loads(raw_bytes(letter))
    except (orjson.JSONDecodeError, ValueError):
        return None  # XML, CAP or text records (or not JSON at all) name nothing readable here
    if not isinstance(doc, dict):
        return None
    if letter.stage is Stage.ADAPTER:
        return _agency_place(letter, doc, point_of_record, address_of_record)
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


def _agency_place(
    letter: DeadLetter,
    record: dict[str, object],
    point_of_record: PointOfRecord | None,
    address_of_record: AddressOfRecord | None,
) -> NamedPlace | None:
    try:
        source = Source(letter.source)
    except ValueError:
        return None
    found = point_of_record(source, record) if point_of_record is not None else None
    if found is not None:
        lon, lat, crs = found
        placed = _report_place({"lon": lon, "lat": lat, "crs": crs})
        if placed is not None:
            return placed
    address = address_of_record(source, record) if address_of_record is not None else None
    return NamedPlace(address=address.strip()) if address and address.strip() else None


def _report_place(location: object) -> NamedPlace | None:
    if not isinstance(location, dict):
        return None
    lon, lat, crs = location.get("lon"), location.get("lat"), location.get("crs")
    if isinstance(lon, int | float) and isinstance(lat, int | float) and isinstance(crs, str):
        try:
            return NamedPlace(point=to_wgs84(float(lon), float(lat), crs))
        except (CoordinateError, ValueError):
            pass
    address = location.get("address")
    return NamedPlace(address=address.strip()) if isinstance(address, str) and address.strip() else None


def by_address(address: str, names: CityNames) -> LetterPlace:
    """The district an address names for certain, or the city's only with the reason.

    >>> from geo.gazetteer import DistrictNames
    >>> names = CityNames([DistrictNames("500106", "沙坪坝区", ("小龙坎街道",), ("民主村社区",)),
    ...                    DistrictNames("500107", "九龙坡区", ("杨家坪街道",), ("民主村社区",))])
    >>> by_address("重庆市杨家坪街道梅岭街5号", names)  # doctest: +NORMALIZE_WHITESPACE
    LetterPlace(district='500107', why='the address names 杨家坪街道: 九龙坡区 (500107)',
                by=<PlacedBy.ADDRESS: 'address'>, said=('杨家坪街道',))
    >>> print(by_address("梅岭街1号1栋", names).why)
    the address names no district, street or community: the city's only
    """
    naming = names.named(address)
    by = _BY_NAMING[naming.named]
    if naming.district is not None:
        return LetterPlace(naming.district, naming.why, by, naming.said)
    return LetterPlace(None, f"{naming.why}: the city's only", by, naming.said)


UNPLACED: dict[Stage, str] = {
    Stage.ADAPTER: "its record gives no readable point or address by its adapter's fields",
    Stage.INTAKE: "its report's location has no readable point and no address",
    Stage.NOTICES: "its event names no district, street or grid code",
    Stage.OPEN311: "an Open311 POST is the city's",
    Stage.ALERTS: "a CAP record is the city's",
    Stage.REPLIES: "a 12345 reply names no place",
}
"""Why a letter whose record names nothing readable is the city's only, per stage."""


def unplaced(letter: DeadLetter) -> LetterPlace:
    why = UNPLACED.get(letter.stage, f"a {letter.stage} letter names no place")
    return LetterPlace(None, f"{why}: the city's only", PlacedBy.NOTHING)


def visible(district: str | None, scope: Scope) -> bool:
    """Whether an operator of `scope` sees a letter of `district` (None: the city's only)."""
    return scope.whole_city or (district is not None and district == scope.district)
