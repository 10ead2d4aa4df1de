"""`geo import`: refused files name every bad feature and load nothing; good ones add a
layer version, keep history, and lookups use the version in force at the report's time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import shapely
from shapely.geometry import Polygon, mapping
from sqlalchemy import Connection, func, select

from geo import models, service
from geo.index import NoLayerInForce, load_indexes
from geo.layers import LayerError, parse_features
from geo.reference import ReferenceDistrict

pytestmark = pytest.mark.db
SH = ZoneInfo("Asia/Shanghai")


def feature(fid: str, layer: str, code: str, geom: Any, name: str | None = None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "properties": {"layer": layer, "code": code, "name": name or f"{layer} {code}"},
        "geometry": mapping(geom),
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def grids_of(reference: ReferenceDistrict, community: str) -> list[Any]:
    return sorted((g for g in reference.grids if g.parent_code == community), key=lambda g: g.code)


def grid_layer(
    reference: ReferenceDistrict,
    replace: dict[str, Any] | None = None,
    drop: set[str] = frozenset(),
    extra: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """The reference grid layer with some grids redrawn, dropped or added (ids 'G-<code>')."""
    replace = replace or {}
    feats = [
        feature(f"G-{g.code}", "grid", g.code, replace.get(g.code, g.geometry), g.name)
        for g in reference.grids
        if g.code not in drop
    ]
    return collection(*feats, *extra)


def counts(conn: Connection) -> tuple[int, int, int]:
    return (
        conn.scalar(select(func.count()).select_from(models.LayerVersion)) or 0,
        conn.scalar(select(func.count()).select_from(models.GridArea)) or 0,
        conn.scalar(select(func.count()).select_from(models.Street)) or 0,
    )


def refused(conn: Connection, doc: dict[str, Any], when: datetime) -> list[str]:
    before = counts(conn)
    with pytest.raises(LayerError) as info:
        service.import_layers(conn, parse_features(doc), effective_from=when, source="test")
    assert counts(conn) == before  # nothing half-loaded
    return info.value.problems


WHEN = datetime(2025, 1, 1, tzinfo=SH)


def test_invalid_geometry_names_the_feature(
    db_connection: Connection, loaded: int, reference: ReferenceDistrict
) -> None:
    g = reference.grids[0]
    x0, y0, x1, y1 = g.geometry.bounds
    bowtie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    problems = refused(db_connection, grid_layer(reference, replace={g.code: bowtie}), WHEN)
    assert any(p.startswith(f"feature G-{g.code}: invalid geometry: Self-intersection") for p in problems), (
        problems
    )


def test_overlap_names_both_features(
    db_connection: Connection, loaded: int, reference: ReferenceDistrict
) -> None:
    a, b = grids_of(reference, "500106001001")[:2]
    bigger = shapely.union(a.geometry, b.geometry.buffer(-1e-5))
    problems = refused(db_connection, grid_layer(reference, replace={a.code: bigger}), WHEN)
    assert any(f"features G-{a.code} and G-{b.code} overlap by" in p for p in problems), problems


def test_gap_names_the_parent(db_connection: Connection, loaded: int, reference: ReferenceDistrict) -> None:
    victim = grids_of(reference, "500106002003")[1]
    problems = refused(db_connection, grid_layer(reference, drop={victim.code}), WHEN)
    assert any(
        p.startswith("feature 500106002003 (carried over): gap of") and "not covered by any grid" in p
        for p in problems
    ), problems


def test_orphan_names_the_feature(
    db_connection: Connection, loaded: int, reference: ReferenceDistrict
) -> None:
    stray = feature("lonely", "grid", "500106001999001", shapely.box(106.0, 29.0, 106.001, 29.001))
    problems = refused(db_connection, grid_layer(reference, extra=(stray,)), WHEN)
    assert any(
        p.startswith("feature lonely: orphan grid, its parent 500106001999 does not exist") for p in problems
    )


def test_bad_properties_are_refused_before_the_database(reference: ReferenceDistrict) -> None:
    doc = collection(
        feature("a", "grid", "12345", reference.grids[0].geometry),
        feature("b", "parish", "500106001001001", reference.grids[0].geometry),
        {
            "type": "Feature",
            "id": "c",
            "properties": {"layer": "grid", "code": "500106001001001", "name": "x"},
            "geometry": {"type": "Point", "coordinates": [106.4, 29.5]},
        },
    )
    with pytest.raises(LayerError) as info:
        parse_features(doc)
    text = "\n".join(info.value.problems)
    assert "feature a: properties.code must be 15 digits for a grid" in text
    assert "feature b: properties.layer must be one of" in text
    assert "feature c: geometry is Point, expected Polygon or MultiPolygon" in text


def test_all_or_nothing_when_the_write_fails_midway(
    db_connection: Connection, loaded: int, reference: ReferenceDistrict, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = grids_of(reference, "500106001001")[:2]
    merged = shapely.coverage_union_all([a.geometry, b.geometry])
    doc = grid_layer(reference, replace={a.code: merged}, drop={b.code})
    real = service._insert_grids

    def insert_then_fail(conn: Connection, version_id: int, grids: Any) -> None:
        real(conn, version_id, grids)
        assert conn.scalar(select(func.count()).where(models.GridArea.version_id == version_id)) == len(grids)
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "_insert_grids", insert_then_fail)
    before = counts(db_connection)
    with pytest.raises(RuntimeError, match="disk full"):
        service.import_layers(db_connection, parse_features(doc), effective_from=WHEN, source="test")
    assert counts(db_connection) == before
    assert service.list_versions(db_connection)[-1].effective_to is None


def test_redrawn_layer_keeps_history_and_lookups_follow_the_date(
    db_connection: Connection, loaded: int, reference: ReferenceDistrict
) -> None:
    a, b = grids_of(reference, "500106001001")[:2]
    merged = shapely.coverage_union_all([a.geometry, b.geometry])
    doc = grid_layer(reference, replace={a.code: merged}, drop={b.code})
    indexes = load_indexes(db_connection)
    assert indexes.refresh(db_connection) is False

    result = service.import_layers(db_connection, parse_features(doc), effective_from=WHEN, source="redrawn")
    assert result.created
    old, new = service.list_versions(db_connection)[-2:]
    assert (old.id, old.effective_to, new.id, new.effective_from, new.effective_to) == (
        loaded,
        WHEN,
        result.version_id,
        WHEN,
        None,
    )
    assert (
        db_connection.scalar(select(func.count()).where(models.GridArea.version_id == old.id)) == 940
    )  # kept
    assert db_connection.scalar(select(func.count()).where(models.GridArea.version_id == new.id)) == 939
    assert (
        db_connection.scalar(select(func.count()).where(models.Street.version_id == new.id)) == 22
    )  # carried

    assert indexes.refresh(db_connection) is True  # picked up without a restart
    assert indexes.refresh(db_connection) is False
    p = b.geometry.representative_point()
    assert indexes.at(datetime(2024, 6, 1, tzinfo=SH)).locate(p.x, p.y).grid_code == b.code
    assert indexes.at(datetime(2025, 6, 1, tzinfo=SH)).locate(p.x, p.y).grid_code == a.code
    assert indexes.at(WHEN).layer_version == new.id  # effective_from is inclusive
    with pytest.raises(NoLayerInForce):
        indexes.at(datetime(2019, 12, 31, tzinfo=SH))
    assert service.locate_in_postgis(db_connection, old.id, [p.x], [p.y]) == [b.code]
    assert service.locate_in_postgis(db_connection, new.id, [p.x], [p.y]) == [a.code]

    again = service.import_layers(
        db_connection, parse_features(doc), effective_from=datetime(2025, 2, 1, tzinfo=SH), source="redrawn"
    )
    assert not again.created and "nothing loaded" in again.message
    problems = refused(db_connection, doc, datetime(2024, 12, 1, tzinfo=SH))
    assert "history is append-only" in problems[0]
