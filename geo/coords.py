"""Chinese coordinate systems: WGS84/CGCS2000, GCJ-02 (Amap, Tencent) and BD-09 (Baidu).

Every feed declares the CRS of its coordinates; intake turns them into WGS84 lon/lat with
`to_wgs84` (one point) or `to_wgs84_many` (numpy arrays, thousands at a time).

- CGCS2000 (EPSG 4490) and WGS84 differ by millimetres at city scale, far below any GPS
  fix, so CGCS2000 coordinates are taken as WGS84 unchanged.
- GCJ-02 is WGS84 plus a published, smooth obfuscation offset (50-500 m). The forward
  formula is closed; the inverse is not, so `gcj02_to_wgs84` iterates the forward transform
  (fixed-point on the offset) until the round trip is below 1e-10 degrees (~0.01 mm).
- BD-09 is GCJ-02 plus Baidu's own rotation/shift; both directions are closed forms (the
  inverse is the published approximation, within ~1e-6 degrees of the exact inverse).
- Outside China the providers do not obfuscate. "Outside China" here is the rectangle that
  every published implementation uses: longitude outside [72.004, 137.8347] or latitude
  outside [0.8293, 55.8271]. Points there pass through GCJ-02 transforms unchanged (the BD-09
  shift still applies, as it does in Baidu's own API). The rectangle is crude near the
  borders (it includes parts of neighbouring countries); that is the convention the map
  providers' data follows, so we keep it.

>>> lon, lat = wgs84_to_gcj02(106.45, 29.56)
>>> round(lon, 6), round(lat, 6)
(106.453981, 29.557421)
>>> back = gcj02_to_wgs84(lon, lat)
>>> abs(back[0] - 106.45) < 1e-9 and abs(back[1] - 29.56) < 1e-9
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from schemas.vocabulary import Crs as Crs  # noqa: PLC0414  (re-export: the contract's enum)

FloatArray = NDArray[np.float64]
_N = TypeVar("_N", float, FloatArray)
_Fn = Callable[[_N], _N]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_X_PI = math.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)

_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_STEPS = 30


class CoordinateError(ValueError):
    """A coordinate is not a finite longitude/latitude."""


def outside_china(lon: float, lat: float) -> bool:
    """True where GCJ-02 does not apply (the published rectangle, see the module docstring)."""
    return not (CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1])


def _gcj_delta(lon: _N, lat: _N, sin: _Fn[_N], cos: _Fn[_N], sqrt: _Fn[_N]) -> tuple[_N, _N]:
    """GCJ-02 minus WGS84 at WGS84 points, in degrees; for floats (math) or arrays (numpy)."""
    x, y, pi = lon - 105.0, lat - 35.0, math.pi
    common = (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x)) + common
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x)) + common
    dlat += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlon += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon += (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - _EE * sin(rad) ** 2
    sqrt_magic = sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * cos(rad) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if outside_china(lon, lat):
        return lon, lat
    dlon, dlat = _gcj_delta(lon, lat, math.sin, math.cos, math.sqrt)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Exact inverse by fixed-point iteration: w <- w - (gcj(w) - g); a handful of steps."""
    if outside_china(lon, lat):
        return lon, lat
    wlon, wlat = lon, lat
    for _ in range(_INVERSE_MAX_STEPS):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if abs(elon) < _INVERSE_TOLERANCE_DEG and abs(elat) < _INVERSE_TOLERANCE_DEG:
            break
    return wlon, wlat


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _BD_X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _BD_X_PI)
    return z * math.cos(theta) + _BD_DLON, z * math.sin(theta) + _BD_DLAT


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - _BD_DLON, lat - _BD_DLAT
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _BD_X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _BD_X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def check_lonlat(lon: float, lat: float) -> None:
    """Raise CoordinateError naming the field when a value is not a usable degree."""
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise CoordinateError(f"lon: {lon!r} is not a longitude in [-180, 180]")
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise CoordinateError(f"lat: {lat!r} is not a latitude in [-90, 90]")


def to_wgs84(lon: float, lat: float, crs: Crs | str) -> tuple[float, float]:
    """One point in the declared CRS to WGS84 lon/lat (CoordinateError on bad values)."""
    check_lonlat(lon, lat)
    crs = Crs(crs)
    if crs in (Crs.WGS84, Crs.CGCS2000):
        return lon, lat
    if crs is Crs.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    return bd09_to_wgs84(lon, lat)


# --- vectorised ----------------------------------------------------------------------


def _inside_china_many(lons: FloatArray, lats: FloatArray) -> NDArray[np.bool_]:
    return (lons >= CHINA_LON[0]) & (lons <= CHINA_LON[1]) & (lats >= CHINA_LAT[0]) & (lats <= CHINA_LAT[1])


def wgs84_to_gcj02_many(lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
    lons, lats = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    inside = _inside_china_many(lons, lats)
    dlon, dlat = _gcj_delta(lons, lats, np.sin, np.cos, np.sqrt)
    return np.where(inside, lons + dlon, lons), np.where(inside, lats + dlat, lats)


def gcj02_to_wgs84_many(lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
    lons, lats = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    inside = _inside_china_many(lons, lats)
    wlon, wlat = lons.copy(), lats.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        glon, glat = wgs84_to_gcj02_many(wlon, wlat)
        elon, elat = glon - lons, glat - lats
        wlon -= elon
        wlat -= elat
        if not np.any((np.abs(elon) >= _INVERSE_TOLERANCE_DEG) | (np.abs(elat) >= _INVERSE_TOLERANCE_DEG)):
            break
    return np.where(inside, wlon, lons), np.where(inside, wlat, lats)


def gcj02_to_bd09_many(lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.hypot(lons, lats) + 0.00002 * np.sin(lats * _BD_X_PI)
    theta = np.arctan2(lats, lons) + 0.000003 * np.cos(lons * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def bd09_to_gcj02_many(lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
    x, y = np.asarray(lons, dtype=np.float64) - _BD_DLON, np.asarray(lats, dtype=np.float64) - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def to_wgs84_many(lons: FloatArray, lats: FloatArray, crs: Crs | str) -> tuple[FloatArray, FloatArray]:
    """Arrays in the declared CRS to WGS84. Non-finite values stay NaN-like (caller checks)."""
    lons, lats = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    crs = Crs(crs)
    if crs in (Crs.WGS84, Crs.CGCS2000):
        return lons.copy(), lats.copy()
    if crs is Crs.GCJ02:
        return gcj02_to_wgs84_many(lons, lats)
    return gcj02_to_wgs84_many(*bd09_to_gcj02_many(lons, lats))
