"""A roster import from start to end: read, check every row, then write in one transaction.

Shared by `yiwang people import` and the people page; nothing is written unless every row
passed. `on_duty_in` answers "who is on duty now" for a grid or a community, with the dated
shift exceptions applied (the same resolution routing uses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from config.policy import load_workforce
from dispatch.directory import Directory
from dispatch.people.checks import Problem, check_rows
from dispatch.people.sheet import SheetRow
from dispatch.people.sql import ImportResult, apply_import, districts_of, load_areas
from dispatch.routing.rosters import load_rosters, on_shift, routing_rosters
from dispatch.routing.values import Candidate
from dispatch.scope import CITY, Scope
from dispatch.sla.calendar import WorkingCalendar

MAX_PROBLEMS_SHOWN = 200


@dataclass
class ImportOutcome:
    rows: int
    problems: list[Problem] = field(default_factory=list)
    result: ImportResult | None = None  # None: refused (problems) or only checked

    def lines(self) -> list[str]:
        if self.problems:
            out = [f"refused: {len(self.problems)} problem(s) in {self.rows} row(s); nothing was written"]
            out += [f"  {p}" for p in self.problems[:MAX_PROBLEMS_SHOWN]]
            if len(self.problems) > MAX_PROBLEMS_SHOWN:
                out.append(f"  … and {len(self.problems) - MAX_PROBLEMS_SHOWN} more")
            return out
        if self.result is None:
            return [f"checked {self.rows} row(s): no problems (nothing written: --check)"]
        return [f"imported {self.rows} row(s): " + self.result.lines()[0], *self.result.lines()[1:]]


def import_rows(
    conn: Connection, rows: list[SheetRow], *, write: bool = True, within: Scope = CITY
) -> ImportOutcome:
    """Check `rows` against the districts in force; write them (inside the caller's transaction)
    only when every row passed and `write`. `within`: the importing operator's scope — a
    district operator's sheet names only their district's areas and people (a row naming
    another district's area, or a person of another district, is refused naming its column)."""
    people, problems = check_rows(
        rows,
        areas=load_areas(conn),
        workforce=load_workforce(),
        rosters=load_rosters(),
        within=within.district,
    )
    if within.district is not None:
        theirs = districts_of(conn, [r.cells["worker_id"] for r in rows if r.cells["worker_id"]])
        problems += [
            Problem(r.sheet, r.row, "worker_id", f"{wid!r} is a person of district {theirs[wid]}, not yours")
            for r in rows
            if (wid := r.cells["worker_id"]) in theirs and theirs[wid] != within.district
        ]
    outcome = ImportOutcome(len(rows), problems)
    if not problems and write:
        outcome.result = apply_import(conn, people)
    return outcome


def on_duty_in(
    directory: Directory,
    at: datetime,
    calendar: WorkingCalendar,
    *,
    grid: str | None = None,
    community: str | None = None,
) -> list[Candidate]:
    """The people of a grid (its grid-level members) or a community (its community-level members
    and lead) on shift at `at`, exceptions applied, by worker id."""
    pool = directory.by_grid.get(grid or "", []) if grid else directory.by_community.get(community or "", [])
    rosters = routing_rosters()
    resolved = directory.on_duty_at(pool, at, calendar)
    return sorted(
        (c for c in resolved if c.roster in rosters and on_shift(rosters[c.roster], at, calendar)),
        key=lambda c: c.worker_id,
    )
