"""A user's own layers: parse a GeoJSON FeatureCollection, check it is a clean hierarchy.

Each feature carries `properties.layer` (district | street | community | grid), `code`,
`name` and optionally `parent`; its id is the GeoJSON `id` or else the code. Codes follow
6 + 3 + 3 + 3 digits, each starting with its parent's code. Layers the file leaves out are
carried over from the version in force, and the result is checked as a whole:

- every geometry a valid (Multi)Polygon after snapping to the lattice;
- codes well-formed and unique; every parent exists (no orphans);
- no two areas of a layer overlap, and every parent is covered by its children without
  gaps, nor do children stick out of it (beyond `tolerance_m2`, default 1 m²).

Every problem is reported with the feature id, and all of them at once.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from geo import lattice

LAYERS = ("district", "street", "community", "grid")
CODE_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 15}
_M2_PER_DEG2_AT_30N = 110_574.0 * 111_320.0 * 0.8660  # cos(30 deg); areas only for tolerances


class LayerError(ValueError):
    """A layer file is refused; `problems` lists every issue with its feature id."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n  ".join(problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s), nothing was loaded:\n  {shown}{more}")


@dataclass(frozen=True, slots=True)
class Feature:
    fid: str
    layer: str
    code: str
    name: str
    parent: str
    geometry: MultiPolygon
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class LayerSet:
    """A complete or partial set of the four layers, each a tuple sorted by code."""

    layers: dict[str, tuple[Feature, ...]]

    def get(self, layer: str) -> tuple[Feature, ...]:
        return self.layers.get(layer, ())

    def district_code(self) -> str:
        return self.get("district")[0].code

    def content_sha256(self) -> str:
        h = hashlib.sha256()
        for layer in LAYERS:
            for f in self.get(layer):
                h.update(f"{layer}|{f.code}|{f.name}|{f.parent}|{sorted(f.extra.items())}|".encode())
                h.update(shapely.to_wkb(f.geometry))
        return h.hexdigest()


def as_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    if isinstance(geometry, MultiPolygon):
        return geometry
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    raise TypeError(f"{geometry.geom_type} is not a polygon")


class _Refused(ValueError):
    pass


