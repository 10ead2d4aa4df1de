"""Whose a dead letter is when its record gives only an address (pure): the district its
address names for certain — the district's name, or street/community names only that district
has, over both reference districts — else the city's only, with the reason the desk shows."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
import pytest

from dispatch.deadletters.places import (
    LetterPlace,
    NamedPlace,
    PlacedBy,
    by_address,
    named_place,
    unplaced,
    visible,
)
from dispatch.scope import Scope
from geo.gazetteer import CityNames, DistrictNames
from geo.reference import load_reference
from producers.adapters.points import record_address, record_point
from producers.dlq import dead_letter
from producers.sources import load_sources
from schemas.dead_letter import Stage
from schemas.report import Source

SPB, JLP = "500106", "500107"


@pytest.fixture(scope="module")
def names() -> CityNames:
    return CityNames([DistrictNames.from_reference(load_reference(n)) for n in ("shapingba", "jiulongpo")])


def _intake(location: Mapping[str, object]) -> bytes:
    return orjson.dumps({"category": "noise", "location": location})


def test_an_intake_letter_without_a_readable_point_names_its_address() -> None:
    only = dead_letter("hotline", Stage.INTAKE, _intake({"address": " 九龙坡区梅岭街5号 "}), "category", "x")
    assert named_place(only) == NamedPlace(address="九龙坡区梅岭街5号")
    broken = _intake({"lon": "east", "lat": 29.5, "crs": "wgs84", "address": "杨家坪街道梅岭街5号"})
    letter = dead_letter("hotline", Stage.INTAKE, broken, "location.lon", "x")
    assert named_place(letter) == NamedPlace(
        address="杨家坪街道梅岭街5号"
    )  # an unreadable point: its address
    point = _intake({"lon": 106.45, "lat": 29.55, "crs": "wgs84", "address": "九龙坡区梅岭街5号"})
    placed = named_place(dead_letter("hotline", Stage.INTAKE, point, "category", "x"))
    assert placed is not None and (placed.point, placed.address) == ((106.45, 29.55), None)  # the point wins
    for empty in ({"address": "  "}, {"lon": None}):
        assert named_place(dead_letter("hotline", Stage.INTAKE, _intake(empty), "location", "x")) is None


def test_an_agency_record_without_a_point_is_read_by_its_adapters_address_field() -> None:
    sources = load_sources()

    parsed: list[Mapping[str, object]] = []  # what the ports were given: the record, parsed once

    def point(source: Source, record: Mapping[str, object]) -> tuple[float, float, str] | None:
        parsed.append(record)
        return record_point(sources, source, record)

    def address(source: Source, record: Mapping[str, object]) -> str | None:
        parsed.append(record)
        return record_address(source, record)

    order = {
        "workOrderNo": "CQ12345-1",
        "classification": "?",
        "address": "重庆市沙坪坝区小龙坎街道小龙坎正街168号",
    }
    letter = dead_letter("hotline", Stage.ADAPTER, orjson.dumps(order), "category", "category: unknown")
    assert named_place(letter, point) is None  # no point fields, and no address port: the city's
    parsed.clear()
    found = named_place(letter, point, address)
    assert found is not None and found.address == order["address"]
    assert parsed == [order, order] and parsed[0] is parsed[1]  # both ports read one parse
    located = {**order, "longitude": 106.45, "latitude": 29.55}
    placed = named_place(
        dead_letter("hotline", Stage.ADAPTER, orjson.dumps(located), "x", "x"), point, record_address
    )
    assert placed is not None and placed.point is not None and placed.address is None


@pytest.mark.parametrize(
    ("address", "district", "why"),
    [
        ("重庆市九龙坡区梅岭街5号", JLP, "the address names 九龙坡区: 九龙坡区 (500107)"),
        ("杨家坪街道梅岭街5号", JLP, "the address names 杨家坪街道: 九龙坡区 (500107)"),
        ("小龙坎街道办事处 小龙坎正街 168 号", SPB, "the address names 小龙坎街道办事处: 沙坪坝区 (500106)"),
        ("梅岭街1号1栋", None, "the address names no district, street or community: the city's only"),
        (
            "民主村社区3栋",
            None,
            "the address names 民主村社区, which is in 500106 and 500107: not certain: the city's only",
        ),
        ("沙坪坝区杨家坪街道1号", None, "which do not lie in one district (500106, 500107): the city's only"),
        (
            "渝中区解放碑步行街1号",
            None,
            "the address names no district, street or community: the city's only",
        ),
    ],
)
def test_an_address_places_a_letter_only_when_it_names_one_district(
    names: CityNames, address: str, district: str | None, why: str
) -> None:
    place = by_address(address, names)
    assert place.district == district and place.why.endswith(why), place
    assert (place.by is PlacedBy.ADDRESS) is (district is not None)
    assert all(name in address.replace(" ", "") for name in place.said)
    assert visible(place.district, Scope()) and visible(place.district, Scope(district=JLP)) is (
        district == JLP
    )


def test_a_letter_naming_nothing_says_why_it_is_the_citys() -> None:
    cap = dead_letter("emergency", Stage.ALERTS, b"<alert/>", "sender", "sender: required")
    assert unplaced(cap) == LetterPlace(None, "a CAP record is the city's: the city's only", PlacedBy.NOTHING)
    xml = dead_letter("citymgmt", Stage.ADAPTER, b"<case/>", "$", "$: not XML")
    assert named_place(xml, None, record_address) is None
    assert unplaced(xml).why.startswith("its record gives no readable point or address")
