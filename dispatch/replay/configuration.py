"""What one replay run is computed with: the rules, the grid layer and the people.

A run's `Configuration` is built from the same loaders the stream worker uses: the intake's
`IntakeRules` (taxonomy, merging, routing, SLA limits, escalation ladder), the intake's
`Locator` over one grid layer, and the workforce `Directory`. The alternative differs from
today's only where the user gives something: a policy folder (any of the policy files, each
replacing today's file of the same name), a GeoJSON layer file (complete, or only the layers
that change, combined with today's as `yiwang geo import` does) and a people sheet (the
roster format of `yiwang people import`, checked the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
import shapely

from config.policy import CONFIG_DIR, PolicyError, Workforce, load_taxonomy, load_workforce
from dispatch.cases.people import People
from dispatch.directory import Directory
from dispatch.intake.locate import Locator
from dispatch.intake.rules import IntakeRules
from dispatch.merging import MergePolicy
from dispatch.people.checks import Areas, check_rows
from dispatch.people.sheet import SheetError, read_roster
from dispatch.routing.rosters import load_rosters, routing_rosters
from dispatch.routing.router import Router
from dispatch.routing.values import Candidate
from dispatch.sla.policy_book import load_policy_book
from geo.gazetteer import CityGazetteer, Gazetteer
from geo.index import GridIndex, GridIndexes, index_from_reference
from geo.layers import LayerError, LayerSet, combine, parse_features, validate
from geo.records import GridRecord, StreetRecord
from geo.reference import ReferenceDistrict

POLICY_FILES: tuple[str, ...] = (
    "taxonomy.toml",
    "forces.toml",
    "sla.toml",
    "holidays.toml",
    "escalation.toml",
    "rosters.toml",
    "merging.toml",
    "districts.toml",
)
"""The policy files a replay's `--policy` folder may replace (each one on its own); its
`districts.toml` holds the districts' overrides of sla.toml and escalation.toml, as config/'s."""


class ReplayError(ValueError):
    """The replay cannot run as asked; the message names the option or file at fault."""


@dataclass(frozen=True, slots=True)
class Configuration:
    """One side of the comparison."""

    label: str
    rules: IntakeRules
    locator: Locator
    people: People
    grid_codes: tuple[str, ...]
    """Every grid of the layer (a grid that gets nothing still counts in the per-grid median)."""

    @property
    def directory(self) -> Directory:
        return self.people.directory


class FixedLayer(GridIndexes):
    """One grid layer for every instant: a replay compares layouts, not their dates."""

    def __init__(self, index: GridIndex) -> None:
        super().__init__(index.district_code)
        self.index = index

    def at(self, when: datetime) -> GridIndex:
        return self.index


def policy_paths(folder: Path | None) -> dict[str, Path]:
    """Each policy file: the folder's copy when it has one, else today's (config/)."""
    paths = {name: CONFIG_DIR / name for name in POLICY_FILES}
    if folder is None:
        return paths
    if not folder.is_dir():
        raise ReplayError(f"--policy: {folder} is not a folder")
    given = sorted(p.name for p in folder.glob("*.toml"))
    unknown = [n for n in given if n not in paths]
    if unknown:
        raise ReplayError(
            f"--policy: {folder} holds {', '.join(unknown)}, which a replay does not read "
            f"(it reads {', '.join(POLICY_FILES)})"
        )
    if not given:
        raise ReplayError(f"--policy: {folder} holds none of {', '.join(POLICY_FILES)}")
    for name in given:
        paths[name] = folder / name
    return paths


def load_rules(folder: Path | None = None) -> IntakeRules:
    """`IntakeRules.load()` over the policy files of `policy_paths(folder)`."""
    p = policy_paths(folder)
    reading = "taxonomy.toml"
    try:
        taxonomy = load_taxonomy(p["taxonomy.toml"], p["forces.toml"])
        reading = "sla.toml"
        book = load_policy_book(
            taxonomy=taxonomy,
            sla=p["sla.toml"],
            escalation=p["escalation.toml"],
            districts=p["districts.toml"],
            holidays=p["holidays.toml"],
        )
        sla, tk, escalation = book.shared.sla, book.tk, book.shared.escalation
        reading = "rosters.toml"
        router = Router(
            taxonomy=taxonomy,
            workforce=load_workforce(p["forces.toml"]),
            rosters=routing_rosters(p["rosters.toml"]),
            calendar=tk.working,
            returns_to_lead=escalation.returns_to_lead,
        )
        reading = "merging.toml"
        merge = MergePolicy.load(p["merging.toml"], taxonomy=taxonomy)
    except (PolicyError, OSError, ValueError) as exc:
        where = str(p[reading])
        named = any(str(path) in str(exc) for path in p.values())  # the policy book names its file
        raise ReplayError(f"--policy: {exc}" if named else f"--policy: {where}: {exc}") from exc
    return IntakeRules(
        taxonomy=taxonomy,
        merge=merge,
        router=router,
        deadlines=book.shared.deadlines,
        escalation=escalation,
        sla=sla,
        book=book,
    )


def read_layers(path: Path, today: LayerSet) -> LayerSet:
    """A GeoJSON layer file, combined with today's layers it leaves out, and validated."""
    try:
        doc = orjson.loads(path.read_bytes())
        layers = combine(parse_features(doc), today)
    except OSError as exc:
        raise ReplayError(f"--layers: {path}: {exc.strerror or exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise ReplayError(f"--layers: {path} is not JSON ({exc})") from exc
    except LayerError as exc:
        raise ReplayError(f"--layers: {path}: {exc}") from exc
    problems = validate(layers)
    if problems:
        raise ReplayError(f"--layers: {path}: {LayerError(problems)}")
    return layers


def index_of(layers: LayerSet, layer_version: int = 0) -> GridIndex:
    """The grid index of a layer set (no database): what `GridIndexes` builds from stored rows."""
    streets = {f.code: f for f in layers.get("street")}
    communities = {f.code: f for f in layers.get("community")}
    grids = []
    for g in layers.get("grid"):
        community = communities[g.parent]
        street = streets[community.parent]
        grids.append(
            GridRecord(g.code, g.name, community.code, community.name, street.code, street.name, g.geometry)
        )
    return GridIndex(
        grids,
        district_code=layers.district_code(),
        layer_version=layer_version,
        streets=[StreetRecord(s.code, s.name, s.geometry) for s in streets.values()],
        outline=layers.get("district")[0].geometry,
    )


def areas_of(layers: LayerSet) -> Areas:
    """What the people check needs of a layer set (as `dispatch.people.sql.load_areas` reads it)."""
    points: dict[str, tuple[float, float]] = {}
    for layer in ("district", "street", "community", "grid"):
        for f in layers.get(layer):
            inside = shapely.point_on_surface(f.geometry)
            points[f.code] = (round(inside.x, 7), round(inside.y, 7))
    communities = {f.code: f.parent for f in layers.get("community")}
    return Areas(
        layers.district_code(),
        frozenset(f.code for f in layers.get("street")),
        communities,
        {f.code: (f.parent, communities[f.parent]) for f in layers.get("grid")},
        points,
    )


def read_people(
    path: Path, *, areas: Areas, workforce: Workforce, rosters: Mapping[str, object]
) -> Directory:
    """A roster sheet as a directory, checked as `yiwang people import --check` checks it."""
    try:
        rows = read_roster(path)
    except (OSError, SheetError) as exc:
        raise ReplayError(f"--people: {path}: {exc}") from exc
    people, problems = check_rows(rows, areas=areas, workforce=workforce, rosters=rosters)
    if problems:
        shown = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ReplayError(f"--people: {path}: {len(problems)} problem(s): {shown}{more}")
    active = [p for p in people if p.active]
    candidates = [
        Candidate(
            p.worker_id,
            p.force,
            p.grid_code,
            p.community_code,
            p.street_code,
            p.roster,
            0,
            p.home_lon,
            p.home_lat,
        )
        for p in active
    ]
    return Directory(candidates, {p.worker_id: p.level for p in active})


def configuration(
    label: str,
    *,
    rules: IntakeRules,
    index: GridIndex,
    gazetteer: Gazetteer | CityGazetteer,
    directory: Directory,
) -> Configuration:
    people = People(directory, {c.code: c.lead_department for c in rules.taxonomy.categories.values()})
    return Configuration(
        label,
        rules,
        Locator(FixedLayer(index), gazetteer, rules.taxonomy),
        people,
        tuple(g.code for g in index.grids),
    )


def people_rosters(folder: Path | None) -> dict[str, object]:
    """The roster codes a people sheet may name (the policy folder's rosters when it has them)."""
    return dict(load_rosters(policy_paths(folder)["rosters.toml"]))


def reference_configuration(label: str, district: ReferenceDistrict, rules: IntakeRules) -> Configuration:
    """A configuration over a shipped reference district, without a database (bench, tests)."""
    people = [
        Candidate(
            w.worker_id,
            w.force,
            w.grid_code,
            w.community_code,
            w.street_code,
            w.roster,
            0,
            w.home_lon,
            w.home_lat,
        )
        for w in district.workers
    ]
    return configuration(
        label,
        rules=rules,
        index=index_from_reference(district),
        gazetteer=Gazetteer.from_reference(district),
        directory=Directory(people, {w.worker_id: w.level for w in district.workers}),
    )
