"""Address -> building (楼栋) -> grid, for reports that come with an address only (12345, 网信).

Addresses are compared after `normalise`: full-width characters folded (NFKC), spaces and
brackets dropped, the city/district/street prefixes that callers add or leave out removed
("重庆市沙坪坝区小龙坎街道…"), Chinese numerals before a unit word turned into digits
(十二号 -> 12号), and the many ways of writing a building unified (幢, 座, 号楼, 3# -> 栋;
rural 社 -> 组). A lookup then tries, in order:

- "address": the whole normalised address is a known building;
- "building": a known building once the unit/floor/room tail is dropped (…3栋2单元501);
- "house_number": only the house number is known (…12号 of a compound): its first building.

>>> from geo.reference import load_reference
>>> g = Gazetteer.from_reference(load_reference())
>>> g.normalise("重庆市沙坪坝区 汉渝路１２号三幢２单元")
'汉渝路12号3栋2单元'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from geo.reference.district import Building, ReferenceDistrict

DEFAULT_PREFIXES = ("中华人民共和国", "中国", "重庆市", "重庆", "沙坪坝区")
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
    def __init__(self, buildings: Iterable[Building], place_names: Iterable[str] = ()) -> None:
        # Longest first, so "小龙坎街道办事处" goes before "小龙坎街道".
        names = {n for n in place_names if n} | set(DEFAULT_PREFIXES)
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
        s = unicodedata.normalize("NFKC", text).replace("號", "号")
        s = _BRACKETED.sub("", s)
        s = _NOISE.sub("", s)
        s = _CN_NUMBER.sub(lambda m: str(chinese_number(m.group(0))), s)
        s = re.sub(r"号楼|幢|座|栋楼", "栋", s)
        s = re.sub(r"(\d+)#楼?", r"\1栋", s)
        s = re.sub(r"(\d+)社(?!区)", r"\1组", s)
        s = re.sub(r"号院", "号", s)
        return self._prefixes.sub("", s, count=1)

    def _match(self, i: int, how: str) -> AddressMatch:
        b = self._buildings[i]
        return AddressMatch(b.building_id, b.address, b.lon, b.lat, b.grid_code, how)

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