def _checked_geometry(raw: dict[str, Any]) -> MultiPolygon:
    try:
        geometry = lattice.snap(shape(raw["geometry"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _Refused(f"unreadable geometry ({exc})") from None
    if not isinstance(geometry, Polygon | MultiPolygon) or geometry.is_empty:
        raise _Refused(f"geometry is {geometry.geom_type}, expected Polygon or MultiPolygon")
    if not geometry.is_valid:
        raise _Refused(f"invalid geometry: {shapely.is_valid_reason(geometry)}")
    return as_multipolygon(geometry)


def _parsed(raw: dict[str, Any], fid: str) -> Feature:
    props = raw.get("properties") or {}
    layer, code, name = props.get("layer"), props.get("code"), props.get("name")
    if layer not in LAYERS:
        raise _Refused(f"properties.layer must be one of {', '.join(LAYERS)} (got {layer!r})")
    if not isinstance(code, str) or not re.fullmatch(rf"\d{{{CODE_LENGTH[layer]}}}", code):
        raise _Refused(f"properties.code must be {CODE_LENGTH[layer]} digits for a {layer}")
    if not isinstance(name, str) or not name.strip():
        raise _Refused("properties.name is missing")
    expected_parent = code[: CODE_LENGTH[layer] - 3] if layer != "district" else ""
    parent = str(props.get("parent") or expected_parent)
    if parent != expected_parent:
        raise _Refused(f"parent {parent} does not match code {code} (6+3+3+3 digits)")
    extra = {k: v for k, v in props.items() if k in {"low_lying"}}
    return Feature(fid, layer, code, name.strip(), parent, _checked_geometry(raw), extra)


def _feature(raw: dict[str, Any], i: int, problems: list[str]) -> Feature | None:
    props = raw.get("properties") or {}
    fid = str(raw.get("id") or props.get("code") or f"#{i}")
    try:
        return _parsed(raw, fid)
    except _Refused as exc:
        problems.append(f"feature {fid}: {exc}")
        return None


def parse_features(doc: dict[str, Any]) -> LayerSet:
    """The features of a FeatureCollection, or LayerError naming every bad one."""
    if doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise LayerError(["the file is not a GeoJSON FeatureCollection"])
    problems: list[str] = []
    found: dict[str, list[Feature]] = {}
    seen: dict[tuple[str, str], str] = {}
    for i, raw in enumerate(doc["features"]):
        feature = _feature(raw if isinstance(raw, dict) else {}, i, problems)
        if feature is None:
            continue
        key = (feature.layer, feature.code)
        if key in seen:
            problems.append(
                f"feature {feature.fid}: {feature.layer} code {feature.code} already used by "
                f"feature {seen[key]}"
            )
            continue
        seen[key] = feature.fid
        found.setdefault(feature.layer, []).append(feature)
    if len(found.get("district", [])) > 1:
        problems.append(f"features {', '.join(f.fid for f in found['district'])}: more than one district")
    if problems:
        raise LayerError(problems)
    return LayerSet({k: tuple(sorted(v, key=lambda f: f.code)) for k, v in found.items()})


def combine(new: LayerSet, carried: LayerSet | None) -> LayerSet:
    """The file's layers, plus the layers it leaves out taken from the version in force."""
    layers = dict(new.layers)
    missing = [layer for layer in LAYERS if layer not in layers]
    if missing and carried is None:
        raise LayerError(
            [
                f"the file has no {', '.join(missing)} layer and no layer version is in force "
                "to carry it over from"
            ]
        )
    if carried is not None:
        for layer in missing:
            layers[layer] = tuple(replace(f, fid=f"{f.code} (carried over)") for f in carried.get(layer))
    return LayerSet(layers)


def _m2(area_deg2: float) -> float:
    return area_deg2 * _M2_PER_DEG2_AT_30N


def _where(geometry: BaseGeometry) -> str:
    p = geometry.representative_point()
    return f"near ({p.x:.6f}, {p.y:.6f})"


def _overlaps(features: tuple[Feature, ...], tol: float, problems: list[str]) -> None:
    geoms = np.asarray([f.geometry for f in features])
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return
    inter = shapely.intersection(geoms[left], geoms[right])
    for a, b, g in zip(left.tolist(), right.tolist(), inter, strict=True):
        area = _m2(shapely.area(g))
        if area > tol:
            problems.append(
                f"features {features[a].fid} and {features[b].fid} overlap by {area:.1f} m² {_where(g)}"
            )


def _coverage(
    parents: tuple[Feature, ...],
    children: tuple[Feature, ...],
    child_layer: str,
    tol: float,
    problems: list[str],
) -> None:
    by_parent: dict[str, list[Feature]] = {}
    known = {p.code for p in parents}
    for child in children:
        if child.parent not in known:
            problems.append(
                f"feature {child.fid}: orphan {child_layer}, its parent {child.parent} does not exist"
            )
            continue
        by_parent.setdefault(child.parent, []).append(child)
    for parent in parents:
        kids = by_parent.get(parent.code, [])
        if not kids:
            problems.append(f"feature {parent.fid}: no {child_layer} inside it (gap of the whole area)")
            continue
        covered = shapely.union_all([k.geometry for k in kids])
        for gap in shapely.get_parts(shapely.difference(parent.geometry, covered)):
            if _m2(gap.area) > tol:
                problems.append(
                    f"feature {parent.fid}: gap of {_m2(gap.area):.1f} m² not covered by any "
                    f"{child_layer} {_where(gap)}"
                )
        for kid in kids:
            outside = shapely.difference(kid.geometry, parent.geometry)
            if _m2(outside.area) > tol:
                problems.append(
                    f"feature {kid.fid}: extends {_m2(outside.area):.1f} m² outside its parent "
                    f"{parent.code} {_where(outside)}"
                )


def validate(layers: LayerSet, tolerance_m2: float = 1.0) -> list[str]:
    """Every problem of a complete layer set (empty list = clean)."""
    problems: list[str] = []
    for layer in LAYERS:
        if not layers.get(layer):
            problems.append(f"the {layer} layer is empty")
    if problems:
        return problems
    for layer in LAYERS[1:]:
        _overlaps(layers.get(layer), tolerance_m2, problems)
    for parent_layer, child_layer in itertools.pairwise(LAYERS):
        _coverage(layers.get(parent_layer), layers.get(child_layer), child_layer, tolerance_m2, problems)
    return problems
