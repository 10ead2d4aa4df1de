"""Two reference districts in one deployment: each report placed by the outline it falls in,
outside every district to the city desk with the reason; `yiwang geo load` loading both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, create_engine

from config.policy import load_taxonomy
from config.settings import Settings
from deploy.cli import main
from dispatch.intake.locate import Locator
from geo import service
from geo.city import CITY_DESK, CityIndex, load_city
from geo.desks import Desks, foreign_area
from geo.gazetteer import Gazetteer
from geo.index import GridIndex, index_from_reference
from geo.reference import ReferenceDistrict, load_reference
from geo.reference.build import main as build
from geo.reference.params import PARAMS_FILE
from schemas.report import report_id_for
from schemas.report_struct import ReportStruct, decode_report
from tests.conftest import own_topics_and_database


@pytest.fixture(scope="module")
def both() -> tuple[ReferenceDistrict, ReferenceDistrict]:
    return load_reference("shapingba"), load_reference("jiulongpo")


@pytest.fixture(scope="module")
def city(both: tuple[ReferenceDistrict, ReferenceDistrict]) -> CityIndex:
    return CityIndex([index_from_reference(d) for d in both])


def test_the_second_district_is_generated_from_its_real_outline(
    both: tuple[ReferenceDistrict, ReferenceDistrict],
) -> None:
    spb, jlp = both
    assert (jlp.code, jlp.name, len(jlp.streets), len(jlp.communities), len(jlp.grids)) == (
        "500107",
        "九龙坡区",
        19,
        219,
        1287,
    )
    area_km2 = jlp.outline.area * 111_000 * 96_700 / 1e6
    assert 420 < area_km2 < 445  # the district's published area is 432 km²
    # the two Amap outlines share a border and do not overlap (a sliver, not a district)
    assert shapely.intersection(spb.outline, jlp.outline).area < 1e-6 * jlp.outline.area
    assert shapely.intersects(spb.outline.buffer(1e-4), jlp.outline)
    assert all(g.code.startswith("500107") for g in jlp.grids)
    assert {w.grid_code[:6] for w in jlp.workers if w.grid_code} == {"500107"}


def test_each_grid_is_placed_in_its_own_district(
    city: CityIndex, both: tuple[ReferenceDistrict, ReferenceDistrict]
) -> None:
    for d in both:
        points = [g.geometry.representative_point() for g in d.grids[::7]]
        lons = np.array([p.x for p in points])
        lats = np.array([p.y for p in points])
        placed = city.placements(lons, lats)
        assert [p.grid_code for p in placed] == [g.code for g in d.grids[::7]]
        assert {p.district_code for p in placed} == {d.code}
        assert all(p.fallback_reason is None for p in placed)


def test_outside_every_district_goes_to_the_city_desk_with_the_reason(city: CityIndex) -> None:
    outside = city.locate(106.60, 29.56)  # Yuzhong, east of both outlines
    assert outside.district_code == CITY_DESK and outside.grid_code is None
    assert (
        outside.fallback_reason
        == "outside every district (500106, 500107): to the city desk (城市运行管理中心)"
    )
    assert city.fallback(float("nan"), 29.5).fallback_reason == (
        "coordinates are not finite numbers: to the city desk (城市运行管理中心)"
    )
    assert city.fallback_for("no coordinates and no address").district_code == CITY_DESK


def test_a_gap_inside_one_district_stays_with_that_district(
    both: tuple[ReferenceDistrict, ReferenceDistrict],
) -> None:
    spb, jlp = both
    hole = jlp.grids[5]
    held = index_from_reference(jlp)
    without = GridIndex(
        [g for g in held.grids if g.code != hole.code],
        district_code=jlp.code,
        layer_version=held.layer_version,
        outline=jlp.outline,
    )
    city = CityIndex([index_from_reference(spb), without])
    p = hole.geometry.representative_point()
    placed = city.locate(p.x, p.y)
    assert placed.district_code == "500107" and placed.grid_code is None
    assert placed.fallback_reason is not None and "属地兜底" in placed.fallback_reason


def _report(lon: float, lat: float, n: int) -> ReportStruct:
    return _hotline(f'{{"lon":{lon!r},"lat":{lat!r},"crs":"wgs84"}}', f"c-{n}")


def _typed(address: str, n: int) -> ReportStruct:
    """A 12345 report with an address and no point."""
    return _hotline(f'{{"address":"{address}"}}', f"a-{n}")


def _hotline(location: str, ref: str) -> ReportStruct:
    at = datetime(2026, 11, 25, 2, 0, tzinfo=UTC).isoformat()
    doc = (
        f'{{"report_id":"{report_id_for("hotline", ref)}","source":"hotline","source_ref":"{ref}",'
        f'"reported_at":"{at}","received_at":"{at}","category":"exposed_garbage","priority":"P3",'
        f'"location":{location},"raw":{{"format":"json","text":"{{}}"}}}}'
    )
    report, _ = decode_report(doc.encode())
    return report


@pytest.fixture(scope="module")
def two_districts(services: Settings) -> Iterator[Settings]:
    """A database of its own: the other tests' session database holds one district."""
    with own_topics_and_database(services, "districts") as settings:
        yield settings


