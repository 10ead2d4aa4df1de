"""Who may see which cases: one value — the whole city, one district, one street of a district,
or one community — that renders both the Python check for a row or an event and the SQL clause
for a query, so a list, a detail, the map, the KPIs, the live feed and an export can never
disagree about what is in a caller's scope.

Area codes nest (行政区划代码 and the grid code built on it): a district's 6 digits begin each of
its streets' 9, a street's begin its communities' 12 and its grids' 15. A row that names no
area at the scope's level is placed by the prefix of a finer code it does name.

>>> jlp = Scope(district="500107")
>>> [jlp.admits({"street_code": "500107002"}), jlp.admits({"grid_code": "500106001001001"})]
[True, False]
>>> Scope(street="500106001").district
'500106'
>>> print(Scope(street="500106001").where("i").as_string())
"i"."street_code" = '500106001'
>>> print(Scope(district="500107").where("g", {Level.GRID: "code"}).as_string())
left("g"."code", 6) = '500107'
>>> Scope().admits({"district_code": "city"}), Scope().where().as_string()
(True, 'TRUE')
>>> unplaced = {"district_code": "500107", "grid_code": None}
>>> jlp.admits(unplaced), Scope(street="500107001").admits(unplaced)
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from psycopg import sql


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


DIGITS = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12, Level.GRID: 15}
"""How many digits each level's code has (grids: 6 admin + 3 street + 3 community + 3 grid)."""

INCIDENT_COLUMNS = {
    Level.DISTRICT: "district_code",
    Level.STREET: "street_code",
    Level.COMMUNITY: "community_code",
    Level.GRID: "grid_code",
}
"""The area columns of a case row (incidents) and of most rows that copy them."""


class ScopeError(ValueError):
    """A scope that does not nest, or a filter outside the caller's scope (`field` names it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class Scope:
    """`Scope()` is the whole city (城市运行管理中心); `Scope(district=…)` one district
    (区社会治理中心); with `street` one street of it, with `community` one community of that.
    A finer code implies the coarser ones (`Scope(street="500106001").district == "500106"`)."""

    district: str | None = None
    street: str | None = None
    community: str | None = None

    def __post_init__(self) -> None:
        finer: str | None = None
        for level, code in ((Level.COMMUNITY, self.community), (Level.STREET, self.street)):
            if code is None:
                continue
            if not code.isdigit() or len(code) != DIGITS[level]:
                raise ScopeError(level.value, f"{code!r} is not a {DIGITS[level]}-digit {level} code")
            if finer is not None and not finer.startswith(code):
                raise ScopeError(level.value, f"{finer} does not lie in {level} {code}")
            finer = code
        if self.district is not None and (not self.district.isdigit() or len(self.district) != 6):
            raise ScopeError("district", f"{self.district!r} is not a 6-digit district code")
        if finer is not None and self.district is not None and not finer.startswith(self.district):
            raise ScopeError("district", f"{finer} does not lie in district {self.district}")
        if self.street is None and self.community is not None:
            object.__setattr__(self, "street", self.community[: DIGITS[Level.STREET]])
        if self.district is None and finer is not None:
            object.__setattr__(self, "district", finer[: DIGITS[Level.DISTRICT]])

    @property
    def level(self) -> Level:
        if self.community is not None:
            return Level.COMMUNITY
        if self.street is not None:
            return Level.STREET
        return Level.CITY if self.district is None else Level.DISTRICT

    @property
    def code(self) -> str | None:
        """The narrowest code of the scope; None for the whole city."""
        return self.community or self.street or self.district

    @property
    def whole_city(self) -> bool:
        return self.district is None

    def covers(self, code: str | None) -> bool:
        """Whether an area (a district, street, community or grid code) lies inside the scope.
        Nothing unplaced (None) lies inside a district; everything lies inside the city."""
        mine = self.code
        return mine is None or (code is not None and code.startswith(mine))

    def admits(self, row: Mapping[str, Any]) -> bool:
        """The Python check for a row or an event naming any of `district_code`, `street_code`,
        `community_code`, `grid_code`: a district's scope admits by the district it names (a case
        at its district's centre names no finer area), a finer scope by the finest code named."""
        if self.code is None:
            return True
        if self.street is None:
            district = row.get(INCIDENT_COLUMNS[Level.DISTRICT])
            if district:
                return bool(district == self.district)
        for level in (Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT):
            code = row.get(INCIDENT_COLUMNS[level])
            if code:
                return self.covers(str(code))
        return False

    def check(self, field: str, code: str | None) -> None:
        """A filter naming an area (`street=…`, `grid=…`) must lie inside the scope: a caller
        never asks about an area that is not theirs (ScopeError naming the field: 403)."""
        if code is not None and not self.covers(code):
            raise ScopeError(field, f"{code} is outside your scope ({self.level} {self.code})")

    def where(self, alias: str = "i", columns: Mapping[Level, str] = INCIDENT_COLUMNS) -> sql.Composable:
        """The SQL clause over a table aliased `alias` whose area columns are `columns`: an
        equality on the scope's own level, or a prefix of the finest column when the table has
        none at that level (tasks and people name no district). The codes are digits (checked
        when the scope is made) rendered as literals, so the clause joins any query, with
        positional or named parameters alike."""
        code = self.code
        if code is None:
            return sql.SQL("TRUE")
        level = self.level
        order = [Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]
        if level in columns:
            column = sql.Identifier(alias, columns[level])
            return sql.SQL("{} = {}").format(column, sql.Literal(code))
        finer = [lv for lv in order[order.index(level) + 1 :] if lv in columns]
        if not finer:
            raise ScopeError(level.value, f"the table {alias} names no area at or below the {level}")
        column = sql.Identifier(alias, columns[finer[0]])
        return sql.SQL("left({}, {}) = {}").format(column, sql.Literal(len(code)), sql.Literal(code))

    def describe(self) -> str:
        return "the whole city" if self.code is None else f"{self.level} {self.code}"


CITY = Scope()
"""The whole city: every district, and what no district holds (the city desk)."""
