"""People's open work in a replay, and the routing candidates it makes, kept as it changes.

The live intake asks the directory for a report's people with their stored open work
(`Directory.for_batch`: a copy of each person with the count filled in, built per batch), and
the tracker's reassignment does the same with `People.loaded`. A replay decides one report a
call, so that copy was made afresh for every report and every reassignment, for every person
near it. Here a person's loaded copy is kept until their count changes (twice a task: given
and ended) and the people near a place are gathered once per place; the candidates are the
same values in the same order.

A directory with dated shift exceptions resolves each person's shift for the instant asked
(`Directory.on_duty_at`); for it the replay asks the directory as the live intake does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from dispatch.cases.people import People
from dispatch.directory import Directory
from dispatch.intake.rules import LocatedReport
from dispatch.routing.values import Candidate
from dispatch.sla.calendar import WorkingCalendar

Place = tuple[str | None, str | None, str | None, str | None]
"""(grid, community, street, district) code: all a report's or a case's people depend on."""


class OpenWork:
    """Open tasks per person (`counts`) and the loaded candidates made of them."""

    def __init__(self, people: People, calendar: WorkingCalendar) -> None:
        self.people = people
        self.directory: Directory = people.directory
        self.calendar = calendar
        self.counts: Counter[str] = Counter()
        self.loaded: dict[str, Candidate] = {}
        """Person -> their candidate with today's `open_tasks`, made when first asked after a
        change; a person with none is their directory entry (as `for_batch` returns them)."""
        self.near_report: dict[Place, tuple[Candidate, ...]] = {}
        self.near_case: dict[Place, tuple[Candidate, ...]] = {}
        """The people near a place, as `Directory.near` (a report's) and `People.near` (a
        case's) gather them: apart, for they differ when the district is not named."""
        self.plain = not self.directory.exceptions

    def add(self, worker_id: str, n: int) -> None:
        """`n` more (or, negative, fewer) open tasks for one person."""
        self.counts[worker_id] += n
        self.loaded.pop(worker_id, None)

    def _with_work(self, near: tuple[Candidate, ...]) -> list[Candidate]:
        counts, loaded = self.counts, self.loaded
        out: list[Candidate] = []
        for c in near:
            n = counts.get(c.worker_id, 0)
            if n:
                held = loaded.get(c.worker_id)
                if held is None:
                    held = loaded[c.worker_id] = replace(c, open_tasks=n)
                out.append(held)
            else:
                out.append(c)
        return out

    def for_report(self, report: LocatedReport, at: datetime) -> Callable[[LocatedReport], list[Candidate]]:
        """What `Directory.for_batch([report], counts, at=at)` returns, for one report."""
        if not self.plain:
            return self.directory.for_batch([report], self.counts, at=at, calendar=self.calendar)
        place = (report.grid_code, report.community_code, report.street_code, report.district_code)
        near = self.near_report.get(place)
        if near is None:
            near = self.near_report[place] = tuple(self.directory.near(report))
        people = self._with_work(near)
        return lambda _report: people

    def for_case(self, incident: Mapping[str, Any], at: datetime) -> list[Candidate]:
        """What the tracker routes a reassignment among: `People.loaded(people.near(incident))`
        with shift exceptions resolved at `at` (a person with no open work is the same value)."""
        if not self.plain:
            loaded = People.loaded(self.people.near(incident), self.counts)
            return self.directory.on_duty_at(loaded, at, self.calendar)
        place = (
            incident.get("grid_code"),
            incident.get("community_code"),
            incident.get("street_code"),
            incident.get("district_code"),
        )
        near = self.near_case.get(place)
        if near is None:
            near = self.near_case[place] = tuple(self.people.near(incident))
        return self._with_work(near)
