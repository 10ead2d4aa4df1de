"""The SLA policy of `config/sla.toml` as typed data, and each case's limits derived from it.

Limits are per priority (README, SLA clocks); a category may name its own resolve limit in the taxonomy,
read in the priority's clock. The loader checks the policy against the taxonomy at load time so
that no category is left without a resolve limit when the first report of it arrives.

Why the "more urgent override" rule: a source may raise a report's priority above its category's
default (a 12345 complaint flagged P1). The category's own resolve limit was written for its
default priority ("20d" for illegal construction), so for a more urgent priority the limit is the
smaller of the category's and the priority's default, both read in the (new) priority's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from config.policy import CONFIG_DIR, Category, Duration, PolicyError, Priority, Taxonomy, read_toml
from dispatch.sla.calendar import ClockKind, WorkingHours, parse_hours
from dispatch.sla.clocks import CaseLimits, ClockName

_NATURAL_DAY = timedelta(days=1)


class Area(StrEnum):
    """Verification limits differ between city streets (街道) and rural towns (镇)."""

    CITY = "city"
    RURAL = "rural"


@dataclass(frozen=True, slots=True)
class PriorityLimits:
    """One row of the README: Case workflow, SLA clocks table. None: no such promise at this priority."""

    clock: ClockKind
    register: Duration
    accept: Duration
    on_site: Duration | None
    resolve: Duration | None  # None: agency-led, the grid's task has no resolve limit


@dataclass(frozen=True, slots=True)
class ExtensionPolicy:
    """延期: how many requests a case may make, and the largest extension an operator may grant.

    `max` is compared in working-day units (`day` is the working day's length), because the rule
    is "at most 10 working days"; the granted amount is then read in the case's own clock.
    """

    max_count: int
    max: Duration
    day: timedelta

    def length(self, amount: Duration) -> timedelta:
        """An amount in working-day units, to compare requests, grants and the cap."""
        return _length(amount, self.day)

    def allows(self, amount: Duration) -> bool:
        return self.length(amount) <= self.length(self.max)


def _length(duration: Duration, day: timedelta) -> timedelta:
    if duration.unit == "min":
        return timedelta(minutes=duration.value)
    if duration.unit == "h":
        return timedelta(hours=duration.value)
    return day * duration.value


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    timezone: str
    hours: WorkingHours
    priorities: dict[Priority, PriorityLimits]
    verify: dict[Area, Duration]
    extension: ExtensionPolicy
    categories: Mapping[str, Duration] = field(default_factory=dict)
    """`[category.<code>] resolve`: a category's own resolve limit under this policy, in place of
    the taxonomy's (a district's override names the categories it treats otherwise)."""

    def resolve_limit(self, category: Category, priority: Priority) -> Duration | None:
        """The resolve limit for a report of `category` handled at `priority` (see module doc)."""
        default = self.priorities[priority].resolve
        if default is None:
            return None
        own = self.categories.get(category.code, category.resolve)
        if own is None:
            return default
        if priority.rank < category.priority.rank:
            day = self._day(self.priorities[priority].clock)
            return min(own, default, key=lambda d: _length(d, day))
        return own

    def limits(self, category: Category, priority: Priority, area: Area = Area.CITY) -> CaseLimits:
        """Every clock budget of one case, as time of the priority's scale."""
        row = self.priorities[priority]
        day = self._day(row.clock)
        given: dict[ClockName, Duration | None] = {
            ClockName.REGISTER: row.register,
            ClockName.ACCEPT: row.accept,
            ClockName.ON_SITE: row.on_site,
            ClockName.RESOLVE: self.resolve_limit(category, priority),
            ClockName.VERIFY: self.verify[area],
        }
        budgets = {name: _length(d, day) for name, d in given.items() if d is not None}
        return CaseLimits(kind=row.clock, budgets=budgets)

    def _day(self, kind: ClockKind) -> timedelta:
        return self.hours.day if kind is ClockKind.WORKING else _NATURAL_DAY

    def check(self, taxonomy: Taxonomy) -> None:
        """Refuse a policy under which some category of the taxonomy would have no resolve limit,
        or that names a category the taxonomy does not have."""
        unknown = sorted(set(self.categories) - set(taxonomy.categories))
        if unknown:
            raise PolicyError(f"sla: category: unknown categories {unknown} (not in the taxonomy)")
        for category in taxonomy.categories.values():
            row = self.priorities[category.priority]
            if row.resolve is None and not category.agency_led:
                raise PolicyError(
                    f"sla: priority {category.priority} has no resolve limit (agency-led), "
                    f"but category {category.code!r} is not agency_led"
                )


