"""A cell raster over the grid polygons: most points are answered by one array read.

Every cell of a regular raster is either *pure* (no polygon edge comes near it: every
point in it is covered by the same set of grids, so the answer is that set's smallest
index, or -1) or *mixed* (an edge crosses it: the answer needs an exact point-in-polygon
test against a short candidate list, smallest index first).

Which cells are mixed is decided conservatively: each cell is tested slightly enlarged
(by `EPS` degrees, far above floating-point error), so a cell called pure truly has no
edge in it. The candidates of a mixed cell are the owners of the edges crossing it plus
every grid that covers its centre (a grid covering the whole cell has no edge in it); so
even overlapping layers are answered like PostGIS: the smallest covering code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

EPS = 1e-9  # degrees (~0.1 mm): the margin that makes the pure/mixed split conservative
OUTSIDE = -1
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Raster:
    x0: float
    y0: float
    inv_dx: float
    inv_dy: float
    nx: int
    ny: int
    cells: NDArray[np.int32]  # >= 0 pure grid index, -1 outside, <= -2 mixed cell number (-2 - m)
    cand_start: IntArray  # per mixed cell: offset into cand_list
    cand_count: IntArray
    cand_list: NDArray[np.int32]  # candidate grid indices, ascending within each cell

    def cell_of(self, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> IntArray:
        """Flat cell number per point, -1 where outside the raster or not finite."""
        fx = (xs - self.x0) * self.inv_dx
        fy = (ys - self.y0) * self.inv_dy
        ok = np.isfinite(fx) & np.isfinite(fy) & (fx >= 0) & (fy >= 0) & (fx < self.nx) & (fy < self.ny)
        ix = np.where(ok, fx, 0).astype(np.int64)
        iy = np.where(ok, fy, 0).astype(np.int64)
        return np.where(ok, iy * self.nx + ix, -1)


def _edges(geoms: list[BaseGeometry]) -> tuple[NDArray[np.float64], IntArray]:
    """All ring segments as rows (x1, y1, x2, y2) with their owning grid index."""
    parts, part_owner = shapely.get_parts(np.asarray(geoms), return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of_coord = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring_of_coord[1:] == ring_of_coord[:-1]
    segs = np.column_stack([coords[:-1], coords[1:]])[same_ring]
    owners = part_owner[ring_part[ring_of_coord[:-1][same_ring]]]
    return segs, owners


def _crossed_cells(
    segs: NDArray[np.float64], owners: IntArray, grid: tuple[float, float, float, float, int, int]
) -> tuple[IntArray, IntArray]:
    """(cell, owner) for every segment passing through an EPS-enlarged cell."""
    x0, y0, dx, dy, nx, ny = grid
    lo_x = np.minimum(segs[:, 0], segs[:, 2]) - EPS
    hi_x = np.maximum(segs[:, 0], segs[:, 2]) + EPS
    lo_y = np.minimum(segs[:, 1], segs[:, 3]) - EPS
    hi_y = np.maximum(segs[:, 1], segs[:, 3]) + EPS
    cx0 = np.clip(np.floor((lo_x - x0) / dx).astype(np.int64), 0, nx - 1)
    cx1 = np.clip(np.floor((hi_x - x0) / dx).astype(np.int64), 0, nx - 1)
    cy0 = np.clip(np.floor((lo_y - y0) / dy).astype(np.int64), 0, ny - 1)
    cy1 = np.clip(np.floor((hi_y - y0) / dy).astype(np.int64), 0, ny - 1)
    wx, wy = cx1 - cx0 + 1, cy1 - cy0 + 1
    per_seg = wx * wy
    seg = np.repeat(np.arange(len(segs)), per_seg)
    k = np.arange(per_seg.sum()) - np.repeat(np.cumsum(per_seg) - per_seg, per_seg)
    ix = cx0[seg] + k % wx[seg]
    iy = cy0[seg] + k // wx[seg]
    bx0, by0 = x0 + ix * dx - EPS, y0 + iy * dy - EPS
    bx1, by1 = bx0 + dx + 2 * EPS, by0 + dy + 2 * EPS
    x1, y1, x2, y2 = segs[seg, 0], segs[seg, 1], segs[seg, 2], segs[seg, 3]
    ex, ey = x2 - x1, y2 - y1
    sides = [ex * (cy - y1) - ey * (cx - x1) for cx, cy in ((bx0, by0), (bx1, by0), (bx0, by1), (bx1, by1))]
    positive = np.all([s > 0 for s in sides], axis=0)
    negative = np.all([s < 0 for s in sides], axis=0)
    hit = ~(positive | negative)
    return (iy * nx + ix)[hit], owners[seg][hit]


def build_raster(geoms: list[BaseGeometry], tree: shapely.STRtree, cells_per_grid: int = 256) -> Raster:
    """Classify every cell; `geoms` in index order (ascending code), `tree` built over them."""
    bounds = shapely.total_bounds(np.asarray(geoms))
    pad = 1e-6
    x0, y0, x1, y1 = bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad
    target = max(64, cells_per_grid * len(geoms))
    aspect = (x1 - x0) / (y1 - y0)
    nx = max(1, round((target * aspect) ** 0.5))
    ny = max(1, round(target / nx))
    dx, dy = (x1 - x0) / nx, (y1 - y0) / ny
    segs, owners = _edges(geoms)
    cell, owner = _crossed_cells(segs, owners, (x0, y0, dx, dy, nx, ny))

    iy, ix = np.divmod(np.arange(nx * ny), nx)
    centres = shapely.points(x0 + (ix + 0.5) * dx, y0 + (iy + 0.5) * dy)
    c_pt, c_grid = tree.query(centres, predicate="intersects")

    none = np.iinfo(np.int64).max
    values = np.full(nx * ny, none, dtype=np.int64)
    np.minimum.at(values, c_pt, c_grid)  # the smallest grid index covering each centre
    values[values == none] = OUTSIDE
    mixed = np.unique(cell)
    pairs = np.unique(
        np.concatenate(
            [
                np.column_stack([cell, owner]),
                np.column_stack([c_pt, c_grid])[np.isin(c_pt, mixed)],
            ]
        ),
        axis=0,
    )  # sorted by cell, then grid index
    cand_cells, cand_start, cand_count = np.unique(pairs[:, 0], return_index=True, return_counts=True)
    values[cand_cells] = -2 - np.arange(len(cand_cells))
    return Raster(
        x0=x0,
        y0=y0,
        inv_dx=1.0 / dx,
        inv_dy=1.0 / dy,
        nx=nx,
        ny=ny,
        cells=values.astype(np.int32),
        cand_start=cand_start.astype(np.int64),
        cand_count=cand_count.astype(np.int64),
        cand_list=pairs[:, 1].astype(np.int32),
    )
