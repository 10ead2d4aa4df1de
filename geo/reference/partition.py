"""Pure geometry of the generated layers: zones, relaxed seeds, a clean tessellation.

The grids are the Voronoi cells of seeded points, clipped to the district outline and
snapped to the lattice (geo.lattice); communities and streets are unions of whole grids,
so every boundary of a higher layer is made of grid edges, vertex for vertex. That is
what makes the partition clean by construction: no gaps, no overlaps, each grid in
exactly one community in exactly one street. The checks in `check_coverage` confirm it.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

from geo import lattice

Points = NDArray[np.float64]


class PartitionError(ValueError):
    """The generated layers are not a clean partition (names the offending cell)."""


def sample_points(region: BaseGeometry, n: int, rng: np.random.Generator) -> Points:
    """n uniform random points strictly inside region (rejection sampling, vectorised)."""
    x0, y0, x1, y1 = region.bounds
    shapely.prepare(region)
    out: list[Points] = []
    have = 0
    while have < n:
        xs = rng.uniform(x0, x1, size=max(64, 4 * (n - have)))
        ys = rng.uniform(y0, y1, size=xs.size)
        keep = shapely.contains_xy(region, xs, ys)
        chunk = np.column_stack([xs[keep], ys[keep]])[: n - have]
        out.append(chunk)
        have += len(chunk)
    return np.concatenate(out) if out else np.empty((0, 2))


def voronoi_cells(points: Points, region: BaseGeometry) -> list[BaseGeometry]:
    """The Voronoi cell of each point (input order), clipped to region."""
    if len(points) == 1:
        return [region]
    diagram = shapely.voronoi_polygons(MultiPoint(points), extend_to=region, ordered=True)
    return list(shapely.intersection(np.asarray(shapely.get_parts(diagram)), region))


def relax(points: Points, region: BaseGeometry, iterations: int) -> Points:
    """Lloyd relaxation inside region: rounder, more even cells (like drawn grids)."""
    for _ in range(iterations):
        cells = voronoi_cells(points, region)
        moved = []
        for point, cell in zip(points, cells, strict=True):
            if cell.is_empty:
                moved.append(point)
                continue
            centre = cell.centroid
            if not region.contains(centre):
                centre = cell.point_on_surface()
            moved.append(np.array([centre.x, centre.y]))
        points = np.asarray(moved)
    return points


def _polygon_parts(geometry: BaseGeometry) -> list[Polygon]:
    return [
        p for p in shapely.get_parts(geometry) if isinstance(p, Polygon) and not p.is_empty and p.area > 0
    ]


def tessellate(outline: BaseGeometry, seeds: Points) -> list[Polygon]:
    """One lattice-snapped polygon per seed; together they cover the outline exactly.

    A Voronoi cell that the outline cuts into several pieces keeps the piece holding its
    seed; each other piece joins the neighbour it shares the longest edge with.
    """
    raw = voronoi_cells(seeds, outline)
    cells: list[Polygon] = []
    strays: list[Polygon] = []
    for i, (seed, geometry) in enumerate(zip(seeds, raw, strict=True)):
        parts = _polygon_parts(lattice.snap(geometry))
        if not parts:
            raise PartitionError(f"cell {i}: nothing left after clipping and snapping")
        home = next((p for p in parts if shapely.intersects_xy(p, seed[0], seed[1])), max(parts, key=_area))
        cells.append(home)
        strays.extend(p for p in parts if p is not home)
    for stray in strays:
        shared = [shapely.length(shapely.intersection(stray.boundary, c.boundary)) for c in cells]
        j = int(np.argmax(shared))
        if shared[j] <= 0:
            raise PartitionError(
                f"a piece of the outline near {stray.representative_point()} touches no cell"
            )
        merged = shapely.coverage_union_all([cells[j], stray])
        parts = _polygon_parts(merged)
        if len(parts) != 1:
            raise PartitionError(f"cell {j}: merging a cut-off piece left {len(parts)} parts")
        cells[j] = parts[0]
    for i, cell in enumerate(cells):
        if not cell.is_valid:
            raise PartitionError(f"cell {i}: {shapely.is_valid_reason(cell)}")
    return cells


def _area(polygon: Polygon) -> float:
    return float(polygon.area)


def adjacency(cells: Sequence[BaseGeometry]) -> list[set[int]]:
    """Neighbours that share an edge (a common point alone does not count)."""
    tree = shapely.STRtree(cells)
    left, right = tree.query(np.asarray(cells), predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    boundaries = shapely.boundary(np.asarray(cells))
    shared = shapely.length(shapely.intersection(boundaries[left], boundaries[right]))
    out: list[set[int]] = [set() for _ in cells]
    for a, b, length in zip(left.tolist(), right.tolist(), shared.tolist(), strict=True):
        if length > 0:
            out[a].add(b)
            out[b].add(a)
    return out


def _components(members: list[int], neighbours: list[set[int]], labels: list[int]) -> list[list[int]]:
    label = labels[members[0]]
    seen: set[int] = set()
    out: list[list[int]] = []
    for start in members:
        if start in seen:
            continue
        comp, queue = [], deque([start])
        seen.add(start)
        while queue:
            cell = queue.popleft()
            comp.append(cell)
            for nxt in neighbours[cell]:
                if nxt not in seen and labels[nxt] == label:
                    seen.add(nxt)
                    queue.append(nxt)
        out.append(comp)
    return out


def make_connected(
    labels: list[int], neighbours: list[set[int]], parent: Sequence[int] | None = None
) -> list[int]:
    """Reassign every detached piece of a region to its most-bordering neighbour region.

    With `parent` (region -> parent region), a piece only moves to a region of the same
    parent, which keeps communities inside their street.
    """
    labels = list(labels)
    changed = True
    while changed:
        changed = False
        by_label: dict[int, list[int]] = {}
        for cell, label in enumerate(labels):
            by_label.setdefault(label, []).append(cell)
        for label, members in sorted(by_label.items()):
            comps = _components(members, neighbours, labels)
            if len(comps) == 1:
                continue
            comps.sort(key=lambda c: (-len(c), min(c)))
            for piece in comps[1:]:
                votes = Counter(
                    labels[n]
                    for cell in piece
                    for n in neighbours[cell]
                    if labels[n] != label and (parent is None or parent[labels[n]] == parent[label])
                )
                if not votes:
                    raise PartitionError(f"region {label}: a detached piece has no neighbour to join")
                target = min(votes, key=lambda lab: (-votes[lab], lab))
                for cell in piece:
                    labels[cell] = target
                changed = True
    return labels


def fill_unlabelled(labels: list[int], neighbours: list[set[int]], allowed: Sequence[set[int]]) -> list[int]:
    """Cells labelled -1 take the label of a labelled neighbour among `allowed[cell]`."""
    labels = list(labels)
    pending = [c for c, lab in enumerate(labels) if lab < 0]
    while pending:
        progress = False
        for cell in pending:
            votes = Counter(
                labels[n] for n in neighbours[cell] if labels[n] >= 0 and labels[n] in allowed[cell]
            )
            if votes:
                labels[cell] = min(votes, key=lambda lab: (-votes[lab], lab))
                progress = True
        pending = [c for c in pending if labels[c] < 0]
        if not progress:
            raise PartitionError(f"cells {pending[:5]} cannot join any allowed neighbour")
    return labels


def union(cells: Sequence[Polygon]) -> BaseGeometry:
    """Union of cells that share edges exactly (GEOS coverage union: exact, fast)."""
    return shapely.coverage_union_all(np.asarray(cells))


def connected_zones(zones: Sequence[BaseGeometry], anchors: Points) -> list[BaseGeometry]:
    """Seeding zones in one piece each: a zone keeps the part holding its anchor; every
    other part joins the zone it touches most. (Zones only steer seeds, so a hairline
    buffer to close floating-point seams is harmless here.)"""
    kept: list[BaseGeometry] = []
    strays: list[Polygon] = []
    for zone, anchor in zip(zones, anchors, strict=True):
        parts = _polygon_parts(zone)
        home = next((p for p in parts if shapely.intersects_xy(p, anchor[0], anchor[1])), None)
        home = home or max(parts, key=_area)
        kept.append(home)
        strays.extend(p for p in parts if p is not home)
    for stray in sorted(strays, key=_area, reverse=True):
        grown = stray.buffer(1e-7)
        touch = [shapely.area(shapely.intersection(grown, z)) for z in kept]
        j = int(np.argmax(touch))
        kept[j] = shapely.union(kept[j], stray.buffer(1e-9))
    return kept


def adopt_orphans(
    labels: list[int], neighbours: list[set[int]], parent: Sequence[int], cell_points: Points, targets: Points
) -> list[int]:
    """A region left with no cell takes one from a same-parent neighbour region that has
    cells to spare and stays connected without it (the cell nearest the region's target)."""
    labels = list(labels)
    for region in range(len(parent)):
        if region in labels:
            continue
        counts = Counter(labels)
        best: tuple[float, int] | None = None
        for cell, donor in enumerate(labels):
            if parent[donor] != parent[region] or counts[donor] < 2:
                continue
            rest = [c for c, lab in enumerate(labels) if lab == donor and c != cell]
            trial = list(labels)
            trial[cell] = -1
            if len(_components(rest, neighbours, trial)) != 1:
                continue
            dist = float(np.hypot(*(cell_points[cell] - targets[region])))
            if best is None or dist < best[0]:
                best = (dist, cell)
        if best is None:
            raise PartitionError(f"region {region}: no cell can be spared for it")
        labels[best[1]] = region
    return labels
