"""Who may take a report in a grid: the workforce directory, held in memory by the worker.

For a grid: the grid-level force members of that grid, the community-level members and the
community lead of its community, the street center of its street, and the district center.
The router (dispatch.routing) picks among them; this module only gathers them. The directory
changes rarely (people join, move, change roster): the worker reloads it every few minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from sqlalchemy import Connection, select

from dispatch.intake import LocatedReport
from dispatch.routing.values import Candidate
from geo.models import WorkerRow


class Directory:
    def __init__(self, people: Iterable[Candidate], levels: Mapping[str, str]) -> None:
        """`levels`: each person's level (grid, community, street, district) by worker id."""
        self.by_grid: dict[str, list[Candidate]] = defaultdict(list)
        self.by_community: dict[str, list[Candidate]] = defaultdict(list)
        self.by_street: dict[str, list[Candidate]] = defaultdict(list)
        self.district: list[Candidate] = []
        self.size = 0
        for c in people:
            self.size += 1
            level = levels[c.worker_id]
            if level == "grid" and c.grid_code:
                self.by_grid[c.grid_code].append(c)
            elif level == "community" and c.community_code:
                self.by_community[c.community_code].append(c)
            elif level == "street" and c.street_code:
                self.by_street[c.street_code].append(c)
            elif level == "district":
                self.district.append(c)

    @classmethod
    def load(cls, conn: Connection) -> Directory:
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
            )
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
            )
            for r in rows
        ]
        return cls(people, {r.worker_id: r.level for r in rows})

    def near(self, report: LocatedReport) -> list[Candidate]:
        """Everyone who might take `report`, before open work is known."""
        out: list[Candidate] = []
        if report.grid_code:
            out += self.by_grid.get(report.grid_code, ())
        if report.community_code:
            out += self.by_community.get(report.community_code, ())
        if report.street_code:
            out += self.by_street.get(report.street_code, ())
        out += self.district
        return out

    def for_batch(
        self, reports: Sequence[LocatedReport], loads: Mapping[str, int]
    ) -> Callable[[LocatedReport], list[Candidate]]:
        """A lookup with each person's stored open work filled in (built once per batch)."""
        loaded: dict[str, Candidate] = {}

        def candidates(report: LocatedReport) -> list[Candidate]:
            out = []
            for c in self.near(report):
                held = loaded.get(c.worker_id)
                if held is None:
                    n = loads.get(c.worker_id, 0)
                    held = loaded[c.worker_id] = replace(c, open_tasks=n) if n else c
                out.append(held)
            return out

        return candidates

    def ids(self, reports: Sequence[LocatedReport]) -> set[str]:
        return {c.worker_id for r in reports for c in self.near(r)}
