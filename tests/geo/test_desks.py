"""Desks named by code or by name, and alert areas that do not touch the district (pure)."""

from __future__ import annotations

import pytest

from geo.desks import Desks, area_shape, foreign_area, wholly_outside
from geo.index import GridIndex

CALIFORNIA = {
    "polygons": [[[-120.14, 38.47], [-119.95, 38.34], [-119.74, 38.52], [-119.89, 38.62], [-120.14, 38.47]]]
}
TUWAN_GAS = {"circles": [{"lon": 106.4688, "lat": 29.5461, "radius_m": 300.0}]}


@pytest.fixture(scope="module")
def desks(ref_index: GridIndex) -> Desks:
    return Desks(ref_index)


def test_codes_name_the_district_a_street_or_a_community(desks: Desks) -> None:
    grid = desks.index.grids[0]
    district = desks.by_code("500106")
    assert (
        district is not None
        and district.street_code is None
        and "names the district" in str(district.fallback_reason)
    )
    street = desks.by_code(grid.street_code)
    assert street is not None and (street.street_code, street.community_code, street.grid_code) == (
        grid.street_code,
        None,
        None,
    )
    community = desks.by_code(grid.community_code)
    assert community is not None and community.community_code == grid.community_code
    assert community.street_name == grid.street_name and "community's desk" in str(community.fallback_reason)
    for foreign in ("110105", "500107001", "50010600100", "abc", ""):
        assert desks.by_code(foreign) is None
    assert desks.by_codes(["500106", grid.street_code, "006109"]) == street  # the most specific


def test_an_address_naming_a_street_or_community_but_no_building_finds_its_desk(desks: Desks) -> None:
    place = desks.by_name("重庆市沙坪坝区 歌乐山街道 高店子社区 后山边坡有落石")
    assert place is not None and (place.street_name, place.community_name) == ("歌乐山街道", "高店子社区")
    place = desks.by_name("歌乐山街道办事处附近路面塌陷")
    assert place is not None and place.street_name == "歌乐山街道" and place.community_code is None
    assert "names street 歌乐山街道" in str(place.fallback_reason)
    assert desks.by_name("某某路口") is None


def test_the_cap_specifications_californian_storm_lies_wholly_outside(ref_index: GridIndex) -> None:
    assert wholly_outside(ref_index.outline, CALIFORNIA)
    assert not wholly_outside(ref_index.outline, TUWAN_GAS)
    shape = area_shape(TUWAN_GAS)
    assert shape is not None and 2.5e-5 < shape.area < 2.8e-5  # π·300² m² ≈ 2.64e-5 deg² at 29.5° N
    assert not wholly_outside(None, CALIFORNIA)  # no outline: nothing is known to be outside
    assert not wholly_outside(ref_index.outline, {"description": "somewhere"})  # no shape


def test_shapeless_areas_are_foreign_by_their_codes_or_a_description_of_elsewhere(desks: Desks) -> None:
    assert foreign_area(desks, {"description": "U.S. nationwide and interests worldwide"})
    assert foreign_area(desks, {"geocodes": [{"name": "SAME", "value": "006109"}], "description": "Tuolumne"})
    assert not foreign_area(desks, {"geocodes": [{"name": "行政区划", "value": "500106009"}]})
    assert not foreign_area(desks, {"description": "歌乐山街道 新开寺村 三组"})
    assert not foreign_area(desks, {"description": "沙坪坝区全境"})  # Chinese: for the gazetteer and the desk
