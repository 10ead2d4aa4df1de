"""Deadlines for the hot path: "when is this case overdue", in one place.

The router computes a new task's deadlines thousands of times a second; the SLA tracker starts
clocks for every transition. Limits depend only on (category, priority, area), a small set, so
they are computed once and kept; what remains per call is a dict lookup and one calendar add.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from config.policy import CONFIG_DIR, PolicyError, Priority, Taxonomy
from dispatch.sla.calendar import Timekeeper, WorkingCalendar, YearSchedule, parse_holidays
from dispatch.sla.clocks import CaseLimits, ClockName, ClockState
from dispatch.sla.policy import Area, SlaPolicy

HOLIDAYS_FILE = CONFIG_DIR / "holidays.toml"


def read_schedules(path: Path) -> list[YearSchedule]:
    """A file of published years in the shape config/holidays.toml documents: TOML, or the
    same structure as JSON (`.json`). Refused whole on the first fault, naming line and value."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot be read ({exc})") from None
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not TOML ({exc})") from None
    if not isinstance(doc, dict):
        raise PolicyError(f'{path}: expected an object with a "year" list')
    return parse_holidays(doc, str(path), text)


def calendar_for(
    policy: SlaPolicy,
    holidays: Path = HOLIDAYS_FILE,
    imported: Sequence[YearSchedule] = (),
    revision: int = 0,
    *,
    package_last: int | None = None,
) -> WorkingCalendar:
    """The policy's working hours on the statutory Chinese calendar, extended by the years
    published in config/holidays.toml and those an operator imported (which win), then by
    provisional years."""
    extra = {y.year: y for y in (read_schedules(holidays) if holidays.exists() else [])}
    extra.update({y.year: y for y in imported})
    return WorkingCalendar.chinese(
        policy.hours, policy.timezone, list(extra.values()), revision=revision, package_last=package_last
    )


def timekeeper_for(
    policy: SlaPolicy,
    holidays: Path = HOLIDAYS_FILE,
    imported: Sequence[YearSchedule] = (),
    revision: int = 0,
) -> Timekeeper:
    """Both time scales for a policy (see `calendar_for`)."""
    return Timekeeper(calendar_for(policy, holidays, imported, revision))


class Deadlines:
    """The SLA policy bound to a taxonomy and the time scales, with limits cached per case kind."""

    __slots__ = ("_cache", "policy", "taxonomy", "tk")

    def __init__(self, policy: SlaPolicy, taxonomy: Taxonomy, tk: Timekeeper) -> None:
        policy.check(taxonomy)
        self.policy = policy
        self.taxonomy = taxonomy
        self.tk = tk
        self._cache: dict[tuple[str, Priority, Area], CaseLimits] = {}

    def limits(self, category: str, priority: Priority, area: Area = Area.CITY) -> CaseLimits:
        key = (category, priority, area)
        found = self._cache.get(key)
        if found is None:
            found = self.policy.limits(self.taxonomy.category(category), priority, area)
            self._cache[key] = found
        return found

    def deadline(
        self, category: str, priority: Priority, clock: ClockName, start: datetime, area: Area = Area.CITY
    ) -> datetime | None:
        """When `clock` of a case runs out if it starts at `start` and never pauses; None: no limit."""
        limits = self.limits(category, priority, area)
        budget = limits.budget(clock)
        return None if budget is None else self.tk.scale(limits.kind).add(start, budget)

    def start(
        self, category: str, priority: Priority, clock: ClockName, at: datetime, area: Area = Area.CITY
    ) -> ClockState | None:
        """A fresh running clock for a case, or None when the case makes no such promise."""
        limits = self.limits(category, priority, area)
        budget = limits.budget(clock)
        return None if budget is None else ClockState.start(clock, limits.kind, budget, at)
