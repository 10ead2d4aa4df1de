"""Links that open a place in the phone's map app. Amap (高德) takes GCJ-02 and Baidu BD-09, so
a stored WGS84 point is converted first (`geo.coords`); a link with WGS84 degrees would put the
pin 50-500 m off in China.

>>> links = map_links(106.45, 29.56, "井盖缺失")
>>> links.amap
'https://uri.amap.com/marker?position=106.453981,29.557421&name=%E4%BA%95%E7%9B%96%E7%BC%BA%E5%A4%B1&src=yiwang&coordinate=gaode&callnative=1'
>>> links.baidu.startswith("https://api.map.baidu.com/marker?location=29.563")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from geo.coords import check_lonlat, wgs84_to_bd09, wgs84_to_gcj02


@dataclass(frozen=True, slots=True)
class MapLinks:
    gcj02: tuple[float, float]
    bd09: tuple[float, float]
    amap: str
    baidu: str


def map_links(lon: float, lat: float, name: str) -> MapLinks:
    """Amap and Baidu marker links for a WGS84 point (6 decimals: ~0.1 m)."""
    check_lonlat(lon, lat)
    glon, glat = (round(v, 6) for v in wgs84_to_gcj02(lon, lat))
    blon, blat = (round(v, 6) for v in wgs84_to_bd09(lon, lat))
    title = quote(name[:40])
    amap = f"https://uri.amap.com/marker?position={glon},{glat}&name={title}&src=yiwang&coordinate=gaode&callnative=1"
    baidu = (
        f"https://api.map.baidu.com/marker?location={blat},{blon}&title={title}&content={title}"
        "&output=html&coord_type=bd09ll&src=yiwang"
    )
    return MapLinks((glon, glat), (blon, blat), amap, baidu)
