"""Checking a roster sheet before anything is written (pure: the district's areas, the forces
and the rosters are passed in).

Every row is checked and every problem reported, each naming its sheet, row and column, so
a district team fixes the whole sheet in one pass. A person's level comes from their force
(config/forces.toml), never from the sheet: a grid-level force member needs a grid, a
community-level one a community, a street center a street. Codes above the one given are
filled in from the district's layers (a grid names its community and street) and must agree
when the sheet gives them too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from config.policy import Force, Level, Workforce
from dispatch.people.sheet import SheetRow

WORKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PHONE_DIGITS = re.compile(r"^(1\d{10}|0\d{9,11})$")
"""A mainland mobile (11 digits starting with 1; the reference district's fake "100-…" numbers
too) or a landline with its area code; spaces and hyphens are ignored."""
_TRUE = {"", "yes", "y", "true", "1", "是", "在岗"}
_FALSE = {"no", "n", "false", "0", "否", "离岗"}


@dataclass(frozen=True, slots=True)
class Areas:
    """The district's current areas: grid -> (community, street), community -> street."""

    district: str
    streets: frozenset[str]
    communities: Mapping[str, str]
    grids: Mapping[str, tuple[str, str]]
    points: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """A point inside each area (by code, the district's too): home of a person given none."""
    districts: frozenset[str] = frozenset()
    """Every district in force (several share one deployment); empty: `district` alone."""

    def district_codes(self) -> frozenset[str]:
        return self.districts or frozenset({self.district})


@dataclass(frozen=True, slots=True)
class Problem:
    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"sheet {self.sheet!r} row {self.row} column {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class Person:
    """One checked row: what a `workers` row holds (phone is personal data: not in repr)."""

    worker_id: str
    name: str
    force: str
    is_role: bool
    level: Level
    street_code: str | None
    community_code: str | None
    grid_code: str | None
    roster: str
    home_lon: float
    home_lat: float
    active: bool
    phone: str = field(repr=False)
    district_code: str = ""

    @property
    def scope(self) -> str:
        """The area whose workforce this person belongs to (what a sheet replaces)."""
        return self.community_code or self.street_code or f"district {self.district_code}"


def check_rows(
    rows: Iterable[SheetRow],
    *,
    areas: Areas,
    workforce: Workforce,
    rosters: Iterable[str],
    within: str | None = None,
) -> tuple[list[Person], list[Problem]]:
    """The people of the sheet, or (when the list is not empty) every problem found.

    `within`: the importing operator's district (None: the city operator, every district); a
    row naming an area of another district is refused, naming the column that names it, and a
    district-level person of the sheet is of that district unless the row says otherwise."""
    roster_codes = frozenset(rosters)
    seen: dict[str, SheetRow] = {}
    people: list[Person] = []
    problems: list[Problem] = []
    for row in rows:
        found: list[Problem] = []
        person = _check(row, areas, workforce, roster_codes, found, within=within)
        wid = row.cells["worker_id"]
        if wid and wid in seen:
            first = seen[wid]
            found.append(
                Problem(
                    row.sheet,
                    row.row,
                    "worker_id",
                    f"duplicate id {wid!r} (also sheet {first.sheet!r} row {first.row})",
                )
            )
        elif wid:
            seen[wid] = row
        problems += found
        if person is not None and not found:
            people.append(person)
    return people, problems


def _check(
    row: SheetRow,
    areas: Areas,
    workforce: Workforce,
    rosters: frozenset[str],
    out: list[Problem],
    *,
    within: str | None,
) -> Person | None:
    c = row.cells

    def bad(column: str, message: str) -> None:
        out.append(Problem(row.sheet, row.row, column, message))

    for col in ("worker_id", "name", "force", "roster", "phone"):
        if not c[col]:
            bad(col, "required, empty")
    if c["worker_id"] and not WORKER_ID.match(c["worker_id"]):
        bad("worker_id", "letters, digits, '.', '_' and '-' only, at most 64")
    force: Force | None = None
    if c["force"]:
        force = workforce.forces.get(c["force"]) or workforce.roles.get(c["force"])
        if force is None:
            bad("force", f"unknown force {c['force']!r} (config/forces.toml)")
    if c["roster"] and c["roster"] not in rosters:
        bad("roster", f"unknown roster {c['roster']!r} (config/rosters.toml)")
    phone = re.sub(r"[\s-]", "", c["phone"])
    if c["phone"] and not PHONE_DIGITS.match(phone):
        bad("phone", "not a phone number (11-digit mobile or a landline with its area code)")
    active = c["active"].lower()
    if active not in _TRUE | _FALSE:
        bad("active", f"{c['active']!r}: yes or no")
    place = _place(c, force, areas, bad) if force is not None else None
    district = _district(c, place, areas, bad, within) if place is not None else None
    home = _home(c, areas, place, bad)
    if out or force is None or place is None or home is None or district is None:
        return None
    street, community, grid = place
    return Person(
        worker_id=c["worker_id"],
        name=c["name"],
        force=force.code,
        is_role=force.code in workforce.roles,
        level=force.level,
        street_code=street,
        community_code=community,
        grid_code=grid,
        roster=c["roster"],
        home_lon=home[0],
        home_lat=home[1],
        active=active not in _FALSE,
        phone=c["phone"],
        district_code=district,
    )


