"""The in-memory index answers exactly like PostGIS `ST_Covers … ORDER BY code LIMIT 1`.

>= 100,000 points in and around the district, among them every grid vertex and points
exactly on shared edges (midpoints and quarter points, exact in floating point because
vertices sit on the 2^-20 degree lattice), plus points a hair off the edges.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine

from geo import service
from geo.index import load_indexes
from geo.reference import ReferenceDistrict

pytestmark = pytest.mark.db


def test_zero_mismatches_with_postgis(engine: Engine, loaded: int, reference: ReferenceDistrict) -> None:
    rng = np.random.default_rng(20240601)
    x0, y0, x1, y1 = reference.outline.bounds
    pad = 0.02
    random_pts = np.column_stack(
        [rng.uniform(x0 - pad, x1 + pad, 80_000), rng.uniform(y0 - pad, y1 + pad, 80_000)]
    )
    rings = shapely.get_coordinates(
        shapely.get_exterior_ring([g.geometry for g in reference.grids]), return_index=True
    )
    coords, ring = rings
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    vertices = np.unique(coords, axis=0)
    midpoints = np.unique((a + b) / 2, axis=0)
    quarters = np.unique(a + (b - a) / 4, axis=0)
    jitter = midpoints[rng.integers(0, len(midpoints), 10_000)] + rng.normal(0, 1e-9, (10_000, 2))
    pts = np.concatenate([random_pts, vertices, midpoints, quarters, jitter])
    assert len(pts) >= 100_000

    indexes = load_indexes(engine)
    index = indexes.at(reference.effective_from)
    assert index.layer_version == loaded
    mine = index.locate_many(pts[:, 0], pts[:, 1])
    mine_codes = [index.grids[i].code if i >= 0 else None for i in mine]
    with engine.connect() as conn:
        theirs: list[str | None] = []
        for start in range(0, len(pts), 25_000):
            chunk = pts[start : start + 25_000]
            theirs += service.locate_in_postgis(conn, loaded, chunk[:, 0].tolist(), chunk[:, 1].tolist())
    mismatches = [
        (tuple(pts[i]), mine_codes[i], theirs[i]) for i in range(len(pts)) if mine_codes[i] != theirs[i]
    ]
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"
    # The test means something: boundaries were hit and both answers occur.
    on_edges = len(random_pts) + len(vertices)
    assert sum(c is not None for c in theirs[on_edges:]) > 0.9 * (len(pts) - on_edges)
    assert sum(c is None for c in theirs[: len(random_pts)]) > 10_000  # outside points too
    one_by_one = [index.locate(float(x), float(y)).grid_code for x, y in pts[::97]]
    assert one_by_one == mine_codes[::97]
