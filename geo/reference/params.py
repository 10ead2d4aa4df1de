"""Typed parameters of a generated reference district (geo/reference/shapingba.toml).

Counts, seed, street anchors, flood-prone streets and the workforce mix are data; the
generator reads them through `load_params`, with `key=value` overrides for experiments
(`python -m geo.reference.build --set counts.grids=300 --out /tmp/small`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

PARAMS_FILE = Path(__file__).resolve().parent / "shapingba.toml"


class ParamsError(ValueError):
    """The parameter file is malformed (names the key)."""


@dataclass(frozen=True, slots=True)
class StreetParam:
    code: str
    anchor: tuple[float, float]
    low_lying: bool


@dataclass(frozen=True, slots=True)
class StaffParam:
    """How many holders of one force (or ladder role) to generate, and on which rosters."""

    code: str
    is_role: bool
    per_grid: int
    per_community: int
    count: int
    rosters: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Params:
    district_code: str
    district_name: str
    city: str
    seed: int
    effective_from: datetime
    centre: tuple[float, float]
    n_streets: int
    n_communities: int
    n_grids: int
    n_buildings: int
    lloyd_iterations: int
    village_grid_weight: float
    village_building_weight: float
    min_grids_per_community: int
    streets: tuple[StreetParam, ...]
    staff: tuple[StaffParam, ...]


def _get(doc: dict[str, Any], dotted: str) -> Any:
    node: Any = doc
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ParamsError(f"missing parameter {dotted!r}")
        node = node[part]
    return node


def _apply_override(doc: dict[str, Any], assignment: str) -> None:
    key, sep, raw = assignment.partition("=")
    if not sep:
        raise ParamsError(f"override {assignment!r}: expected key=value")
    parent_key, _, leaf = key.strip().rpartition(".")
    parent = _get(doc, parent_key) if parent_key else doc
    if not isinstance(parent, dict) or leaf not in parent:
        raise ParamsError(f"override {assignment!r}: unknown key {key.strip()!r}")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError as exc:
        raise ParamsError(f"override {assignment!r}: {exc}") from None
    parent[leaf] = value


def _staff(entry: dict[str, Any], is_role: bool, where: str) -> StaffParam:
    code = entry.get("role" if is_role else "force")
    rosters = entry.get("rosters")
    if not isinstance(code, str) or not isinstance(rosters, dict) or not rosters:
        raise ParamsError(f"{where}: needs a code and a non-empty rosters table")
    shares = tuple((str(k), float(v)) for k, v in rosters.items())
    if any(v <= 0 for _, v in shares):
        raise ParamsError(f"{where}: roster shares must be positive")
    return StaffParam(
        code=code,
        is_role=is_role,
        per_grid=int(entry.get("per_grid", 0)),
        per_community=int(entry.get("per_community", 0)),
        count=int(entry.get("count", 0)),
        rosters=shares,
    )


def parse_params(doc: dict[str, Any]) -> Params:
    streets = tuple(
        StreetParam(
            code=str(s["code"]),
            anchor=(float(s["anchor"][0]), float(s["anchor"][1])),
            low_lying=bool(s.get("low_lying", False)),
        )
        for s in _get(doc, "street")
    )
    staff = tuple(_staff(e, False, f"workforce[{i}]") for i, e in enumerate(doc.get("workforce", [])))
    staff += tuple(_staff(e, True, f"role[{i}]") for i, e in enumerate(doc.get("role", [])))
    effective = datetime.fromisoformat(str(_get(doc, "district.effective_from")))
    if effective.tzinfo is None:
        raise ParamsError("district.effective_from must carry a UTC offset")
    params = Params(
        district_code=str(_get(doc, "district.code")),
        district_name=str(_get(doc, "district.name")),
        city=str(_get(doc, "district.city")),
        seed=int(_get(doc, "district.seed")),
        effective_from=effective,
        centre=(float(_get(doc, "district.centre")[0]), float(_get(doc, "district.centre")[1])),
        n_streets=int(_get(doc, "counts.streets")),
        n_communities=int(_get(doc, "counts.communities")),
        n_grids=int(_get(doc, "counts.grids")),
        n_buildings=int(_get(doc, "counts.buildings")),
        lloyd_iterations=int(_get(doc, "generation.lloyd_iterations")),
        village_grid_weight=float(_get(doc, "generation.village_grid_weight")),
        village_building_weight=float(_get(doc, "generation.village_building_weight")),
        min_grids_per_community=int(_get(doc, "generation.min_grids_per_community")),
        streets=streets,
        staff=staff,
    )
    if not 1 <= params.n_streets <= len(streets):
        raise ParamsError(
            f"counts.streets: {params.n_streets} is not within 1..{len(streets)} (anchors given)"
        )
    if params.n_communities < params.n_streets:
        raise ParamsError("counts.communities: fewer communities than streets")
    if params.n_grids < params.n_communities * params.min_grids_per_community:
        raise ParamsError("counts.grids: too few grids for min_grids_per_community in every community")
    return params


def load_params(path: Path = PARAMS_FILE, overrides: tuple[str, ...] = ()) -> Params:
    with path.open("rb") as fh:
        doc = tomllib.load(fh)
    for assignment in overrides:
        _apply_override(doc, assignment)
    return parse_params(doc)
