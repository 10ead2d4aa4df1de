"""Surge policies as data (config/surge.toml): per warning type and colour level, which
categories a surge changes and how.

>>> policy = load_surge_policy()
>>> rule = policy.rule_for("暴雨预警", "Extreme")
>>> rule.level, rule.raise_by, rule.limits_factor
('红色', 1, 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from config.policy import CONFIG_DIR, PolicyError, Taxonomy, load_taxonomy, read_toml

LEVELS = ("红色", "橙色", "黄色", "蓝色")
"""GB/T 35965.1 colour levels, the most severe first."""
CAP_COLOURS = {"Red": "红色", "Orange": "橙色", "Yellow": "黄色", "Blue": "蓝色"}


@dataclass(frozen=True, slots=True)
class SurgeRule:
    """What one (warning, level) surge does to the listed categories in its grids."""

    warning: str
    level: str
    categories: frozenset[str]
    raise_by: int
    limits_factor: float
    community_forces: bool
    exclude_volunteers: bool

    @property
    def name(self) -> str:
        return f"{self.warning}{self.level}预警"


@dataclass(frozen=True, slots=True)
class SurgePolicy:
    rules: tuple[SurgeRule, ...]
    default_duration: timedelta
    severity_level: dict[str, str]
    """CAP severity → colour level (config/cap.toml [colours] read backwards)."""

    def rule(self, warning: str, level: str) -> SurgeRule | None:
        """The rule of exactly this warning type and level (an operator's pick)."""
        return next((r for r in self.rules if r.warning == warning and r.level == level), None)

    def level_of(self, severity_or_level: str) -> str | None:
        """A colour level from a CAP severity ("Extreme"), a colour ("Red") or a level ("红色")."""
        if severity_or_level in LEVELS:
            return severity_or_level
        if severity_or_level in CAP_COLOURS:
            return CAP_COLOURS[severity_or_level]
        return self.severity_level.get(severity_or_level)

    def rule_for(self, event: str, severity: str, headline: str = "") -> SurgeRule | None:
        """The rule a CAP alert falls under: its event (or headline) names the warning type, its
        severity gives the level; a colour named in the headline (…橙色预警…) wins over the
        severity, as the national platform writes the colour there."""
        named = next((lv for lv in LEVELS if lv in headline), None)
        level = named or self.level_of(severity)
        if level is None:
            return None
        for rule in self.rules:
            if rule.level == level and (rule.warning in event or rule.warning in headline):
                return rule
        return None


def _number(entry: dict[str, Any], key: str, where: str, *, lo: float, hi: float) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise PolicyError(f"{where}: '{key}' must be a number in [{lo}, {hi}]")
    return float(value)


def _flag(entry: dict[str, Any], key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise PolicyError(f"{where}: '{key}' must be true or false")
    return value


def parse_surge_policy(doc: dict[str, Any], *, taxonomy: Taxonomy, colours: dict[str, str]) -> SurgePolicy:
    """A policy document checked against the taxonomy; errors name the entry and key."""
    rules: list[SurgeRule] = []
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(doc.get("policy", [])):
        where = f"surge policy[{i}]"
        warning = entry.get("warning")
        if not isinstance(warning, str) or not warning.strip():
            raise PolicyError(f"{where}: 'warning' must be a non-empty string")
        level = entry.get("level")
        if level not in LEVELS:
            raise PolicyError(f"{where}: 'level' must be one of {', '.join(LEVELS)}")
        if (warning, level) in seen:
            raise PolicyError(f"{where}: a second policy for {warning}{level}")
        seen.add((warning, level))
        categories = entry.get("categories")
        if not isinstance(categories, list) or not categories:
            raise PolicyError(f"{where}: 'categories' must be a non-empty list")
        for code in categories:
            if code not in taxonomy.categories:
                raise PolicyError(f"{where}: categories: unknown category {code!r}")
        rules.append(
            SurgeRule(
                warning=warning,
                level=level,
                categories=frozenset(categories),
                raise_by=int(_number(entry, "raise_by", where, lo=0, hi=4)),
                limits_factor=_number(entry, "limits_factor", where, lo=0.05, hi=1.0),
                community_forces=_flag(entry, "community_forces", where),
                exclude_volunteers=_flag(entry, "exclude_volunteers", where),
            )
        )
    hours = _number(doc, "default_hours", "surge policy", lo=0.5, hi=240)
    severity_level = {sev: CAP_COLOURS[c] for c, sev in colours.items() if c in CAP_COLOURS}
    return SurgePolicy(tuple(rules), timedelta(hours=hours), severity_level)


@cache
def load_surge_policy(path: Path = CONFIG_DIR / "surge.toml") -> SurgePolicy:
    cap = read_toml(CONFIG_DIR / "cap.toml")
    return parse_surge_policy(read_toml(path), taxonomy=load_taxonomy(), colours=dict(cap.get("colours", {})))
