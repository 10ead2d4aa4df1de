"""A redrawn layout for the replay tests: one community's grids drawn as a single grid."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import shapely
from shapely.geometry import mapping

from geo.layers import LayerSet, as_multipolygon, validate
from geo.reference import ReferenceDistrict
from geo.service import reference_layers


def merged_community(d: ReferenceDistrict, community: str) -> tuple[LayerSet, str, set[str]]:
    """The reference layers with every grid of `community` redrawn as its first grid (动态调整);
    returns the layers, the grid kept and the grids that are gone."""
    layers = reference_layers(d)
    grids = layers.get("grid")
    inside = [g for g in grids if g.parent == community]
    keep = inside[0]
    one = replace(keep, geometry=as_multipolygon(shapely.union_all([g.geometry for g in inside])))
    rest = tuple(g for g in grids if g.parent != community)
    new = LayerSet({**layers.layers, "grid": tuple(sorted((*rest, one), key=lambda f: f.code))})
    assert validate(new) == []
    return new, keep.code, {g.code for g in inside[1:]}


def write_grid_layer(layers: LayerSet, path: Path) -> Path:
    """The grid layer alone as a GeoJSON file (the other layers are carried over from today's)."""
    features = [
        {
            "type": "Feature",
            "properties": {"layer": "grid", "code": f.code, "name": f.name, "parent": f.parent},
            "geometry": mapping(f.geometry),
        }
        for f in layers.get("grid")
    ]
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    return path
