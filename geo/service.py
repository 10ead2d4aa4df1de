"""Reading and writing layer versions, buildings and workers in PostGIS (the SQL edge).

Every write is one transaction on the caller's connection (a savepoint when the caller
already has one open): a refused or failing import leaves nothing behind. Rows go in with
multi-row inserts in batches, never one commit per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from geo import models
from geo.gazetteer import CityGazetteer, DistrictNames, Gazetteer, place_names
from geo.layers import Feature, LayerError, LayerSet, as_multipolygon, combine, validate
from geo.models import SRID
from geo.records import GridRecord, StreetRecord
from geo.reference.district import Building, ReferenceDistrict, Worker

BATCH = 2000
_LOCK = 0x6765_6F00  # pg_advisory_xact_lock key: one layer import at a time


@dataclass(frozen=True, slots=True)
class VersionInfo:
    id: int
    district_code: str
    effective_from: datetime
    effective_to: datetime | None
    source: str
    content_sha256: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    version_id: int
    created: bool
    message: str


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("effective dates must be timezone-aware")
    return when


def list_versions(conn: Connection, district_code: str | None = None) -> list[VersionInfo]:
    t = models.LayerVersion
    query = select(t.id, t.district_code, t.effective_from, t.effective_to, t.source, t.content_sha256)
    if district_code is not None:
        query = query.where(t.district_code == district_code)
    return [VersionInfo(*row) for row in conn.execute(query.order_by(t.effective_from))]


def in_force(versions: Iterable[VersionInfo], when: datetime) -> VersionInfo | None:
    """The version whose [effective_from, effective_to) holds `when` (aware datetime)."""
    _aware(when)
    for v in versions:
        if v.effective_from <= when and (v.effective_to is None or when < v.effective_to):
            return v
    return None


def in_force_by_district(versions: Iterable[VersionInfo], when: datetime | None) -> list[VersionInfo]:
    """Each district's layer version in force at `when` (aware), one per district in code order;
    a district with none in force then (its first version takes effect later) is left out.
    `when=None`: each district's newest version, whether or not it has taken effect yet.

    What the intake's index places a report with at its time, what the intake's and the
    residents' gazetteers read their place names from (the newest), and which districts' names
    the dead-letter desk reads an address with (those in force now) are all this one rule.

    >>> from datetime import UTC
    >>> v = lambda i, code, year: VersionInfo(i, code, datetime(year, 1, 1, tzinfo=UTC), None, "", "")
    >>> history = [v(1, "500106", 2020), v(2, "500107", 2020), v(3, "500106", 2030)]
    >>> [x.id for x in in_force_by_district(history, datetime(2026, 1, 1, tzinfo=UTC))]
    [1, 2]
    >>> [x.id for x in in_force_by_district(history, None)]
    [3, 2]
    """
    by_district: dict[str, list[VersionInfo]] = defaultdict(list)
    for v in versions:
        by_district[v.district_code].append(v)
    out = []
    for code in sorted(by_district):
        history = sorted(by_district[code], key=lambda v: (v.effective_from, v.id))
        found = history[-1] if when is None else in_force(history, when)
        if found is not None:
            out.append(found)
    return out


def _features(
    conn: Connection, table: Any, layer: str, parent_col: str | None, version_id: int
) -> tuple[Feature, ...]:
    cols = [table.code, table.name, func.ST_AsBinary(table.geom)]
    if parent_col is not None:
        cols.append(getattr(table, parent_col))
    extra_col = table.low_lying if layer == "street" else None
    if extra_col is not None:
        cols.append(extra_col)
    out = []
    for row in conn.execute(select(*cols).where(table.version_id == version_id).order_by(table.code)):
        geom = as_multipolygon(shapely.from_wkb(bytes(row[2])))
        parent = row[3] if parent_col is not None else ""
        extra = {"low_lying": bool(row[4])} if extra_col is not None else {}
        out.append(Feature(row[0], layer, row[0], row[1], parent, geom, extra))
    return tuple(out)


def read_layer_set(conn: Connection, version_id: int) -> LayerSet:
    return LayerSet(
        {
            "district": _features(conn, models.District, "district", None, version_id),
            "street": _features(conn, models.Street, "street", "district_code", version_id),
            "community": _features(conn, models.Community, "community", "street_code", version_id),
            "grid": _features(conn, models.GridArea, "grid", "community_code", version_id),
        }
    )


def _batched(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(table), list(rows[start : start + BATCH]))


def _geom(geometry: shapely.Geometry) -> Any:
    return from_shape(geometry, srid=SRID)


def _insert_areas(conn: Connection, version_id: int, layers: LayerSet) -> None:
    (district,) = layers.get("district")
    _batched(
        conn,
        models.District,
        [
            {
                "version_id": version_id,
                "code": district.code,
                "name": district.name,
                "geom": _geom(district.geometry),
            }
        ],
    )
    _batched(
        conn,
        models.Street,
        [
            {
                "version_id": version_id,
                "code": f.code,
                "name": f.name,
                "district_code": f.parent,
                "low_lying": bool(f.extra.get("low_lying", False)),
                "geom": _geom(f.geometry),
            }
            for f in layers.get("street")
        ],
    )
    _batched(
        conn,
        models.Community,
        [
            {
                "version_id": version_id,
                "code": f.code,
                "name": f.name,
                "street_code": f.parent,
                "geom": _geom(f.geometry),
            }
            for f in layers.get("community")
        ],
    )
    _insert_grids(conn, version_id, layers.get("grid"))


def _insert_grids(conn: Connection, version_id: int, grids: tuple[Feature, ...]) -> None:
    _batched(
        conn,
        models.GridArea,
        [
            {
                "version_id": version_id,
                "code": f.code,
                "name": f.name,
                "community_code": f.parent,
                "street_code": f.parent[:9],
                "geom": _geom(f.geometry),
            }
            for f in grids
        ],
    )


def import_layers(
    conn: Connection, new: LayerSet, *, effective_from: datetime, source: str, tolerance_m2: float = 1.0
) -> ImportResult:
    """Validate `new` (plus carried-over layers) and write it as a new layer version.

    Refused with LayerError (every problem, with feature ids) before anything is written;
    history is append-only: a version must take effect after every existing one.
    """
    _aware(effective_from)
    with conn.begin_nested() if conn.in_transaction() else conn.begin():
        conn.execute(select(func.pg_advisory_xact_lock(_LOCK)))
        district_code = new.district_code() if new.get("district") else None
        if district_code is None:
            versions = list_versions(conn)
            district_code = versions[-1].district_code if versions else None
        history = list_versions(conn, district_code) if district_code else []
        later = [v for v in history if v.effective_from >= effective_from]
        if later:
            raise LayerError(
                [
                    f"layer version {later[-1].id} already takes effect at "
                    f"{later[-1].effective_from.isoformat()}; a new version must take effect later "
                    "(history is append-only)"
                ]
            )
        previous = history[-1] if history else None
        layers = combine(new, read_layer_set(conn, previous.id) if previous else None)
        problems = validate(layers, tolerance_m2)
        if problems:
            raise LayerError(problems)
        digest = layers.content_sha256()
        if previous is not None and previous.content_sha256 == digest:
            return ImportResult(
                previous.id,
                False,
                f"identical to layer version {previous.id} (in force since "
                f"{previous.effective_from.isoformat()}); nothing loaded",
            )
        version_id = conn.execute(
            insert(models.LayerVersion).returning(models.LayerVersion.id),
            {
                "district_code": layers.district_code(),
                "effective_from": effective_from,
                "source": source,
                "content_sha256": digest,
            },
        ).scalar_one()
        if previous is not None:
            conn.execute(
                update(models.LayerVersion)
                .where(models.LayerVersion.id == previous.id)
                .values(effective_to=effective_from)
            )
        _insert_areas(conn, version_id, layers)
    counts = ", ".join(f"{len(layers.get(k))} {k}" for k in ("street", "community", "grid"))
    return ImportResult(
        version_id, True, f"layer version {version_id} in force from {effective_from.isoformat()}: {counts}"
    )


def reference_layers(d: ReferenceDistrict) -> LayerSet:
    def feature(layer: str, code: str, name: str, parent: str, geom: Any, **extra: Any) -> Feature:
        return Feature(code, layer, code, name, parent, as_multipolygon(geom), extra)

    return LayerSet(
        {
            "district": (feature("district", d.code, d.name, "", d.outline),),
            "street": tuple(
                feature("street", s.code, s.name, s.parent_code, s.geometry, low_lying=s.low_lying)
                for s in d.streets
            ),
            "community": tuple(
                feature("community", c.code, c.name, c.parent_code, c.geometry) for c in d.communities
            ),
            "grid": tuple(feature("grid", g.code, g.name, g.parent_code, g.geometry) for g in d.grids),
        }
    )


def upsert_buildings(conn: Connection, buildings: Iterable[Building], gazetteer: Gazetteer) -> int:
    rows = [
        {
            "building_id": b.building_id,
            "address": b.address,
            "address_norm": gazetteer.normalise(b.address),
            "lon": b.lon,
            "lat": b.lat,
            "grid_code": b.grid_code,
            "geom": _geom(Point(b.lon, b.lat)),
        }
        for b in buildings
    ]
    stmt = pg_insert(models.BuildingRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=[models.BuildingRow.building_id],
        set_={c: stmt.excluded[c] for c in ("address", "address_norm", "lon", "lat", "grid_code", "geom")},
    )
    for start in range(0, len(rows), BATCH):
        conn.execute(stmt, rows[start : start + BATCH])
    return len(rows)


def upsert_workers(
    conn: Connection, workers: Iterable[Worker], *, district_code: str, overwrite: bool = True
) -> int:
    """Write workers of one district by id; `overwrite=False` only adds the missing ones (the
    reference set: once a district imports its roster, the rows are the district's, not the
    generator's)."""
    rows = [
        {
            "worker_id": w.worker_id,
            "district_code": district_code,
            "name": w.name,
            "force": w.force,
            "is_role": w.is_role,
            "level": w.level.value,
            "street_code": w.street_code,
            "community_code": w.community_code,
            "grid_code": w.grid_code,
            "roster": w.roster,
            "phone": w.phone,
            "home_lon": w.home_lon,
            "home_lat": w.home_lat,
            "home": _geom(Point(w.home_lon, w.home_lat)),
        }
        for w in workers
    ]
    stmt = pg_insert(models.WorkerRow)
    stmt = (
        stmt.on_conflict_do_update(
            index_elements=[models.WorkerRow.worker_id],
            set_={c: stmt.excluded[c] for c in rows[0] if c != "worker_id"}
            if rows
            else {"name": stmt.excluded.name},
        )
        if overwrite
        else stmt.on_conflict_do_nothing(index_elements=[models.WorkerRow.worker_id])
    )
    for start in range(0, len(rows), BATCH):
        conn.execute(stmt, rows[start : start + BATCH])
    return len(rows)


def load_reference_set(
    conn: Connection, d: ReferenceDistrict, *, effective_from: datetime | None = None
) -> list[str]:
    """`yiwang geo load`: the reference layers as a version (unless already in force), then
        buildings (upserted) and the reference workers missing from the directory (added; people
    already there keep what `yiwang people import` gave them). Returns what happened, one line each."""
    with conn.begin_nested() if conn.in_transaction() else conn.begin():
        result = (
            import_layers(
                conn, reference_layers(d), effective_from=effective_from or d.effective_from, source=d.source
            )
            if not _reference_loaded(conn, d)
            else None
        )
        gazetteer = Gazetteer.from_reference(d)
        n_buildings = upsert_buildings(conn, d.buildings, gazetteer)
        n_workers = upsert_workers(conn, d.workers, district_code=d.code, overwrite=False)
    layers = result.message if result else "reference layers already loaded; nothing changed"
    return [layers, f"{n_buildings} buildings upserted, {n_workers} reference workers present"]


def _reference_loaded(conn: Connection, d: ReferenceDistrict) -> bool:
    t = models.LayerVersion
    found = conn.execute(select(t.id).where(t.source == d.source, t.district_code == d.code)).first()
    return found is not None


def load_buildings(conn: Connection) -> list[Building]:
    t = models.BuildingRow
    rows = conn.execute(select(t.building_id, t.address, t.lon, t.lat, t.grid_code).order_by(t.building_id))
    return [Building(*row) for row in rows]


def gazetteer_from_db(conn: Connection, *version_ids: int) -> Gazetteer:
    """Every building, with the street and community names of the given layer versions (one per
    district a deployment serves)."""
    streets = conn.execute(
        select(models.Street.name).where(models.Street.version_id.in_(version_ids))
    ).scalars()
    comms = conn.execute(
        select(models.Community.name).where(models.Community.version_id.in_(version_ids))
    ).scalars()
    return Gazetteer(load_buildings(conn), place_names(list(streets), list(comms)))


def district_names(conn: Connection, *version_ids: int) -> list[DistrictNames]:
    """The district of each given layer version (one per district) with its streets' and
    communities' names: what an address may name to say which district it is in."""
    d, st, c = models.District, models.Street, models.Community
    streets: dict[int, list[str]] = defaultdict(list)
    communities: dict[int, list[str]] = defaultdict(list)
    for version, name in conn.execute(select(st.version_id, st.name).where(st.version_id.in_(version_ids))):
        streets[version].append(name)
    for version, name in conn.execute(select(c.version_id, c.name).where(c.version_id.in_(version_ids))):
        communities[version].append(name)
    rows = conn.execute(select(d.version_id, d.code, d.name).where(d.version_id.in_(version_ids)))
    return [
        DistrictNames(code, name, tuple(sorted(streets[v])), tuple(sorted(communities[v])))
        for v, code, name in sorted(rows, key=lambda r: r[1])
    ]


def city_gazetteer_from_db(conn: Connection, *version_ids: int) -> CityGazetteer:
    """One gazetteer per district of the given layer versions, each with the buildings of its
    own grids (a building's district is its grid code's first six digits)."""
    buildings: dict[str, list[Building]] = defaultdict(list)
    for b in load_buildings(conn):
        buildings[b.grid_code[:6]].append(b)
    return CityGazetteer((n, buildings[n.code]) for n in district_names(conn, *version_ids))


@dataclass(frozen=True, slots=True)
class IndexInputs:
    grids: list[GridRecord]
    streets: list[StreetRecord]
    outline: shapely.Geometry


def read_index_inputs(conn: Connection, version_id: int) -> IndexInputs:
    """Grids with their community and street names, streets and the outline of one version."""
    g, c, st, d = models.GridArea, models.Community, models.Street, models.District
    rows = conn.execute(
        select(g.code, g.name, g.community_code, c.name, g.street_code, st.name, func.ST_AsBinary(g.geom))
        .join(c, (c.version_id == g.version_id) & (c.code == g.community_code))
        .join(st, (st.version_id == g.version_id) & (st.code == g.street_code))
        .where(g.version_id == version_id)
        .order_by(g.code)
    )
    grids = [
        GridRecord(code, name, comm, comm_name, street, street_name, shapely.from_wkb(bytes(wkb)))
        for code, name, comm, comm_name, street, street_name, wkb in rows
    ]
    streets = [
        StreetRecord(code, name, shapely.from_wkb(bytes(wkb)))
        for code, name, wkb in conn.execute(
            select(st.code, st.name, func.ST_AsBinary(st.geom)).where(st.version_id == version_id)
        )
    ]
    outline = shapely.from_wkb(
        bytes(conn.execute(select(func.ST_AsBinary(d.geom)).where(d.version_id == version_id)).scalar_one())
    )
    return IndexInputs(grids, streets, outline)


_COVERING_GRID = """
SELECT (SELECT g.code FROM geo_grid g
        WHERE g.version_id = :version AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))
        ORDER BY g.code LIMIT 1)
FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS p(x, y, i)
ORDER BY p.i
"""


def locate_in_postgis(
    conn: Connection, version_id: int, lons: Sequence[float], lats: Sequence[float]
) -> list[str | None]:
    """The lookup rule as PostGIS states it, for a batch of points in one query.

    The in-memory index must give the same answer for every point; tests and the
    benchmark compare the two.
    """
    rows = conn.execute(text(_COVERING_GRID), {"version": version_id, "xs": list(lons), "ys": list(lats)})
    return [row[0] for row in rows]
