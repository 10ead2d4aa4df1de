"""The shipped files of a reference district, written and read back exactly.

Layers are GeoJSON FeatureCollections in the same shape `yiwang geo import` accepts
(properties `layer`, `code`, `name`, `parent`); large files are gzipped with a zero
mtime so that a rebuild is byte-identical. Floats are written with Python's shortest
round-trip repr, so what is read back is bit-for-bit what was generated.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from geo.reference.district import Area, Building, Grid, Level, ReferenceDistrict, Street, Worker

DATA_DIR = Path(__file__).resolve().parent / "data"
WORKER_FIELDS = (
    "worker_id",
    "name",
    "force",
    "is_role",
    "level",
    "street_code",
    "community_code",
    "grid_code",
    "roster",
    "phone",
    "home_lon",
    "home_lat",
)
BUILDING_FIELDS = ("building_id", "address", "lon", "lat", "grid_code")


def _feature(
    layer: str, code: str, name: str, parent: str, geometry: Polygon | MultiPolygon, **extra: Any
) -> dict[str, Any]:
    props = {"layer": layer, "code": code, "name": name, "parent": parent, **extra}
    return {"type": "Feature", "id": code, "properties": props, "geometry": mapping(geometry)}


def _collection(features: list[dict[str, Any]]) -> bytes:
    doc = {"type": "FeatureCollection", "features": features}
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as fh:
        fh.write(data)
    return buf.getvalue()


def _csv(header: tuple[str, ...], rows: Iterator[tuple[object, ...]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


def layer_files(d: ReferenceDistrict) -> dict[str, bytes]:
    """Every data file of the district, by file name."""
    district = _feature(
        "district",
        d.code,
        d.name,
        "",
        d.outline,
        city=d.city,
        effective_from=d.effective_from.isoformat(),
        centre=list(d.centre),
    )
    streets = [
        _feature("street", s.code, s.name, s.parent_code, s.geometry, low_lying=s.low_lying)
        for s in d.streets
    ]
    communities = [_feature("community", c.code, c.name, c.parent_code, c.geometry) for c in d.communities]
    grids = [
        _feature("grid", g.code, g.name, g.parent_code, g.geometry, street=g.street_code) for g in d.grids
    ]
    buildings = ((b.building_id, b.address, repr(b.lon), repr(b.lat), b.grid_code) for b in d.buildings)
    workers = (
        (
            w.worker_id,
            w.name,
            w.force,
            int(w.is_role),
            w.level.value,
            w.street_code or "",
            w.community_code or "",
            w.grid_code or "",
            w.roster,
            w.phone,
            repr(w.home_lon),
            repr(w.home_lat),
        )
        for w in d.workers
    )
    return {
        "district.geojson": _collection([district]),
        "streets.geojson": _collection(streets),
        "communities.geojson.gz": _gzip(_collection(communities)),
        "grids.geojson.gz": _gzip(_collection(grids)),
        "buildings.csv.gz": _gzip(_csv(BUILDING_FIELDS, buildings)),
        "workers.csv.gz": _gzip(_csv(WORKER_FIELDS, workers)),
    }


def write_district(d: ReferenceDistrict, out: Path, manifest: dict[str, Any]) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    digests: dict[str, str] = {}
    for name, data in layer_files(d).items():
        (out / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    manifest = {**manifest, "source": d.source, "files": digests}
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return digests


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def read_features(path: Path) -> list[dict[str, Any]]:
    doc = json.loads(_read(path))
    return list(doc["features"])


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_read(path).decode())))


def _geometry(feature: dict[str, Any]) -> Polygon | MultiPolygon:
    geom = shape(feature["geometry"])
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ValueError(f"feature {feature.get('id')}: not a polygon")
    return geom


def read_district(folder: Path) -> ReferenceDistrict:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    (district,) = read_features(folder / "district.geojson")
    props = district["properties"]
    streets = tuple(
        Street(
            f["properties"]["code"],
            f["properties"]["name"],
            f["properties"]["parent"],
            _geometry(f),
            bool(f["properties"]["low_lying"]),
        )
        for f in read_features(folder / "streets.geojson")
    )
    communities = tuple(
        Area(f["properties"]["code"], f["properties"]["name"], f["properties"]["parent"], _geometry(f))
        for f in read_features(folder / "communities.geojson.gz")
    )
    grids = tuple(
        Grid(
            f["properties"]["code"],
            f["properties"]["name"],
            f["properties"]["parent"],
            _geometry(f),
            f["properties"]["street"],
        )
        for f in read_features(folder / "grids.geojson.gz")
    )
    buildings = tuple(
        Building(r["building_id"], r["address"], float(r["lon"]), float(r["lat"]), r["grid_code"])
        for r in _rows(folder / "buildings.csv.gz")
    )
    workers = tuple(
        Worker(
            worker_id=r["worker_id"],
            name=r["name"],
            force=r["force"],
            is_role=r["is_role"] == "1",
            level=Level(r["level"]),
            street_code=r["street_code"] or None,
            community_code=r["community_code"] or None,
            grid_code=r["grid_code"] or None,
            roster=r["roster"],
            home_lon=float(r["home_lon"]),
            home_lat=float(r["home_lat"]),
            phone=r["phone"],
        )
        for r in _rows(folder / "workers.csv.gz")
    )
    return ReferenceDistrict(
        code=props["code"],
        name=props["name"],
        city=props["city"],
        effective_from=datetime.fromisoformat(props["effective_from"]),
        centre=(float(props["centre"][0]), float(props["centre"][1])),
        outline=_geometry(district),
        streets=streets,
        communities=communities,
        grids=grids,
        buildings=buildings,
        workers=workers,
        low_lying=frozenset(s.code for s in streets if s.low_lying),
        source=str(manifest["source"]),
    )
