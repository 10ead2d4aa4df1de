"""Duplicate merging: is this report another sighting of an incident we already have?

The rule lives here, as a pure function over plain values, so that the stream intake
(which feeds it candidates from the database under a per-cell lock) and the tests call
the same code. Two reports are the same incident only when they are the same *problem*: the
same category, or categories `config/merging.toml` declares one problem (井盖缺失 and 井盖破损),
never merely the same family (a streetlight is not a manhole). Nearest match wins (distances
within a metre tie); ties go to the older incident, so the outcome does not depend on the
order candidates arrive in.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import msgspec

from config.policy import CONFIG_DIR, Duration, PolicyError, Priority, Taxonomy, read_toml

MERGING_FILE = CONFIG_DIR / "merging.toml"
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class MergePolicy:
    radius_m: float
    window: timedelta
    never_merge: frozenset[str]  # families whose reports always open their own case
    same_problem: Mapping[str, str] = field(default_factory=dict, hash=False)
    """category -> the problem it is declared part of; a category not listed is its own problem."""
    p0_across_agencies: bool = False
    """May two P0 reports merge when different agencies (lead departments) lead them?"""

    @classmethod
    def load(cls, path: Path = MERGING_FILE, *, taxonomy: Taxonomy | None = None) -> MergePolicy:
        doc = read_toml(path)
        window = Duration.parse(doc["window"])
        minutes = {"min": 1, "h": 60, "d": 1440}[window.unit] * window.value
        radius = float(doc["radius_m"])
        if radius <= 0:
            raise PolicyError(f"{path}: radius_m must be > 0")
        across = doc.get("p0_across_agencies", False)
        if not isinstance(across, bool):
            raise PolicyError(f"{path}: p0_across_agencies must be true or false")
        problems = _problems(doc.get("same_problem", {}), taxonomy, f"{path}: same_problem")
        return cls(
            radius, timedelta(minutes=minutes), frozenset(doc.get("never_merge", [])), problems, across
        )

    @property
    def search_degrees(self) -> float:
        """A bounding half-width in degrees that surely contains radius_m (for index queries)."""
        return self.radius_m / 111_000 / math.cos(math.radians(60))

    def problem_of(self, category: str) -> str:
        """The merge key of a category: its declared problem, or the category itself."""
        return self.same_problem.get(category, category)

    def mergeable(self, family: str) -> bool:
        return family not in self.never_merge


def _problems(table: object, taxonomy: Taxonomy | None, where: str) -> dict[str, str]:
    """`[same_problem]` name = [categories]: each category in at most one problem, all of one family."""
    if not isinstance(table, dict):
        raise PolicyError(f"{where}: must be a table of problem = [category, ...]")
    out: dict[str, str] = {}
    for name, codes in table.items():
        if not isinstance(codes, list) or len(codes) < 2 or not all(isinstance(c, str) for c in codes):
            raise PolicyError(f"{where}.{name}: must list at least two category codes")
        for code in codes:
            if code in out:
                raise PolicyError(f"{where}.{name}: category {code!r} is already in problem {out[code]!r}")
            out[code] = f"problem:{name}"
        if taxonomy is not None:
            unknown = [c for c in codes if c not in taxonomy.categories]
            if unknown:
                raise PolicyError(f"{where}.{name}: unknown category {unknown[0]!r}")
            families = {taxonomy.categories[c].family for c in codes}
            if len(families) > 1:
                raise PolicyError(
                    f"{where}.{name}: categories of one problem must share a family, not {sorted(families)}"
                )
    return out


class Sighting(msgspec.Struct, frozen=True):
    """What the rule needs to know about a located report.

    A frozen msgspec Struct: the intake builds one per report it may merge, and a frozen
    dataclass's `__init__` (a `object.__setattr__` per field) costs several times more."""

    problem: str
    lon: float
    lat: float
    at: datetime
    priority: Priority
    lead: str  # the agency that leads its category (its lead department)


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """What the rule needs to know about an incident that may absorb the report."""

    incident_id: str
    problem: str
    lon: float
    lat: float
    first_at: datetime
    last_at: datetime
    priority: Priority
    lead: str


LOCK_CELL_DEG = 0.006
"""Lock cell size: larger than the merge diameter (500 m) in both directions at these latitudes."""


