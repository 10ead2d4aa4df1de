"""The volunteer policy as checked data: eligible categories and priorities, points, lapse.

Read from config/volunteers.toml and checked against the taxonomy at load time: a category the
taxonomy does not know, an agency-led one, or an urgent priority (P0–P2: the grid's and the
agencies', never volunteers') is refused there, not discovered when a volunteer claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from config.policy import CONFIG_DIR, Duration, PolicyError, Priority, Taxonomy, load_taxonomy, read_toml
from dispatch.volunteers.values import ItemKind

NEVER: frozenset[Priority] = frozenset({Priority.P0, Priority.P1, Priority.P2})
"""Priorities no policy file can open to volunteers."""


@dataclass(frozen=True, slots=True)
class PointsRule:
    category: str
    points: int
    on_time_bonus: int
    auto: bool  # offered as soon as dispatched; False: only when a grid worker hands it over


@dataclass(frozen=True, slots=True)
class StartingItem:
    code: str
    zh: str
    en: str
    kind: ItemKind
    cost: int
    stock: int
    partner: str


@dataclass(frozen=True, slots=True)
class VolunteerPolicy:
    priorities: frozenset[Priority]
    excluded: frozenset[str]
    claim_lapse: timedelta
    rules: dict[str, PointsRule]
    catalogue: tuple[StartingItem, ...] = ()

    def eligible(self, category: str, priority: Priority | str, *, handed: bool = False) -> bool:
        """Whether a case may go to volunteers: offered by itself (auto) or handed by its worker.

        >>> policy = load_volunteer_policy()
        >>> policy.eligible("shared_bikes_disorder", "P3"), policy.eligible("shared_bikes_disorder", "P2")
        (True, False)
        >>> policy.eligible("street_vending", "P3"), policy.eligible("street_vending", "P3", handed=True)
        (False, True)
        """
        rule = self.rules.get(category)
        if rule is None or category in self.excluded or Priority(priority) not in self.priorities:
            return False
        return handed or rule.auto

    def auto_offered(self) -> list[str]:
        return sorted(c for c, r in self.rules.items() if r.auto and c not in self.excluded)

    def points_for(self, category: str, *, on_time: bool) -> tuple[int, int]:
        """(points, bonus) credited for verified work in `category`."""
        rule = self.rules.get(category)
        if rule is None:
            raise PolicyError(f"category {category!r} earns no points: it is not volunteer-eligible")
        return rule.points, rule.on_time_bonus if on_time else 0


def _positive_int(entry: dict[str, Any], key: str, where: str, *, zero: bool = False) -> int:
    value = entry.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or (value == 0 and not zero):
        raise PolicyError(f"{where}: {key!r} must be a {'non-negative' if zero else 'positive'} integer")
    return value


def parse_volunteer_policy(
    doc: dict[str, Any], taxonomy: Taxonomy, origin: str = "volunteers"
) -> VolunteerPolicy:
    try:
        priorities = frozenset(Priority(p) for p in doc.get("eligible_priorities", []))
    except ValueError as exc:
        raise PolicyError(f"{origin}: eligible_priorities: {exc}") from None
    if priorities & NEVER:
        urgent = ", ".join(sorted(priorities & NEVER))
        raise PolicyError(f"{origin}: eligible_priorities: {urgent} are never offered to volunteers")
    excluded = frozenset(str(c) for c in doc.get("exclude", []))
    for code in excluded:
        taxonomy.category(code)
    lapse = Duration.parse(str(doc.get("claim_lapse", "")))
    hours = {"min": 1 / 60, "h": 1, "d": 24}[lapse.unit] * lapse.value
    rules: dict[str, PointsRule] = {}
    for i, entry in enumerate(doc.get("category", [])):
        where = f"{origin}: category[{i}]"
        code = str(entry.get("code", ""))
        category = taxonomy.category(code)
        if category.agency_led or category.priority in NEVER:
            raise PolicyError(f"{where}: {code} is {category.priority}/agency-led, never for volunteers")
        if code in rules:
            raise PolicyError(f"{where}: {code} listed twice")
        rules[code] = PointsRule(
            code,
            _positive_int(entry, "points", where),
            _positive_int(entry, "on_time_bonus", where, zero=True),
            bool(entry.get("auto", False)),
        )
    items: list[StartingItem] = []
    for i, entry in enumerate(doc.get("item", [])):
        where = f"{origin}: item[{i}]"
        try:
            kind = ItemKind(entry.get("kind"))
        except ValueError:
            raise PolicyError(f"{where}: kind must be one of {', '.join(ItemKind)}") from None
        items.append(
            StartingItem(
                str(entry["code"]),
                str(entry["zh"]),
                str(entry.get("en", entry["zh"])),
                kind,
                _positive_int(entry, "cost", where),
                _positive_int(entry, "stock", where, zero=True),
                str(entry["partner"]),
            )
        )
    return VolunteerPolicy(priorities, excluded, timedelta(hours=hours), rules, tuple(items))


@cache
def load_volunteer_policy(path: Path = CONFIG_DIR / "volunteers.toml") -> VolunteerPolicy:
    return parse_volunteer_policy(read_toml(path), load_taxonomy(), origin=str(path))