@pytest.mark.db
def test_geo_load_loads_both_and_the_intake_places_by_outline(
    two_districts: Settings,
    both: tuple[ReferenceDistrict, ReferenceDistrict],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("YIWANG_PG_DATABASE", two_districts.pg_database)
    if two_districts.database_url:
        monkeypatch.setenv("DATABASE_URL", two_districts.database_url)
    assert main(["geo", "load", "--district", "shapingba", "--district", "jiulongpo"]) == 0
    err = capsys.readouterr().err
    assert "沙坪坝区 (500106): layer version" in err and "九龙坡区 (500107): layer version" in err
    assert "城市运行管理中心 (city): duty desk city-district_center-1 over 500106, 500107" in err
    assert main(["locate", "106.60", "29.56"]) == 0
    located = json.loads(capsys.readouterr().out)
    assert (located["district_code"], located["grid_code"]) == (CITY_DESK, None)
    assert main(["locate", "--address", "重庆市九龙坡区梅岭街1号1栋"]) == 0
    assert json.loads(capsys.readouterr().out)["district_code"] == "500107"
    engine = create_engine(two_districts.db_url)
    try:
        with engine.connect() as conn:
            now = datetime.now(UTC)
            in_force = {v.district_code for v in service.list_versions(conn) if v.effective_to is None}
            assert in_force == {"500106", "500107"}
            indexes = load_city(conn)
    finally:
        engine.dispose()
    spb, jlp = both
    points = [
        spb.grids[100].geometry.representative_point(),
        jlp.grids[100].geometry.representative_point(),
        shapely.Point(106.60, 29.56),
    ]
    locator = Locator(indexes, Gazetteer([]), load_taxonomy())
    placed = locator.locate([_report(p.x, p.y, i) for i, p in enumerate(points)], now + timedelta(seconds=1))
    assert [(r.district_code, r.grid_code) for r in placed] == [
        ("500106", spb.grids[100].code),
        ("500107", jlp.grids[100].code),
        (CITY_DESK, None),
    ]
    assert placed[2].placement_reason is not None and "outside every district" in placed[2].placement_reason

    # address-only reports, by the worker's gazetteers (one per district, as streams/runtime.py loads)
    with engine.connect() as conn:
        locator = Locator(indexes, service.city_gazetteer_from_db(conn, *indexes.newest()), load_taxonomy())
    engine.dispose()
    named = next(b for b in jlp.buildings if b.address.startswith("重庆市九龙坡区"))
    jlp_bare = {b.address.removeprefix("重庆市九龙坡区"): b for b in jlp.buildings}
    shared = next(a for b in spb.buildings if (a := b.address.removeprefix("重庆市沙坪坝区")) in jlp_bare)
    only_jlp = next(a for a in jlp_bare if locator.gazetteer.answer(a).district == "500107")  # 九龙坡's alone
    typed = [named.address, shared, only_jlp]
    placed = locator.locate([_typed(a, i) for i, a in enumerate(typed)], now + timedelta(seconds=1))
    assert (placed[0].district_code, placed[0].grid_code) == ("500107", named.grid_code)
    assert placed[1].grid_code is None  # never a guess at which district's building
    assert "not certain which" in str(placed[1].placement_reason)
    assert (placed[2].district_code, placed[2].grid_code) == ("500107", jlp_bare[only_jlp].grid_code)


def test_the_shipped_second_district_is_what_its_parameters_and_sources_make() -> None:
    assert build(["--params", str(PARAMS_FILE.with_name("jiulongpo.toml")), "--check"]) == 0


def test_desks_and_alert_areas_of_either_district(city: CityIndex) -> None:
    desks = Desks(city)
    street = desks.by_code("500107001")
    assert street is not None and (street.district_code, street.street_code) == ("500107", "500107001")
    community = desks.by_code("500106001001")
    assert community is not None and community.district_code == "500106"
    whole = desks.by_code("500107")
    assert (
        whole is not None
        and whole.district_code == "500107"
        and "names the district" in str(whole.fallback_reason)
    )
    assert desks.by_code("500108") is None
    assert not foreign_area(desks, {"geocodes": [{"value": "500107"}]})
    assert foreign_area(desks, {"geocodes": [{"value": "500108"}]})


@pytest.mark.db
def test_one_district_loaded_is_that_district_alone(engine: Engine, loaded: int) -> None:
    """The session database holds Shapingba alone: no city desk, 属地兜底 as before."""
    with engine.connect() as conn:
        indexes = load_city(conn)
    index = indexes.at(datetime.now(UTC))
    assert (indexes.district_code, index.district_code, index.layer_version) == ("500106", "500106", loaded)
    outside = index.locate(106.60, 29.56)
    assert outside.district_code == "500106" and "属地兜底" in str(outside.fallback_reason)