def lock_keys(problem: str, lon: float, lat: float, policy: MergePolicy) -> list[int]:
    """Advisory-lock keys that serialise every pair of reports that could merge.

    A report locks each (problem, cell) its merge disc touches, its own cell included. Two
    reports within the radius share a cell (the other's cell lies in each one's disc), and a
    report and any incident it could join share the incident's cell; reports farther apart
    rarely share one, so workers contend only where duplicates are actually possible.

    >>> policy = MergePolicy(250, timedelta(minutes=30), frozenset())
    >>> len(lock_keys("road_traffic", 106.4531, 29.5512, policy))
    4
    """
    dlat = policy.radius_m / 111_000
    dlon = policy.radius_m / (111_320 * math.cos(math.radians(lat)))
    x0, x1 = math.floor((lon - dlon) / LOCK_CELL_DEG), math.floor((lon + dlon) / LOCK_CELL_DEG)
    y0, y1 = math.floor((lat - dlat) / LOCK_CELL_DEG), math.floor((lat + dlat) / LOCK_CELL_DEG)
    return [_key(problem, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _key(problem: str, x: int, y: int) -> int:
    digest = hashlib.blake2b(f"{problem}:{x}:{y}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine); exact enough at 250 m scales.

    >>> round(distance_m(106.45, 29.55, 106.45, 29.551))
    111
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def find_match(
    sighting: Sighting, candidates: Iterable[OpenIncident], policy: MergePolicy
) -> OpenIncident | None:
    """The incident this sighting duplicates, or None for a new incident.

    Same problem, within the radius and the window; and, unless the policy allows it, never
    two P0s that different agencies lead (each runs its own dispatch for its life-safety case).
    """
    best: tuple[int, datetime, str] | None = None
    match: OpenIncident | None = None
    for incident in candidates:
        if incident.problem != sighting.problem:
            continue
        if _p0_apart(policy, sighting.priority, sighting.lead, incident):
            continue
        if sighting.at < incident.first_at - policy.window or sighting.at > incident.last_at + policy.window:
            continue
        d = distance_m(sighting.lon, sighting.lat, incident.lon, incident.lat)
        if d > policy.radius_m:
            continue
        key = (round(d), incident.first_at, incident.incident_id)  # within a metre is a tie
        if best is None or key < best:
            best, match = key, incident
    return match


def _p0_apart(policy: MergePolicy, priority: Priority, lead: str, incident: OpenIncident) -> bool:
    """Two P0s that different agencies lead stay apart (unless the policy allows it)."""
    return (
        not policy.p0_across_agencies
        and priority is Priority.P0
        and incident.priority is Priority.P0
        and incident.lead != lead
    )


def merge_suggestions(
    case: OpenIncident, candidates: Iterable[OpenIncident], policy: MergePolicy
) -> list[tuple[OpenIncident, float]]:
    """Open cases an operator may merge `case` into, nearest first, with their distance: the
    same problem within the radius, never two P0s different agencies lead. Any grid (a
    boundary often runs down the street the problem is on) and any time: the window bounds
    only what the intake merges by itself, an operator looks at cases that are still open.

    >>> policy = MergePolicy(250, timedelta(minutes=30), frozenset())
    >>> t = datetime(2026, 1, 1)
    >>> here = OpenIncident("a", "fallen_tree", 106.45, 29.55, t, t, Priority.P2, "parks")
    >>> near = OpenIncident("b", "fallen_tree", 106.45, 29.551, t, t, Priority.P2, "parks")
    >>> far = OpenIncident("c", "fallen_tree", 106.46, 29.55, t, t, Priority.P2, "parks")
    >>> [(o.incident_id, round(d)) for o, d in merge_suggestions(here, [far, near], policy)]
    [('b', 111)]
    """
    out: list[tuple[OpenIncident, float]] = []
    for other in candidates:
        if other.incident_id == case.incident_id or other.problem != case.problem:
            continue
        if _p0_apart(policy, case.priority, case.lead, other):
            continue
        d = distance_m(case.lon, case.lat, other.lon, other.lat)
        if d <= policy.radius_m:
            out.append((other, d))
    return sorted(out, key=lambda pair: (round(pair[1]), pair[0].first_at, pair[0].incident_id))
