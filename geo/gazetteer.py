"""Address -> building (楼栋) -> grid, for reports that come with an address only (12345, 网信).

Addresses are compared after `normalise`: full-width characters folded (NFKC), spaces and
brackets dropped, the city/district/street prefixes that callers add or leave out removed
("重庆市沙坪坝区小龙坎街道…"), Chinese numerals before a unit word turned into digits
(十二号 -> 12号), and the many ways of writing a building unified (幢, 座, 号楼, 3# -> 栋;
rural 社 -> 组). A lookup then tries, in order:

- "address": the whole normalised address is a known building;
- "building": a known building once the unit/floor/room tail is dropped (…3栋2单元501);
- "house_number": only the house number is known (…12号 of a compound): its first building.

Several districts (`CityGazetteer`): each district has its own gazetteer (its buildings, its
street and community names, its own district name as the prefix an address may leave out), and
`district_named` says which district an address names for certain — the district's name, or the
street/community names it begins with when they belong to one district only.

>>> from geo.reference import load_reference
>>> g = Gazetteer.from_reference(load_reference())
>>> g.normalise("重庆市沙坪坝区 汉渝路１２号三幢２单元")
'汉渝路12号3栋2单元'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from geo.reference.district import Building, ReferenceDistrict

CITY_PREFIXES = ("中华人民共和国", "中国", "重庆市", "重庆")
"""What any address of the city may begin with, whichever district it is in."""
DEFAULT_PREFIXES = (*CITY_PREFIXES, "沙坪坝区")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_UNIT_WORDS = r"(?=号|栋|幢|座|单元|组|社(?!区)|楼|层|室)"
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千]+" + _UNIT_WORDS)
_BRACKETED = re.compile(r"[（(【\[].*?[)）】\]]")
_NOISE = re.compile(r"[\s,，。.、:：;；\"'“”‘’]+")
_PARSE = re.compile(r"^(?P<road>.+?)(?P<no>\d+)号(?:(?P<bldg>\d+)栋)?(?P<rest>.*)$")


def chinese_number(text: str) -> int:
    """'十二' -> 12, '一百零五' -> 105, '三' -> 3, '二三' -> 23 (digit by digit)."""
    if not any(ch in _CN_UNITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return total + digit


@dataclass(frozen=True, slots=True)
class AddressMatch:
    building_id: str
    address: str
    lon: float
    lat: float
    grid_code: str  # the building's grid as loaded; place (lon, lat) for a given date's layer
    how: str  # "address" | "building" | "house_number"


class Gazetteer:
    def __init__(
        self,
        buildings: Iterable[Building],
        place_names: Iterable[str] = (),
        *,
        prefixes: Iterable[str] = DEFAULT_PREFIXES,
    ) -> None:
        """`prefixes`: the city and district names an address may begin with (one district's
        gazetteer names its own district only: `CityGazetteer`)."""
        # Longest first, so "小龙坎街道办事处" goes before "小龙坎街道".
        names = {n for n in place_names if n} | set(prefixes)
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        self._prefixes = re.compile(rf"^(?:{alternatives})+(?=.)")
        self._buildings: list[Building] = list(buildings)
        self._by_address: dict[str, int] = {}
        self._by_house: dict[str, int] = {}
        for i, b in enumerate(self._buildings):
            norm = self.normalise(b.address)
            self._by_address.setdefault(norm, i)
            parsed = _PARSE.match(norm)
            if parsed is not None:
                self._by_house.setdefault(f"{parsed['road']}{parsed['no']}号", i)

    @classmethod
    def from_reference(cls, d: ReferenceDistrict) -> Gazetteer:
        return cls(d.buildings, place_names([s.name for s in d.streets], [c.name for c in d.communities]))

    def __len__(self) -> int:
        return len(self._buildings)

    def normalise(self, text: str) -> str:
        s = _fold(text)
        s = _CN_NUMBER.sub(lambda m: str(chinese_number(m.group(0))), s)
        s = re.sub(r"号楼|幢|座|栋楼", "栋", s)
        s = re.sub(r"(\d+)#楼?", r"\1栋", s)
        s = re.sub(r"(\d+)社(?!区)", r"\1组", s)
        s = re.sub(r"号院", "号", s)
        return self._prefixes.sub("", s, count=1)

    def _match(self, i: int, how: str) -> AddressMatch:
        b = self._buildings[i]
        return AddressMatch(b.building_id, b.address, b.lon, b.lat, b.grid_code, how)

    def answer(self, text: str) -> CityAnswer:
        """`lookup` with what to say when nothing is found (one gazetteer: no district chosen), as
        `CityGazetteer.answer` says it for several."""
        match = self.lookup(text)
        return CityAnswer(None, match, "found in the gazetteer" if match else "not found in the gazetteer")

    def lookup(self, text: str) -> AddressMatch | None:
        norm = self.normalise(text)
        hit = self._by_address.get(norm)
        if hit is not None:
            return self._match(hit, "address")
        parsed = _PARSE.match(norm)
        if parsed is None:
            return None
        house = f"{parsed['road']}{parsed['no']}号"
        if parsed["bldg"] is not None:
            hit = self._by_address.get(f"{house}{parsed['bldg']}栋")
        elif parsed["rest"]:
            hit = self._by_address.get(house)
        if hit is not None:
            return self._match(hit, "building")
        hit = self._by_house.get(house)
        return None if hit is None else self._match(hit, "house_number")


def place_names(street_names: Iterable[str], community_names: Iterable[str]) -> list[str]:
    """Prefixes a caller may put before the road: street/town names (also with 办事处 forms)
    and 社区 names. Village (村) names stay: rural addresses start with them."""
    out: list[str] = []
    for name in street_names:
        out += [name, f"{name}办事处", f"{name}办"]
    out += [name for name in community_names if name.endswith("社区")]
    return out


def _fold(text: str) -> str:
    """Full-width characters folded, brackets and spaces dropped (the first step of `normalise`)."""
    s = unicodedata.normalize("NFKC", text).replace("號", "号")
    s = _BRACKETED.sub("", s)
    return _NOISE.sub("", s)


_CITY = re.compile(rf"^(?:{'|'.join(sorted(CITY_PREFIXES, key=len, reverse=True))})+")


@dataclass(frozen=True, slots=True)
class DistrictNames:
    """One district's names an address may begin with: its own (九龙坡区), its streets' and towns'
    (with their 办事处 forms), its communities' and villages'."""

    code: str
    name: str
    streets: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()

    @classmethod
    def from_reference(cls, d: ReferenceDistrict) -> DistrictNames:
        return cls(d.code, d.name, tuple(s.name for s in d.streets), tuple(c.name for c in d.communities))

    def area_names(self) -> list[str]:
        out = [f for name in self.streets for f in (name, f"{name}办事处", f"{name}办")]
        return out + list(self.communities)


class Named(StrEnum):
    DISTRICT = "district"  # the names it begins with lie in one district only
    NOTHING = "nothing"  # no district, street or community name: a bare road could be anyone's
    SHARED = "shared"  # a street or community name more than one district has
    CONFLICTING = "conflicting"  # names that lie in different districts


@dataclass(frozen=True, slots=True)
class Naming:
    """Which district an address names, and how that was read (or why it is not certain)."""

    district: str | None  # set only when `named` is DISTRICT
    named: Named
    why: str
    said: tuple[str, ...] = ()  # the names it begins with, in order


class CityNames:
    """`named(address)`: the district an address names for certain, by the names it begins with.

    >>> jlp = DistrictNames("500107", "九龙坡区", ("杨家坪街道",), ("民主村社区", "梅岭社区"))
    >>> spb = DistrictNames("500106", "沙坪坝区", ("小龙坎街道",), ("民主村社区",))
    >>> names = CityNames([spb, jlp])
    >>> names.named("重庆市 九龙坡区梅岭街1号").district
    '500107'
    >>> print(names.named("杨家坪街道办事处民主村社区梅岭街1号").why)
    the address names 杨家坪街道办事处, 民主村社区: 九龙坡区 (500107)
    >>> print(names.named("民主村社区3号").why)
    the address names 民主村社区, which is in 500106 and 500107: not certain
    >>> print(names.named("沙坪坝区杨家坪街道1号").why)
    the address names 沙坪坝区, 杨家坪街道, which do not lie in one district (500106, 500107)
    >>> names.named("梅岭街1号").named
    <Named.NOTHING: 'nothing'>
    """

    def __init__(self, districts: Sequence[DistrictNames]) -> None:
        self.districts = {d.code: d for d in districts}
        self._owners: dict[str, set[str]] = {}
        for d in districts:
            for name in d.area_names():
                self._owners.setdefault(name, set()).add(d.code)
            self._owners.setdefault(d.name, set()).add(d.code)
        alternatives = "|".join(re.escape(n) for n in sorted(self._owners, key=len, reverse=True) if n)
        self._names = re.compile(alternatives) if alternatives else None

    def label(self, code: str) -> str:
        return f"{self.districts[code].name} ({code})"

    def named(self, address: str) -> Naming:
        rest = _CITY.sub("", _fold(address), count=1)
        said: list[str] = []
        owners = set(self.districts)
        while self._names is not None and (hit := self._names.match(rest)) is not None:
            said.append(hit.group(0))
            owners &= self._owners[hit.group(0)]
            rest = rest[hit.end() :]
        if not said:
            return Naming(None, Named.NOTHING, "the address names no district, street or community")
        names = ", ".join(said)
        if len(owners) == 1:
            (code,) = owners
            why = f"the address names {names}: {self.label(code)}"
            return Naming(code, Named.DISTRICT, why, tuple(said))
        if not owners:
            every = sorted({c for n in said for c in self._owners[n]})
            why = f"the address names {names}, which do not lie in one district ({', '.join(every)})"
            return Naming(None, Named.CONFLICTING, why, tuple(said))
        why = f"the address names {names}, which is in {' and '.join(sorted(owners))}: not certain"
        return Naming(None, Named.SHARED, why, tuple(said))


@dataclass(frozen=True, slots=True)
class CityAnswer:
    """A lookup over several districts: the district whose gazetteer answered (None: no district
    could be chosen for certain), its building or None, and how it was chosen or why not."""

    district: str | None
    match: AddressMatch | None
    why: str
    ambiguous: bool = False
    """Several districts hold the address and none could be chosen (a caller may ask which)."""


class CityGazetteer:
    """One gazetteer per district. An address naming a district (`CityNames`) is looked up in that
    district's only; a bare one in the caller's district when it is known, else in every district,
    found for certain only when exactly one holds it.

    >>> from geo.reference import load_reference
    >>> city = CityGazetteer.from_references([load_reference(n) for n in ("shapingba", "jiulongpo")])
    >>> [city.lookup("梅岭街1号1栋", district=d).match.building_id for d in ("500106", "500107")]
    ['B5001060190040015', 'B5001070010010001']
    >>> print(city.lookup("梅岭街1号1栋").why)
    found in 沙坪坝区 (500106), 九龙坡区 (500107): not certain which (name the district)
    >>> found = city.lookup("重庆市九龙坡区梅岭街5号", district="500106")
    >>> found.district, found.match.building_id, found.why
    ('500107', 'B5001070010010009', 'found in 九龙坡区 (500107), which the address names (九龙坡区)')
    >>> print(city.lookup("沙坪坝区梅岭街5号", district="500107").why)
    not found in 沙坪坝区 (500106), which the address names (沙坪坝区)
    """

    def __init__(self, districts: Iterable[tuple[DistrictNames, Iterable[Building]]]) -> None:
        pairs = list(districts)
        self.names = CityNames([n for n, _ in pairs])
        self._gazetteers = {
            n.code: Gazetteer(
                buildings, place_names(n.streets, n.communities), prefixes=(*CITY_PREFIXES, n.name)
            )
            for n, buildings in pairs
        }

    @classmethod
    def from_references(cls, ds: Iterable[ReferenceDistrict]) -> CityGazetteer:
        return cls((DistrictNames.from_reference(d), d.buildings) for d in ds)

    @property
    def district_codes(self) -> tuple[str, ...]:
        return tuple(sorted(self._gazetteers))

    def __len__(self) -> int:
        return sum(len(g) for g in self._gazetteers.values())

    def _in(self, code: str, address: str, how: str) -> CityAnswer:
        match = self._gazetteers[code].lookup(address)
        if match is None:
            return CityAnswer(code, None, f"not found in {self.label_of(code)}{how}")
        return CityAnswer(code, match, f"found in {self.label_of(code)}{how}")

    def label_of(self, code: str) -> str:
        return self.names.label(code)

    def answer(self, address: str) -> CityAnswer:
        """The city's lookup, for a caller with no district of its own (the intake placing an
        address-only report: an address naming a district is found there, a bare one only when
        exactly one district holds it)."""
        return self.lookup(address)

    def lookup(self, address: str, district: str | None = None) -> CityAnswer:
        """`district`: the caller's own (a resident's page of one district); None: the city's."""
        if district is not None and district not in self._gazetteers:
            raise ValueError(f"district: {district!r} is not one of {', '.join(self.district_codes)}")
        naming = self.names.named(address)
        if naming.district is not None:
            return self._in(naming.district, address, f", which the address names ({', '.join(naming.said)})")
        if naming.named is Named.CONFLICTING:
            return CityAnswer(None, None, naming.why)
        if district is not None:
            return self._in(district, address, ", the district the lookup is for")
        hits = [(c, m) for c, g in self._gazetteers.items() if (m := g.lookup(address)) is not None]
        if len(hits) == 1:
            code, match = hits[0]
            return CityAnswer(code, match, f"found in {self.label_of(code)} only")
        if not hits:
            return CityAnswer(None, None, f"not found in any district ({', '.join(self.district_codes)})")
        where = ", ".join(self.label_of(c) for c, _ in hits)
        return CityAnswer(
            None, None, f"found in {where}: not certain which (name the district)", ambiguous=True
        )
