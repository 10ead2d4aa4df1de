"""Address variants resolve to the same building; unknown addresses resolve to nothing."""

from __future__ import annotations

import re

import pytest

from geo.gazetteer import Gazetteer, chinese_number
from geo.reference import ReferenceDistrict


def _compound(reference: ReferenceDistrict) -> tuple[str, str, str, str]:
    """(address, road, number, building) of an urban building inside a compound."""
    for b in reference.buildings:
        m = re.fullmatch(r"重庆市沙坪坝区(\D+?)(\d+)号(\d+)栋", b.address)
        if m and m.group(3) == "2":
            return b.address, m.group(1), m.group(2), m.group(3)
    raise AssertionError("no compound building in the reference set")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("一百零五", 105),
        ("两千三百", 2300),
        ("二三", 23),
        ("〇", 0),
    ],
)
def test_chinese_numbers(text: str, value: int) -> None:
    assert chinese_number(text) == value


def test_variants_of_one_address(reference: ReferenceDistrict, gazetteer: Gazetteer) -> None:
    address, road, no, bldg = _compound(reference)
    full_width_no = no.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    street = reference.streets[0].name
    target = gazetteer.lookup(address)
    assert target is not None and target.how == "address"
    variants = {
        f"{road}{no}号{bldg}栋": "address",
        f"重庆市 沙坪坝区 {road}{no}号{bldg}栋": "address",
        f"重庆沙坪坝区{road}{full_width_no}号{bldg}幢": "address",
        f"{road}{no}号{bldg}号楼": "address",
        f"{road}{no}号{bldg}座": "address",
        f"{road}{no}号{bldg}#楼": "address",
        f"{road}{no}號二栋": "address",
        f"中国重庆市沙坪坝区{street}{road}{no}号{bldg}栋": "address",
        f"{road}{no}号{bldg}栋2单元501": "building",
        f"{road}{no}号{bldg}栋三单元１２楼": "building",
        f"（小区东门）{road}{no}号{bldg}栋": "address",
    }
    for text, how in variants.items():
        match = gazetteer.lookup(text)
        assert match is not None, text
        assert (match.building_id, match.how) == (target.building_id, how), text
    house = gazetteer.lookup(f"{road}{no}号")
    assert (
        house is not None
        and house.how == "house_number"
        and house.address.startswith(f"重庆市沙坪坝区{road}{no}号")
    )


def test_village_addresses(reference: ReferenceDistrict, gazetteer: Gazetteer) -> None:
    b = next(b for b in reference.buildings if re.search(r"村\d+组\d+号$", b.address))
    m = re.search(r"(\D+村)(\d+)组(\d+)号$", b.address)
    assert m is not None
    village, group, no = m.groups()
    digits = "零一二三四五六七八九"
    cn = "".join(digits[int(d)] for d in group)
    for text in (
        b.address,
        f"{village}{group}社{no}号",
        f"{village}{cn}组{no}号",
        f"沙坪坝区{village}{group}组{no}号",
    ):
        match = gazetteer.lookup(text)
        assert match is not None and match.building_id == b.building_id, text


def test_unknown_addresses(gazetteer: Gazetteer) -> None:
    assert gazetteer.lookup("不存在路1号") is None
    assert gazetteer.lookup("重庆市沙坪坝区") is None
    assert gazetteer.lookup("") is None
    assert gazetteer.lookup("汉渝路99999号") is None


def test_every_shipped_address_finds_itself(reference: ReferenceDistrict, gazetteer: Gazetteer) -> None:
    assert len(gazetteer) == len(reference.buildings)
    for b in reference.buildings:
        match = gazetteer.lookup(b.address)
        assert match is not None and match.building_id == b.building_id and match.grid_code == b.grid_code
