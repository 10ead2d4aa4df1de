"""Generate streets, communities and grids inside the real outline, deterministically.

1. Street zones: Voronoi cells of the hand-placed street anchors, clipped to the outline.
2. Community zones: Lloyd-relaxed random points inside each street zone, one per community.
3. Grid seeds: Lloyd-relaxed random points inside each community zone, one per grid.
4. Grids: the Voronoi tessellation of all grid seeds over the outline (partition.tessellate).
5. Each grid belongs to the community of its seed; detached pieces of a street, then of a
   community, join the neighbour they border most, so every street and community is one
   connected polygon made of whole grids.

Zones only steer where seeds fall; the final boundaries are grid edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from geo.reference import partition
from geo.reference.district import Area, Grid, Street
from geo.reference.layout import StreetPlan


@dataclass(frozen=True, slots=True)
class Areas:
    outline: BaseGeometry
    streets: tuple[Street, ...]
    communities: tuple[Area, ...]
    grids: tuple[Grid, ...]


def _inside(region: BaseGeometry, point: tuple[float, float]) -> tuple[float, float]:
    if shapely.contains_xy(region, point[0], point[1]):
        return point
    nearest = nearest_points(region.buffer(-0.002), shapely.Point(point))[0]
    return (nearest.x, nearest.y)


def _order_north_west(points: np.ndarray) -> list[int]:
    """Indices sorted north to south, then west to east (how codes are handed out)."""
    return sorted(range(len(points)), key=lambda i: (-round(points[i][1], 3), points[i][0]))


def _single_polygon(geometry: BaseGeometry, what: str) -> Polygon:
    if isinstance(geometry, Polygon):
        return geometry
    raise partition.PartitionError(f"{what} is not one connected polygon ({geometry.geom_type})")


def generate_areas(
    outline: BaseGeometry, plans: tuple[StreetPlan, ...], district_code: str, seed: int, lloyd_iterations: int
) -> Areas:
    rng = np.random.default_rng(seed)
    anchors = np.array([_inside(outline, p.anchor) for p in plans])
    street_zones = partition.connected_zones(partition.voronoi_cells(anchors, outline), anchors)

    comm_plans = [c for p in plans for c in p.communities]
    comm_street = [s for s, p in enumerate(plans) for _ in p.communities]
    seeds: list[np.ndarray] = []
    seed_comm: list[int] = []
    targets: list[np.ndarray] = []
    k = 0
    for plan, zone in zip(plans, street_zones, strict=True):
        n = len(plan.communities)
        centres = partition.relax(partition.sample_points(zone, n, rng), zone, lloyd_iterations)
        centres = centres[_order_north_west(centres)]
        comm_zones = partition.connected_zones(partition.voronoi_cells(centres, zone), centres)
        targets.extend(centres)
        for czone in comm_zones:
            g = comm_plans[k].grids
            pts = partition.relax(partition.sample_points(czone, g, rng), czone, lloyd_iterations)
            seeds.append(pts)
            seed_comm.extend([k] * g)
            k += 1
    cells = partition.tessellate(outline, np.concatenate(seeds))
    neighbours = partition.adjacency(cells)

    street_labels = partition.make_connected([comm_street[c] for c in seed_comm], neighbours)
    comm_labels = [c if comm_street[c] == s else -1 for c, s in zip(seed_comm, street_labels, strict=True)]
    allowed = [{c for c in range(len(comm_plans)) if comm_street[c] == s} for s in street_labels]
    comm_labels = partition.fill_unlabelled(comm_labels, neighbours, allowed)
    comm_labels = partition.make_connected(comm_labels, neighbours, parent=comm_street)
    cell_points = np.array([[c.representative_point().x, c.representative_point().y] for c in cells])
    comm_labels = partition.adopt_orphans(
        comm_labels, neighbours, comm_street, cell_points, np.array(targets)
    )

    grids: list[Grid] = []
    communities: list[Area] = []
    comm_geoms: dict[int, list[Polygon]] = {}
    for c, cplan in enumerate(comm_plans):
        members = [i for i, lab in enumerate(comm_labels) if lab == c]
        if not members:
            raise partition.PartitionError(f"community {cplan.code} lost all its grids; try another seed")
        centroids = np.array([[cells[i].centroid.x, cells[i].centroid.y] for i in members])
        for n, j in enumerate(_order_north_west(centroids), start=1):
            cell = cells[members[j]]
            grids.append(
                Grid(f"{cplan.code}{n:03d}", f"{cplan.name}第{n}网格", cplan.code, cell, cplan.street_code)
            )
        geom = _single_polygon(partition.union([cells[i] for i in members]), f"community {cplan.code}")
        comm_geoms.setdefault(comm_street[c], []).append(geom)
        communities.append(Area(cplan.code, cplan.name, cplan.street_code, geom))
    streets = tuple(
        Street(
            p.code,
            p.name,
            district_code,
            _single_polygon(partition.union(comm_geoms[s]), f"street {p.code}"),
            p.low_lying,
        )
        for s, p in enumerate(plans)
    )
    district = partition.union(cells)
    return Areas(district, streets, tuple(communities), tuple(grids))
