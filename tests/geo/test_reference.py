"""The shipped reference district: counts, a clean partition, addresses, the workforce."""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import pytest
import shapely

from config.policy import load_workforce
from geo import lattice
from geo.reference import ReferenceDistrict, sources
from geo.reference.build import manifest_for
from geo.reference.generate import generate, wgs84_outline
from geo.reference.params import load_params
from geo.reference.store import DATA_DIR, layer_files
from geo.reference.workforce import weekly_hours


def km2(geom: shapely.Geometry) -> float:
    """Area on a local equal-area approximation (good to ~0.1 % at district scale)."""
    lat = geom.centroid.y
    return float(geom.area) * 111.320 * math.cos(math.radians(lat)) * 110.574


def test_counts(reference: ReferenceDistrict) -> None:
    assert (len(reference.streets), len(reference.communities), len(reference.grids)) == (22, 160, 940)
    assert len(reference.buildings) >= 10_000
    forces = Counter(w.force for w in reference.workers if not w.is_role)
    assert sum(forces.values()) == 2931
    assert set(forces) == set(load_workforce().forces)  # all 11 forces
    roles = Counter(w.force for w in reference.workers if w.is_role)
    assert roles == {"community_lead": 160, "street_center": 22, "district_center": 1}


def test_official_street_names_and_codes(reference: ReferenceDistrict) -> None:
    official = {s["code"]: s["name"] for s in sources.read_divisions()["streets"]}
    assert len(official) == 26  # 21 街道 + 5 镇 in the 2023 list
    for street in reference.streets:
        assert official[street.code] == street.name
    assert sum(s.name.endswith("街道") for s in reference.streets) == 21


def test_outline_is_the_converted_amap_polygon(reference: ReferenceDistrict) -> None:
    outline = wgs84_outline(sources.read_outline())
    assert km2(outline) == pytest.approx(396.85, rel=0.005)
    x0, y0, x1, y1 = outline.bounds
    assert (x0, x1) == pytest.approx((106.247, 106.491), abs=0.002)
    assert (y0, y1) == pytest.approx((29.495, 29.753), abs=0.002)
    # The district layer is the union of the grids: equal to the outline up to the
    # snapping of clipped vertices (< 0.1 m along the perimeter).
    assert shapely.symmetric_difference(reference.outline, outline).area * 111_320 * 96_800 < 2_000  # m²


def test_grids_are_a_clean_partition(reference: ReferenceDistrict) -> None:
    grids = np.asarray([g.geometry for g in reference.grids])
    assert all(shapely.is_valid(grids))
    assert shapely.coverage_is_valid(grids)  # no overlaps, edges match vertex for vertex
    union = shapely.coverage_union_all(grids)
    assert union.equals(reference.outline)
    assert sum(g.area for g in grids) == pytest.approx(reference.outline.area, rel=1e-9)
    assert all(lattice.on_lattice(g) for g in grids)
    assert all(isinstance(g, shapely.Polygon) for g in grids)


def test_hierarchy(reference: ReferenceDistrict) -> None:
    streets = {s.code: s for s in reference.streets}
    communities = {c.code: c for c in reference.communities}
    for c in reference.communities:
        assert c.parent_code in streets and c.code.startswith(c.parent_code) and len(c.code) == 12
        assert streets[c.parent_code].geometry.covers(c.geometry)
    for g in reference.grids:
        assert re.fullmatch(r"500106\d{9}", g.code)
        assert g.code[:12] == g.parent_code and g.street_code == g.parent_code[:9]
        assert communities[g.parent_code].geometry.covers(g.geometry)
    assert len({g.code for g in reference.grids}) == 940
    # Each community and street is exactly the union of its grids.
    by_comm: dict[str, list[shapely.Geometry]] = {}
    for g in reference.grids:
        by_comm.setdefault(g.parent_code, []).append(g.geometry)
    for code, geoms in by_comm.items():
        assert shapely.coverage_union_all(geoms).equals(communities[code].geometry)
    assert shapely.coverage_is_valid([c.geometry for c in reference.communities])
    assert shapely.coverage_is_valid([s.geometry for s in reference.streets])


