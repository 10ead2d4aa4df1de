"""Map-app links carry the provider's own coordinates, checked against prcoords (independent)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import prcoords
import pytest

from geo.coords import CoordinateError
from geo.maplinks import map_links


@pytest.mark.parametrize(("lon", "lat"), [(106.45, 29.56), (106.2761, 29.6008), (2.35, 48.85)])
def test_links_take_gcj02_and_bd09(lon: float, lat: float) -> None:
    links = map_links(lon, lat, "井盖缺失 & 积水")
    gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
    bd = prcoords.wgs_bd(prcoords.Coords(lat, lon))
    amap = parse_qs(urlsplit(links.amap).query)
    glon, glat = map(float, amap["position"][0].split(","))
    assert abs(glon - gcj.lon) < 2e-6 and abs(glat - gcj.lat) < 2e-6
    assert amap["name"] == ["井盖缺失 & 积水"] and amap["coordinate"] == ["gaode"]
    baidu = parse_qs(urlsplit(links.baidu).query)
    blat, blon = map(float, baidu["location"][0].split(","))
    assert abs(blon - bd.lon) < 2e-5 and abs(blat - bd.lat) < 2e-5
    assert baidu["coord_type"] == ["bd09ll"]


def test_a_bad_point_names_its_field() -> None:
    with pytest.raises(CoordinateError, match="lat"):
        map_links(106.45, 95.0, "x")
