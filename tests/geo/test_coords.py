"""Coordinate conversions against published vectors and an independent implementation."""

from __future__ import annotations

import math

import numpy as np
import prcoords
import pytest

from geo.coords import (
    CoordinateError,
    Crs,
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    gcj02_to_wgs84_many,
    outside_china,
    to_wgs84,
    to_wgs84_many,
    wgs84_to_gcj02,
    wgs84_to_gcj02_many,
)

# googollee/eviltransform's own test suite: (wgs lat, wgs lng, gcj lat, gcj lng).
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# The geotool / pyxis test vector (WGS84 -> GCJ-02 -> BD-09), published with 1e-6 tolerance.
GEOTOOL = (
    (121.0917077, 30.6107779),
    (121.09626935575027, 30.608604331756705),
    (121.10271732371203, 30.61484572185035),
)

M_PER_DEG = 111_320.0


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return math.hypot((lon1 - lon2) * M_PER_DEG * math.cos(math.radians(lat1)), (lat1 - lat2) * 110_574.0)


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), EVILTRANSFORM)
def test_wgs84_to_gcj02_matches_published_vectors(wlat: float, wlng: float, glat: float, glng: float) -> None:
    lon, lat = wgs84_to_gcj02(wlng, wlat)
    assert lon == pytest.approx(glng, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)
    back = gcj02_to_wgs84(glng, glat)
    assert metres(*back, wlng, wlat) < 0.01


def test_geotool_vector_wgs_gcj_bd() -> None:
    wgs, gcj, bd = GEOTOOL
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-6)
    assert gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=1e-6)
    assert bd09_to_gcj02(*bd) == pytest.approx(gcj, abs=1e-6)
    assert to_wgs84(*bd, Crs.BD09) == pytest.approx(wgs, abs=1e-6)


def _china_sample(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.uniform(75, 135, n), rng.uniform(18, 53, n)


def test_agrees_with_prcoords_across_china() -> None:
    lons, lats = _china_sample(500)
    for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
        ref = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
        assert wgs84_to_gcj02(lon, lat) == pytest.approx((ref.lon, ref.lat), abs=1e-9)
        ref_bd = prcoords.gcj_bd(prcoords.Coords(lat, lon))
        assert gcj02_to_bd09(lon, lat) == pytest.approx((ref_bd.lon, ref_bd.lat), abs=1e-9)
        ref_gcj = prcoords.bd_gcj(prcoords.Coords(lat, lon))
        assert bd09_to_gcj02(lon, lat) == pytest.approx((ref_gcj.lon, ref_gcj.lat), abs=1e-9)
        # prcoords' exact inverse stops at 1e-5 precision; ours iterates to 1e-10 degrees.
        exact = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon))
        assert metres(*gcj02_to_wgs84(lon, lat), exact.lon, exact.lat) < 0.5


def test_round_trip_below_half_a_metre_everywhere_in_the_district() -> None:
    lons, lats = np.meshgrid(np.linspace(106.24, 106.50, 120), np.linspace(29.49, 29.76, 120))
    lons, lats = lons.ravel(), lats.ravel()
    for crs, forward in (
        (Crs.GCJ02, wgs84_to_gcj02),
        (Crs.BD09, lambda x, y: gcj02_to_bd09(*wgs84_to_gcj02(x, y))),
    ):
        worst = 0.0
        for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
            back = to_wgs84(*forward(lon, lat), crs)
            worst = max(worst, metres(*back, lon, lat))
        # GCJ-02: the iteration converges to ~1e-10 degrees; BD-09 adds the closed-form inverse (~5 cm).
        assert worst < (0.001 if crs is Crs.GCJ02 else 0.5), (crs, worst)


def test_vectorised_equals_scalar() -> None:
    lons, lats = _china_sample(2000)
    glons, glats = wgs84_to_gcj02_many(lons, lats)
    wlons, wlats = gcj02_to_wgs84_many(glons, glats)
    for i in range(0, 2000, 97):
        assert (glons[i], glats[i]) == pytest.approx(wgs84_to_gcj02(lons[i], lats[i]), abs=1e-12)
        assert (wlons[i], wlats[i]) == pytest.approx(gcj02_to_wgs84(glons[i], glats[i]), abs=1e-9)
    for crs in Crs:
        many = to_wgs84_many(lons[:50], lats[:50], crs)
        one = [to_wgs84(x, y, crs) for x, y in zip(lons[:50], lats[:50], strict=True)]
        assert np.allclose(np.column_stack(many), np.array(one), atol=1e-9)


@pytest.mark.parametrize(("lon", "lat"), [(2.35, 48.86), (-74.0, 40.7), (139.7, 35.7), (151.2, -33.9)])
def test_points_outside_china_pass_through(lon: float, lat: float) -> None:
    assert outside_china(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert to_wgs84(lon, lat, Crs.GCJ02) == (lon, lat)
    many = wgs84_to_gcj02_many(np.array([lon, 106.45]), np.array([lat, 29.56]))
    assert (many[0][0], many[1][0]) == (lon, lat)
    assert many[0][1] != 106.45  # the Chinese point in the same batch is shifted


def test_cgcs2000_is_taken_as_wgs84() -> None:
    assert to_wgs84(106.45, 29.56, "cgcs2000") == (106.45, 29.56)
    assert to_wgs84(106.45, 29.56, Crs.WGS84) == (106.45, 29.56)


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [(math.nan, 29.5, "lon"), (106.4, math.inf, "lat"), (190.0, 29.5, "lon"), (106.4, -91.0, "lat")],
)
def test_bad_values_name_the_field(lon: float, lat: float, field: str) -> None:
    with pytest.raises(CoordinateError, match=f"^{field}:"):
        to_wgs84(lon, lat, Crs.GCJ02)


def test_unknown_crs_is_refused() -> None:
    with pytest.raises(ValueError, match="'epsg3857' is not a valid Crs"):
        to_wgs84(106.4, 29.5, "epsg3857")