def _duration(table: dict[str, Any], key: str, where: str, *, required: bool = True) -> Duration | None:
    value = table.get(key)
    if value is None:
        if required:
            raise PolicyError(f"{where}: '{key}' is required")
        return None
    if not isinstance(value, str):
        raise PolicyError(f'{where}: \'{key}\' must be a duration like "30min", "4h" or "1d"')
    try:
        return Duration.parse(value)
    except PolicyError as exc:
        raise PolicyError(f"{where}.{key}: {exc}") from None


def _required(table: dict[str, Any], key: str, where: str) -> Duration:
    value = _duration(table, key, where)
    assert value is not None
    return value


def parse_sla(doc: dict[str, Any], origin: str = "sla") -> SlaPolicy:
    working = doc.get("working_time", {})
    hours = parse_hours(working.get("hours", []), f"{origin}: working_time.hours")
    timezone = working.get("timezone")
    if not isinstance(timezone, str) or not timezone:
        raise PolicyError(f'{origin}: working_time.timezone must be a zone name like "Asia/Shanghai"')
    priorities: dict[Priority, PriorityLimits] = {}
    table = doc.get("priority", {})
    for priority in Priority:
        where = f"{origin}: priority.{priority}"
        row = table.get(priority.value)
        if not isinstance(row, dict):
            raise PolicyError(f"{where}: missing")
        try:
            clock = ClockKind(str(row.get("clock")))
        except ValueError:
            raise PolicyError(f"{where}: clock must be one of {', '.join(ClockKind)}") from None
        priorities[priority] = PriorityLimits(
            clock=clock,
            register=_required(row, "register", where),
            accept=_required(row, "accept", where),
            on_site=_duration(row, "on_site", where, required=False),
            resolve=_duration(row, "resolve", where, required=False),
        )
    unknown = set(table) - {p.value for p in Priority}
    if unknown:
        raise PolicyError(f"{origin}: unknown priorities {sorted(unknown)}")
    verify_table = doc.get("verify", {})
    verify = {area: _required(verify_table, area.value, f"{origin}: verify") for area in Area}
    ext = doc.get("extension", {})
    max_count = ext.get("max_count")
    if not isinstance(max_count, int) or max_count < 0:
        raise PolicyError(f"{origin}: extension.max_count must be a whole number >= 0")
    extension = ExtensionPolicy(
        max_count=max_count, max=_required(ext, "max", f"{origin}: extension"), day=hours.day
    )
    categories: dict[str, Duration] = {}
    for code, row in doc.get("category", {}).items():
        where = f"{origin}: category.{code}"
        if not isinstance(row, dict) or set(row) != {"resolve"}:
            raise PolicyError(f"{where}: expected one field, 'resolve' (a duration like \"4h\")")
        categories[code] = _required(row, "resolve", where)
    return SlaPolicy(timezone, hours, priorities, verify, extension, categories)


def load_sla(path: Path = CONFIG_DIR / "sla.toml", taxonomy: Taxonomy | None = None) -> SlaPolicy:
    """Load and check `config/sla.toml` (against the taxonomy too, when one is given)."""
    policy = parse_sla(read_toml(path), origin=str(path))
    if taxonomy is not None:
        policy.check(taxonomy)
    return policy