Place = tuple[str | None, str | None, str | None]  # street, community, grid
Bad = Callable[[str, str], None]


def _place(c: Mapping[str, str], force: Force, areas: Areas, bad: Bad) -> Place | None:
    grid, community, street = c["grid_code"] or None, c["community_code"] or None, c["street_code"] or None
    level = force.level
    above = {"grid": 0, "community": 1, "street": 2, "district": 3}[level]
    for rank, column, value in (
        (1, "grid_code", grid),
        (2, "community_code", community),
        (3, "street_code", street),
    ):
        if rank <= above and value is not None:
            bad(column, f"must be empty for {force.code} (a {level}-level role)")
    if level == "grid":
        return _in_grid(grid, community, street, force=force, areas=areas, bad=bad)
    if level == "community":
        return _in_community(community, street, force, areas, bad)
    if level == "street":
        if street is None or street not in areas.streets:
            bad("street_code", f"unknown street {street!r}" if street else f"required for {force.code}")
            return None
        return street, None, None
    return None, None, None


def _district(c: Mapping[str, str], place: Place, areas: Areas, bad: Bad, within: str | None) -> str | None:
    """The person's district: that of their area's code; a district-level person's from the
    `district_code` column, which may be left out while one district is loaded or when the sheet
    is a district operator's (`within`: theirs, and no other district's row is taken)."""
    given = c.get("district_code") or None
    street, community, grid = place
    code = grid or community or street  # the most specific: what the row named
    if code is None:
        return _district_named(given, areas.district_codes(), within, bad)
    district = code[:6]
    if given is not None and given != district:
        bad("district_code", f"{given!r}, but {code} is in district {district}")
        return None
    if within is not None and district != within:
        column = "grid_code" if grid else "community_code" if community else "street_code"
        bad(column, f"{code} is in district {district}, outside yours ({within})")
        return None
    return district


def _district_named(given: str | None, known: frozenset[str], within: str | None, bad: Bad) -> str | None:
    """A district-level person's district: the `district_code` column's, checked."""
    if given is None and within is not None:
        return within
    if given is None and len(known) == 1:
        return next(iter(known))
    if given is None:
        bad(
            "district_code",
            f"required for a district-level role ({len(known)} districts: {', '.join(sorted(known))})",
        )
    elif given not in known:
        bad("district_code", f"unknown district {given!r} (loaded: {', '.join(sorted(known))})")
    elif within is not None and given != within:
        bad("district_code", f"{given!r} is another district than yours ({within})")
    else:
        return given
    return None


def _in_grid(
    grid: str | None, community: str | None, street: str | None, *, force: Force, areas: Areas, bad: Bad
) -> Place | None:
    if grid is None or grid not in areas.grids:
        bad(
            "grid_code",
            f"unknown grid {grid!r}" if grid else f"required for {force.code} (a grid-level force)",
        )
        return None
    want_c, want_s = areas.grids[grid]
    if community is not None and community != want_c:
        bad("community_code", f"{community!r}, but grid {grid} is in community {want_c}")
    if street is not None and street != want_s:
        bad("street_code", f"{street!r}, but grid {grid} is in street {want_s}")
    return want_s, want_c, grid


def _in_community(
    community: str | None, street: str | None, force: Force, areas: Areas, bad: Bad
) -> Place | None:
    if community is None or community not in areas.communities:
        bad(
            "community_code",
            f"unknown community {community!r}" if community else f"required for {force.code}",
        )
        return None
    want_s = areas.communities[community]
    if street is not None and street != want_s:
        bad("street_code", f"{street!r}, but community {community} is in street {want_s}")
    return want_s, community, None


def _home(c: Mapping[str, str], areas: Areas, place: Place | None, bad: Bad) -> tuple[float, float] | None:
    lon_text, lat_text = c["home_lon"], c["home_lat"]
    if not lon_text and not lat_text:
        if place is None:
            return None
        street, community, grid = place
        code = grid or community or street or c.get("district_code") or areas.district
        return areas.points.get(code, (0.0, 0.0))
    values: list[float] = []
    for col, text, low, high in (("home_lon", lon_text, -180.0, 180.0), ("home_lat", lat_text, -90.0, 90.0)):
        try:
            v = float(text)
        except ValueError:
            bad(col, f"{text!r} is not a number" if text else "required when the other coordinate is given")
            continue
        if not low <= v <= high:
            bad(col, f"{v} is out of range [{low:g}, {high:g}]")
            continue
        values.append(v)
    return (values[0], values[1]) if len(values) == 2 else None
