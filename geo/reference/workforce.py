"""Generate the workforce directory: force members and ladder role holders.

Force and role codes and levels come from config/forces.toml, roster codes from
config/rosters.toml; the mix (how many of each, on which rosters) from the parameter file.
A grid-level force member belongs to one grid, a community-level one covers every grid of
one community; role holders are one community_lead per community, one street_center duty
desk per street and one district_center duty desk.

Phones are fake: "100-xxxx-xxxx" (no Chinese mobile number starts with 100). They are
personal data all the same: never logged (Worker leaves them out of repr()).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from config.policy import CONFIG_DIR, Force, load_workforce
from geo.reference import names
from geo.reference.district import Area, Building, Grid, Level, Street, Worker
from geo.reference.params import Params, ParamsError, StaffParam

ROSTERS_FILE = CONFIG_DIR / "rosters.toml"
HOURS_PER_WEEK = 168


def roster_codes(path: Path = ROSTERS_FILE) -> set[str]:
    with path.open("rb") as fh:
        return {r["code"] for r in tomllib.load(fh)["roster"]}


def _home(area: BaseGeometry, rng: np.random.Generator) -> tuple[float, float]:
    x0, y0, x1, y1 = area.bounds
    for _ in range(1000):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(area, x, y):
            return round(x, 7), round(y, 7)
    point = area.representative_point()
    return round(point.x, 7), round(point.y, 7)


def _roster(param: StaffParam, rng: np.random.Generator) -> str:
    codes = [c for c, _ in param.rosters]
    shares = np.array([s for _, s in param.rosters])
    return codes[int(rng.choice(len(codes), p=shares / shares.sum()))]


class _Directory:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.workers: list[Worker] = []
        self.phones: set[str] = set()
        self.seq: Counter[tuple[str, str]] = Counter()

    def phone(self) -> str:
        while True:
            number = f"100-{int(self.rng.integers(10_000)):04d}-{int(self.rng.integers(10_000)):04d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def add(
        self,
        *,
        force: Force,
        param: StaffParam,
        unit: str,
        street: str | None,
        community: str | None,
        grid: str | None,
        home: tuple[float, float],
    ) -> None:
        self.seq[(unit, force.code)] += 1
        self.workers.append(
            Worker(
                worker_id=f"{unit}-{force.code}-{self.seq[(unit, force.code)]}",
                name=names.person_name(self.rng),
                force=force.code,
                is_role=param.is_role,
                level=Level(force.level),
                street_code=street,
                community_code=community,
                grid_code=grid,
                roster=_roster(param, self.rng),
                home_lon=home[0],
                home_lat=home[1],
                phone=self.phone(),
            )
        )


def generate_workers(
    *,
    params: Params,
    streets: tuple[Street, ...],
    communities: tuple[Area, ...],
    grids: tuple[Grid, ...],
    buildings: tuple[Building, ...],
    rng: np.random.Generator,
) -> tuple[Worker, ...]:
    policy = load_workforce()
    known_rosters = roster_codes()
    per_grid_buildings = Counter(b.grid_code for b in buildings)
    weights = np.array([per_grid_buildings[g.code] + 1.0 for g in grids])
    out = _Directory(rng)
    for param in params.staff:
        table = policy.roles if param.is_role else policy.forces
        force = table.get(param.code)
        if force is None:
            raise ParamsError(
                f"workforce: {param.code!r} is not a {'role' if param.is_role else 'force'} "
                "in config/forces.toml"
            )
        unknown = [c for c, _ in param.rosters if c not in known_rosters]
        if unknown:
            raise ParamsError(f"workforce {param.code}: unknown rosters {unknown} (config/rosters.toml)")
        if force.level == "grid":
            picks = [i for i in range(len(grids)) for _ in range(param.per_grid)]
            if param.count:
                picks += sorted(rng.choice(len(grids), size=param.count, p=weights / weights.sum()).tolist())
            for i in picks:
                g = grids[i]
                out.add(
                    force=force,
                    param=param,
                    unit=g.code,
                    street=g.street_code,
                    community=g.parent_code,
                    grid=g.code,
                    home=_home(g.geometry, rng),
                )
        elif force.level == "community":
            for c in communities:
                for _ in range(max(param.per_community, 1 if param.is_role else 0)):
                    out.add(
                        force=force,
                        param=param,
                        unit=c.code,
                        street=c.parent_code,
                        community=c.code,
                        grid=None,
                        home=_home(c.geometry, rng),
                    )
        elif force.level == "street":
            for s in streets:
                point = s.geometry.representative_point()
                out.add(
                    force=force,
                    param=param,
                    unit=s.code,
                    street=s.code,
                    community=None,
                    grid=None,
                    home=(round(point.x, 7), round(point.y, 7)),
                )
        else:
            out.add(
                force=force,
                param=param,
                unit=params.district_code,
                street=None,
                community=None,
                grid=None,
                home=params.centre,
            )
    return tuple(out.workers)


def weekly_hours(path: Path = ROSTERS_FILE) -> dict[str, np.ndarray]:
    """Each roster as 168 booleans (Monday 00:00 first); "workdays" taken as Monday-Friday.

    An approximation for coverage checks only: the working calendar (holidays, 调休) is the
    dispatch side's business.
    """
    with path.open("rb") as fh:
        doc = tomllib.load(fh)
    out: dict[str, np.ndarray] = {}
    for roster in doc["roster"]:
        hours = np.zeros(HOURS_PER_WEEK, dtype=bool)
        for shift in roster["shift"]:
            days = shift["days"]
            day_list = range(1, 8) if days == "all" else range(1, 6) if days == "workdays" else days
            start = int(shift["start"][:2]) + int(shift["start"][3:]) / 60
            end = int(shift["end"][:2]) + int(shift["end"][3:]) / 60
            length = (end - start) % 24 or 24
            for day in day_list:
                first = (day - 1) * 24 + start
                for h in range(int(np.floor(first)), int(np.ceil(first + length))):
                    hours[h % HOURS_PER_WEEK] = True
        out[roster["code"]] = hours
    return out
