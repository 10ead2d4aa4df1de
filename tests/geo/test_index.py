"""The in-memory index on its own: the covering rule, boundaries, fallbacks, neighbours."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from geo.coords import CoordinateError
from geo.index import GridIndex, GridRecord, StreetRecord
from geo.reference import ReferenceDistrict


def _record(code: str, geom: Polygon) -> GridRecord:
    return GridRecord(code, f"grid {code}", code[:12], "c", code[:9], "s", geom)


def brute_force(index: GridIndex, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Smallest index among covering polygons, by testing every polygon (slow, obvious)."""
    out = np.full(len(xs), -1)
    for i, g in reversed(list(enumerate(index.grids))):
        out[shapely.intersects_xy(g.geometry, xs, ys)] = i
    return out


@pytest.fixture
def toy() -> GridIndex:
    """Two squares sharing an edge at x = 1, a third overlapping the second, a gap at 3..4."""
    grids = [
        _record("500106001001002", box(1, 0, 2, 1)),
        _record("500106001001001", box(0, 0, 1, 1)),
        _record("500106001001003", box(1.5, 0, 3, 1)),
        _record("500106001002001", box(4, 0, 5, 1)),
    ]
    streets = [StreetRecord("500106001", "s", box(0, 0, 5, 1))]
    return GridIndex(grids, district_code="500106", layer_version=7, streets=streets, outline=box(0, 0, 5, 1))


def test_grids_sorted_by_code_and_shared_edge_goes_to_smaller_code(toy: GridIndex) -> None:
    assert [g.code for g in toy.grids] == sorted(g.code for g in toy.grids)
    assert toy.locate(1.0, 0.5).grid_code == "500106001001001"  # on the shared edge
    assert toy.locate(1.0, 0.0).grid_code == "500106001001001"  # shared vertex
    assert toy.locate(0.0, 0.0).grid_code == "500106001001001"  # outer vertex
    assert toy.locate(1.7, 0.5).grid_code == "500106001001002"  # overlap: smaller code
    assert toy.locate(2.5, 0.5).grid_code == "500106001001003"
    assert toy.locate(3.0, 1.0).grid_code == "500106001001003"  # corner, boundary counts


def test_fallback_reasons(toy: GridIndex) -> None:
    gap = toy.locate(3.5, 0.5)
    assert gap.grid_code is None and gap.district_code == "500106" and gap.layer_version == 7
    assert (
        gap.fallback_reason is not None
        and "inside the district but no grid of layer version 7" in gap.fallback_reason
    )
    far = toy.locate(10.0, 10.0)
    assert far.fallback_reason is not None and far.fallback_reason.startswith("outside the district outline")
    assert "属地兜底" in far.fallback_reason
    assert toy.locate(0.5, 0.5).fallback_reason is None


def test_bad_coordinates(toy: GridIndex) -> None:
    with pytest.raises(CoordinateError, match=r"^lat:"):
        toy.locate(0.5, math.nan)
    found = toy.locate_many(np.array([math.nan, 0.5, math.inf]), np.array([0.5, 0.5, 0.5]))
    assert found.tolist() == [-1, 0, -1]
    assert toy.placement(-1, math.nan, 0.5).fallback_reason.startswith("coordinates are not finite")  # type: ignore[union-attr]
    assert toy.locate_many(np.array([]), np.array([])).size == 0


def test_batch_equals_one_at_a_time_and_brute_force(toy: GridIndex) -> None:
    rng = np.random.default_rng(1)
    xs = np.concatenate([rng.uniform(-1, 6, 5000), np.repeat([0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0], 3)])
    ys = np.concatenate([rng.uniform(-1, 2, 5000), np.tile([0.0, 0.5, 1.0], 7)])
    many = toy.locate_many(xs, ys)
    assert np.array_equal(many, brute_force(toy, xs, ys))
    codes = [toy.grids[i].code if i >= 0 else None for i in many]
    assert codes == [toy.locate(x, y).grid_code for x, y in zip(xs.tolist(), ys.tolist(), strict=True)]


def test_reference_index_matches_brute_force(reference: ReferenceDistrict, ref_index: GridIndex) -> None:
    rng = np.random.default_rng(2)
    x0, y0, x1, y1 = reference.outline.bounds
    xs, ys = rng.uniform(x0 - 0.02, x1 + 0.02, 50_000), rng.uniform(y0 - 0.02, y1 + 0.02, 50_000)
    # every vertex and every edge midpoint of the first 200 grids: exactly on boundaries
    coords = np.concatenate([shapely.get_coordinates(g.geometry) for g in ref_index.grids[:200]])
    mids = (coords[:-1] + coords[1:]) / 2
    xs = np.concatenate([xs, coords[:, 0], mids[:, 0]])
    ys = np.concatenate([ys, coords[:, 1], mids[:, 1]])
    many = ref_index.locate_many(xs, ys)
    assert np.array_equal(many, brute_force(ref_index, xs, ys))
    sample = range(0, len(xs), 37)
    assert [ref_index.locate(xs[i], ys[i]).grid_code for i in sample] == [
        ref_index.grids[many[i]].code if many[i] >= 0 else None for i in sample
    ]


def test_placement_carries_the_hierarchy(reference: ReferenceDistrict, ref_index: GridIndex) -> None:
    grid = reference.grids[123]
    p = grid.geometry.representative_point()
    placement = ref_index.locate(p.x, p.y)
    assert placement.grid_code == grid.code and placement.grid_name == grid.name
    assert placement.community_code == grid.parent_code
    assert placement.community_name == reference.community(grid.parent_code).name
    assert placement.street_code == grid.street_code
    assert placement.street_name == reference.street(grid.street_code).name
    assert placement.to_dict()["fallback_reason"] is None


def test_streets_within(reference: ReferenceDistrict, ref_index: GridIndex) -> None:
    street = reference.street("500106001")
    inside = street.geometry.representative_point()
    assert "500106001" in ref_index.streets_within(inside.x, inside.y, 0)
    assert ref_index.streets_within(inside.x, inside.y, 50_000) == sorted(s.code for s in reference.streets)
    # A point on the border of two streets sees both at radius 0; 250 m east of the
    # district's easternmost vertex it sees one street at 300 m and none at 200 m.
    shared = shapely.intersection(street.geometry.boundary, reference.street("500106002").geometry.boundary)
    on_border = shapely.get_coordinates(shared)[0]
    assert {"500106001", "500106002"} <= set(ref_index.streets_within(*on_border, 0))
    coords = shapely.get_coordinates(reference.outline)
    east = coords[np.argmax(coords[:, 0])]
    lon = east[0] + 250 / (111_320 * math.cos(math.radians(east[1])))
    assert ref_index.streets_within(lon, east[1], 200) == []
    assert len(ref_index.streets_within(lon, east[1], 300)) == 1
