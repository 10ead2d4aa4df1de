"""From parameters and the committed sources to a complete `ReferenceDistrict`.

The outline is the Amap GCJ-02 polygon converted to WGS84 by geo.coords (our own
iterative inverse) and snapped to the lattice (geo.lattice); everything below it is
generated with one seeded random generator, in a fixed order, so the same inputs give the
same district.
"""

from __future__ import annotations

import hashlib

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from geo import lattice
from geo.coords import gcj02_to_wgs84_many
from geo.reference import sources
from geo.reference.areas import generate_areas
from geo.reference.buildings import generate_buildings
from geo.reference.district import ReferenceDistrict
from geo.reference.layout import plan_district
from geo.reference.params import Params
from geo.reference.workforce import generate_workers


def _to_wgs84(coords: np.ndarray) -> np.ndarray:
    lons, lats = gcj02_to_wgs84_many(coords[:, 0], coords[:, 1])
    return np.column_stack([lons, lats])


def wgs84_outline(geojson: dict[str, object]) -> Polygon | MultiPolygon:
    """The published GCJ-02 outline, in WGS84, on the lattice."""
    converted = lattice.snap(shapely.transform(shape(geojson), _to_wgs84))
    if isinstance(converted, MultiPolygon) and len(converted.geoms) == 1:
        converted = converted.geoms[0]
    if not isinstance(converted, Polygon | MultiPolygon) or not converted.is_valid:
        raise ValueError("the converted outline is not a valid polygon")
    return converted


def source_digest(district: str = sources.DISTRICT) -> str:
    """What the data was generated from, for the layer version's `source` column."""
    h = hashlib.sha256()
    h.update(sources.outline_file(district).read_bytes())
    h.update(sources.divisions_file(district).read_bytes())
    return h.hexdigest()[:12]


def generate(params: Params, params_digest: str) -> ReferenceDistrict:
    outline: BaseGeometry = wgs84_outline(sources.read_outline(params.district_code))
    plans = plan_district(params, sources.read_divisions(params.district_code))
    areas = generate_areas(outline, plans, params.district_code, params.seed, params.lloyd_iterations)
    rng = np.random.default_rng([params.seed, 1])
    buildings = generate_buildings(
        prefix=params.city + params.district_name,
        street_names={s.code: s.name for s in areas.streets},
        communities=areas.communities,
        grids=areas.grids,
        total=params.n_buildings,
        village_weight=params.village_building_weight,
        rng=rng,
    )
    workers = generate_workers(
        params=params,
        streets=areas.streets,
        communities=areas.communities,
        grids=areas.grids,
        buildings=buildings,
        rng=np.random.default_rng([params.seed, 2]),
    )
    district_outline = areas.outline
    if not isinstance(district_outline, Polygon | MultiPolygon):
        raise ValueError("the union of the grids is not a polygon")
    return ReferenceDistrict(
        code=params.district_code,
        name=params.district_name,
        city=params.city,
        effective_from=params.effective_from,
        centre=params.centre,
        outline=district_outline,
        streets=areas.streets,
        communities=areas.communities,
        grids=areas.grids,
        buildings=buildings,
        workers=workers,
        low_lying=frozenset(s.code for s in areas.streets if s.low_lying),
        source=f"reference:{params.district_code}:sources-{source_digest(params.district_code)}:params-{params_digest}",
    )
