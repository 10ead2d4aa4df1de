"""Who may take a report in a grid: the workforce directory, held in memory by the worker.

For a grid: the grid-level force members of that grid, the community-level members and the
community lead of its community, the street center of its street, and the center of the report's
own district (several districts share one deployment: a case of one never reaches another's
people; the city desk's people are those of district `city`).
The router (dispatch.routing) picks among them; this module only gathers them. Only active
people are loaded (a roster import deactivates whoever left). The stream worker and the SLA
service reload it every `REFRESH_EVERY_S` (streams/worker.py, streams/sla/runtime.py: 120 s),
so an imported person or a new shift exception routes within two minutes, without a restart.

Dated shift exceptions (swap, take, leave: dispatch.routing.rosters) are loaded with the people.
`on_duty_at(candidates, at)` resolves everyone an exception touches to the fixed ON_DUTY or
OFF_DUTY roster for that instant, so the router's rule stays the plain roster rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, select

from dispatch.intake.rules import LocatedReport
from dispatch.people.models import RosterExceptionRow
from dispatch.routing.rosters import (
    OFF_DUTY,
    ON_DUTY,
    ExceptionKind,
    Roster,
    RosterException,
    on_duty,
    routing_rosters,
)
from dispatch.routing.values import Candidate
from dispatch.sla.calendar import WorkingCalendar
from geo.models import WorkerRow


class Directory:
    def __init__(
        self,
        people: Iterable[Candidate],
        levels: Mapping[str, str],
        exceptions: Iterable[RosterException] = (),
    ) -> None:
        """`levels`: each person's level (grid, community, street, district) by worker id."""
        self.exceptions: dict[str, list[RosterException]] = defaultdict(list)
        for e in exceptions:
            for who in e.people:
                self.exceptions[who].append(e)
        self.regular: dict[str, str] = {}
        self._rosters: Mapping[str, Roster] | None = None
        self.by_grid: dict[str, list[Candidate]] = defaultdict(list)
        self.by_community: dict[str, list[Candidate]] = defaultdict(list)
        self.by_street: dict[str, list[Candidate]] = defaultdict(list)
        self.by_district: dict[str, list[Candidate]] = defaultdict(list)
        """District-level people by their district code ("" for a person of no named district)."""
        self.size = 0
        for c in people:
            self.size += 1
            self.regular[c.worker_id] = c.roster
            level = levels[c.worker_id]
            if level == "grid" and c.grid_code:
                self.by_grid[c.grid_code].append(c)
            elif level == "community" and c.community_code:
                self.by_community[c.community_code].append(c)
            elif level == "street" and c.street_code:
                self.by_street[c.street_code].append(c)
            elif level == "district":
                self.by_district[c.district_code or ""].append(c)

    @classmethod
    def load(cls, conn: Connection) -> Directory:
        """Active people and the dated shift exceptions."""
        rows = conn.execute(
            select(
                WorkerRow.worker_id,
                WorkerRow.force,
                WorkerRow.level,
                WorkerRow.grid_code,
                WorkerRow.community_code,
                WorkerRow.street_code,
                WorkerRow.roster,
                WorkerRow.home_lon,
                WorkerRow.home_lat,
                WorkerRow.district_code,
            ).where(WorkerRow.active)
        ).all()
        people = [
            Candidate(
                r.worker_id,
                r.force,
                r.grid_code,
                r.community_code,
                r.street_code,
                r.roster,
                0,
                r.home_lon,
                r.home_lat,
                r.district_code,
            )
            for r in rows
        ]
        return cls(people, {r.worker_id: r.level for r in rows}, load_exceptions(conn))

    def on_duty_at(
        self, candidates: Iterable[Candidate], at: datetime, calendar: WorkingCalendar
    ) -> list[Candidate]:
        """`candidates` with every person a dated exception touches resolved for the instant `at`."""
        if not self.exceptions:
            return list(candidates)
        if self._rosters is None:
            self._rosters = routing_rosters()
        out = []
        for c in candidates:
            held = self.exceptions.get(c.worker_id)
            if held:
                on = on_duty(
                    c.worker_id,
                    at,
                    rosters=self._rosters,
                    regular=self.regular,
                    exceptions=held,
                    calendar=calendar,
                )
                out.append(replace(c, roster=(ON_DUTY if on else OFF_DUTY).code))
            else:
                out.append(c)
        return out

    def near(self, report: LocatedReport) -> list[Candidate]:
        """Everyone who might take `report`, before open work is known."""
        out: list[Candidate] = []
        if report.grid_code:
            out += self.by_grid.get(report.grid_code, ())
        if report.community_code:
            out += self.by_community.get(report.community_code, ())
        if report.street_code:
            out += self.by_street.get(report.street_code, ())
        return out + self.district_people(report.district_code)

    def district_people(self, district_code: str | None) -> list[Candidate]:
        """The district-level people (its center's duty desk) of one district and those of no
        named district; every district's when the caller does not know the district."""
        if district_code is None:
            return [c for group in self.by_district.values() for c in group]
        unnamed = self.by_district.get("", []) if district_code else []
        return [*self.by_district.get(district_code, ()), *unnamed]

    def for_batch(
        self,
        reports: Sequence[LocatedReport],
        loads: Mapping[str, int],
        *,
        at: datetime,
        calendar: WorkingCalendar,
    ) -> Callable[[LocatedReport], list[Candidate]]:
        """A lookup with each person's stored open work filled in and their shift exceptions
        resolved for the instant `at` (built once per batch)."""
        loaded: dict[str, Candidate] = {}

        def candidates(report: LocatedReport) -> list[Candidate]:
            out = []
            for c in self.near(report):
                held = loaded.get(c.worker_id)
                if held is None:
                    n = loads.get(c.worker_id, 0)
                    held = replace(c, open_tasks=n) if n else c
                    if held.worker_id in self.exceptions:
                        held = self.on_duty_at([held], at, calendar)[0]
                    loaded[c.worker_id] = held
                out.append(held)
            return out

        return candidates

    def ids(self, reports: Sequence[LocatedReport]) -> set[str]:
        return {c.worker_id for r in reports for c in self.near(r)}


def load_exceptions(conn: Connection) -> list[RosterException]:
    """Every recorded exception (a few per person and month: cheap to hold; a past one never
    matches a shift running now, and tests drive the clock to any day)."""
    t = RosterExceptionRow
    rows = conn.execute(select(t.kind, t.worker_id, t.first_day, t.last_day, t.other_id).order_by(t.id)).all()
    return [
        RosterException(ExceptionKind(r.kind), r.worker_id, r.first_day, r.last_day, r.other_id) for r in rows
    ]
