"""How people and systems actually write a gazetteer address: with or without the city and
district, with the street (街道) name, full-width digits, Chinese numerals, a unit/room tail
or a note in brackets. Every variant still names the same building (geo.gazetteer folds them)."""

from __future__ import annotations

import random
import re

from producers.simulator.model import Place

PREFIX = "重庆市沙坪坝区"
HOME_DISTRICT = "沙坪坝区"
"""The district whose name an address may leave out (the gazetteer's default prefix): in a city
of several districts a bare road name is ambiguous, so another district's address always names
its district."""
_CITY_DISTRICT = re.compile(r"^重庆市(.+?[区县])")
_CN = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """12 -> 十二, 105 -> 一百零五 (house numbers below 1,000)."""
    if n < 10:
        return _CN[n]
    if n < 20:
        return "十" + (_CN[n % 10] if n % 10 else "")
    if n < 100:
        return _CN[n // 10] + "十" + (_CN[n % 10] if n % 10 else "")
    hundreds, rest = divmod(n, 100)
    tail = (
        ""
        if rest == 0
        else (
            "零" + _CN[rest]
            if rest < 10
            else chinese_number(rest).replace("十", "一十", 1)
            if rest < 20
            else chinese_number(rest)
        )
    )
    return _CN[hundreds] + "百" + tail


def _full_width(text: str) -> str:
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})


def city_prefix(address: str) -> str:
    """ "重庆市沙坪坝区" of "重庆市沙坪坝区汉渝路12号" (the city and district the address begins with)."""
    found = _CITY_DISTRICT.match(address)
    return found.group(0) if found else PREFIX


def variant(place: Place, rng: random.Random) -> str:
    prefix = city_prefix(place.address)
    district = prefix.removeprefix("重庆市")
    base = place.address.removeprefix(prefix)
    named = "" if district == HOME_DISTRICT else district  # kept where the home district's is left out
    roll = rng.random()
    if roll < 0.25:
        text = place.address
    elif roll < 0.45:
        text = f"{district}{place.street_name}{base}" if not named else f"{district}{base}"
    elif roll < 0.6:
        text = named + base
    elif roll < 0.72:
        text = _full_width(place.address)
    elif roll < 0.84:
        text = named + re.sub(
            r"(\d+)(?=号)",
            lambda m: chinese_number(int(m.group(1))) if int(m.group(1)) < 1000 else m.group(1),
            base,
        )
    else:
        text = place.address
    tail = rng.random()
    if tail < 0.15:
        text += f"{rng.randint(1, 4)}单元{rng.randint(1, 30)}0{rng.randint(1, 4)}"
    elif tail < 0.22:
        text += rng.choice(["（门口）", "(对面)", "（小区大门旁）"])
    elif tail < 0.3:
        text += " 附近"
    return text