def test_low_lying_streets(reference: ReferenceDistrict) -> None:
    assert 3 <= len(reference.low_lying) <= 6
    assert reference.low_lying <= {s.code for s in reference.streets}
    assert {s.code for s in reference.streets if s.low_lying} == reference.low_lying


def test_buildings_have_unique_addresses_inside_their_grid(reference: ReferenceDistrict) -> None:
    grids = {g.code: g.geometry for g in reference.grids}
    assert len({b.address for b in reference.buildings}) == len(reference.buildings)
    assert len({b.building_id for b in reference.buildings}) == len(reference.buildings)
    for b in reference.buildings:
        assert b.address.startswith("重庆市沙坪坝区")
        assert re.search(r"\d+号(\d+栋)?$", b.address), b.address
        assert grids[b.grid_code].covers(shapely.Point(b.lon, b.lat)), b.building_id
    per_grid = Counter(b.grid_code for b in reference.buildings)
    assert len(per_grid) > 900  # nearly every grid has buildings


def test_workers(reference: ReferenceDistrict) -> None:
    policy = load_workforce()
    grids = {g.code: g for g in reference.grids}
    communities = {c.code: c for c in reference.communities}
    assert len({w.worker_id for w in reference.workers}) == len(reference.workers)
    assert len({w.phone for w in reference.workers}) == len(reference.workers)
    rosters = weekly_hours()
    for w in reference.workers:
        assert re.fullmatch(r"100-\d{4}-\d{4}", w.phone)
        assert w.phone not in repr(w)
        assert w.roster in rosters
        assert 2 <= len(w.name) <= 3
        level = (policy.roles if w.is_role else policy.forces)[w.force].level
        assert w.level.value == level
        if level == "grid":
            assert w.grid_code is not None and grids[w.grid_code].geometry.covers(
                shapely.Point(w.home_lon, w.home_lat)
            )
        elif level == "community":
            assert w.grid_code is None and w.community_code in communities
            assert communities[w.community_code].geometry.covers(shapely.Point(w.home_lon, w.home_lat))
        else:
            assert w.grid_code is None and w.community_code is None
    assert all(w.grid_code for w in reference.workers if w.force == "grid_worker")
    assert {w.grid_code for w in reference.workers if w.force == "grid_worker"} == set(grids)


def test_every_grid_staffed_most_hours_and_duty_desks_all_day(reference: ReferenceDistrict) -> None:
    hours = weekly_hours()
    by_unit: dict[str, np.ndarray] = {}
    for w in reference.workers:
        if w.is_role:
            continue
        unit = w.grid_code or w.community_code
        assert unit is not None
        by_unit[unit] = by_unit.get(unit, np.zeros(168, bool)) | hours[w.roster]
    for g in reference.grids:
        covered = by_unit.get(g.code, np.zeros(168, bool)) | by_unit[g.parent_code]
        assert covered.sum() >= 16 * 7, g.code  # 07:00-23:00 every day at least
    desks = [w for w in reference.workers if w.force in {"street_center", "district_center"}]
    assert {w.street_code for w in desks if w.force == "street_center"} == {s.code for s in reference.streets}
    assert all(hours[w.roster].all() for w in desks)  # 24 h, 7 days


def test_shipped_files_are_what_the_generator_makes() -> None:
    """Reproducible: a fresh build from the committed sources is byte-identical."""
    params = load_params()
    manifest = (DATA_DIR / "shapingba" / "manifest.json").read_text(encoding="utf-8")
    district = generate(params, params_digest=manifest.split('"params_sha256": "')[1][:12])
    for name, data in layer_files(district).items():
        assert (DATA_DIR / "shapingba" / name).read_bytes() == data, name
    assert f'"source": "{district.source}"' in manifest
    assert manifest_for(district, "x")["counts"]["grids"] == 940


def test_counts_are_parameters() -> None:
    params = load_params(
        overrides=("counts.streets=5", "counts.communities=18", "counts.grids=60", "counts.buildings=400")
    )
    small = generate(params, "test")
    assert (len(small.streets), len(small.communities), len(small.grids)) == (5, 18, 60)
    assert len(small.buildings) == 400
    grids = [g.geometry for g in small.grids]
    assert shapely.coverage_is_valid(grids)
    assert shapely.coverage_union_all(grids).equals(small.outline)
    assert sum(1 for w in small.workers if w.force == "grid_worker") == 60
