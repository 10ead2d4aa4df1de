"""Who is around a case: candidates for routing, the ladder's people, roles by worker id.

Built over the workforce `Directory` the worker and the API hold in memory (reloaded now and
then); open work counts come from the database at the time of the command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dispatch.directory import Directory
from dispatch.routing.values import Candidate
from dispatch.sla.ladder import LadderTarget


class People:
    def __init__(self, directory: Directory, lead_departments: Mapping[str, str]) -> None:
        """`lead_departments`: category code -> lead department (the unit copied on 督办)."""
        self.directory = directory
        self.lead_departments = dict(lead_departments)
        everyone = [
            *(c for group in directory.by_grid.values() for c in group),
            *(c for group in directory.by_community.values() for c in group),
            *(c for group in directory.by_street.values() for c in group),
            *(c for group in directory.by_district.values() for c in group),
        ]
        self.roles: dict[str, str] = {c.worker_id: c.role for c in everyone}

    def near(self, incident: Mapping[str, Any]) -> list[Candidate]:
        d = self.directory
        out: list[Candidate] = []
        if grid := incident.get("grid_code"):
            out += d.by_grid.get(grid, ())
        if community := incident.get("community_code"):
            out += d.by_community.get(community, ())
        if street := incident.get("street_code"):
            out += d.by_street.get(street, ())
        return out + d.district_people(district_of(incident))

    @staticmethod
    def loaded(candidates: list[Candidate], loads: Mapping[str, int]) -> list[Candidate]:
        return [replace(c, open_tasks=loads[c.worker_id]) if c.worker_id in loads else c for c in candidates]

    def targets(self, incident: Mapping[str, Any], assignee: str | None, target: LadderTarget) -> list[str]:
        """The people a ladder step names for this case (ids; the unit leader as `unit:<dept>`)."""
        if target is LadderTarget.ASSIGNEE:
            return [assignee] if assignee else []
        if target is LadderTarget.UNIT_LEADER:
            dept = self.lead_departments.get(str(incident.get("category")))
            return [f"unit:{dept}"] if dept else []
        d = self.directory
        if target is LadderTarget.COMMUNITY_LEAD:
            pool = d.by_community.get(incident.get("community_code") or "", [])
        elif target is LadderTarget.STREET_CENTER:
            pool = d.by_street.get(incident.get("street_code") or "", [])
        else:
            pool = d.district_people(district_of(incident))
        return sorted(c.worker_id for c in pool if c.role == target.value)


def district_of(incident: Mapping[str, Any]) -> str | None:
    """The case's district: its own column, else the six digits its grid, community or street
    code begins with (a summary row that leaves the column out); None when nothing says."""
    if code := incident.get("district_code"):
        return str(code)
    area = incident.get("grid_code") or incident.get("community_code") or incident.get("street_code")
    return str(area)[:6] if area else None
