"""The dispatch policies as typed, checked data: forces, ladder roles, categories.

Loaded from config/forces.toml and config/taxonomy.toml. The loaders check every
cross-reference (a category naming an unknown force or family is refused at load time,
not discovered when the first report arrives).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from schemas.vocabulary import Priority as Priority  # noqa: PLC0414  (re-export: the contract's enum)

CONFIG_DIR = Path(__file__).resolve().parent


class PolicyError(ValueError):
    """A policy file is malformed or inconsistent."""


Level = Literal["grid", "community", "street", "district"]
LEVELS: tuple[Level, ...] = ("grid", "community", "street", "district")
Unit = Literal["min", "h", "d"]


@dataclass(frozen=True, slots=True)
class Duration:
    """A limit as written in policy ("30min", "4h", "1d"), to be read in some clock.

    >>> Duration.parse("4h")
    Duration(value=4, unit='h')
    """

    value: int
    unit: Unit

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = re.fullmatch(r"\s*(\d+)\s*(min|h|d)\s*", text)
        if match is None or int(match.group(1)) <= 0:
            raise PolicyError(f"bad duration {text!r}: expected a positive number and min, h or d")
        unit: Unit = match.group(2)  # type: ignore[assignment]
        return cls(int(match.group(1)), unit)

    def __str__(self) -> str:
        return f"{self.value}{self.unit}"


@dataclass(frozen=True, slots=True)
class Force:
    code: str
    zh: str
    en: str
    level: Level
    volunteer: bool = False  # never routed P0–P2 (config/forces.toml)
    capacity: int | None = None  # open tasks a worker of this force may hold before routing passes on


@dataclass(frozen=True, slots=True)
class Family:
    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    zh: str
    en: str
    family: str
    priority: Priority
    forces: tuple[str, ...]
    lead_department: str
    resolve: Duration | None = None
    agency_led: bool = False


@dataclass(frozen=True, slots=True)
class Workforce:
    forces: dict[str, Force]
    roles: dict[str, Force]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    families: dict[str, Family]
    categories: dict[str, Category]

    def category(self, code: str) -> Category:
        try:
            return self.categories[code]
        except KeyError:
            raise PolicyError(f"unknown category {code!r}") from None


def read_toml(path: Path) -> dict[str, Any]:
    """A policy file; a broken one is reported naming its path."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: {exc}") from exc


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{where}: '{key}' must be a non-empty string")
    return value


def _level(entry: dict[str, Any], where: str) -> Level:
    level = entry.get("level")
    if level not in LEVELS:
        raise PolicyError(f"{where}: level must be one of {', '.join(LEVELS)}")
    return level  # type: ignore[no-any-return]


def _flag(entry: dict[str, Any], key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise PolicyError(f"{where}: '{key}' must be true or false")
    return value


def _capacity(entry: dict[str, Any], where: str) -> int | None:
    value = entry.get("capacity")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PolicyError(f"{where}: 'capacity' must be a whole number of open tasks >= 1")
    return value


def parse_workforce(doc: dict[str, Any], origin: str = "forces") -> Workforce:
    def build(kind: str) -> dict[str, Force]:
        out: dict[str, Force] = {}
        for i, entry in enumerate(doc.get(kind, [])):
            where = f"{origin}: {kind}[{i}]"
            code = _text(entry, "code", where)
            if code in out:
                raise PolicyError(f"{where}: {kind} {code!r} declared twice")
            out[code] = Force(
                code,
                _text(entry, "zh", where),
                _text(entry, "en", where),
                _level(entry, where),
                volunteer=_flag(entry, "volunteer", where),
                capacity=_capacity(entry, where),
            )
        return out

    forces, roles = build("force"), build("role")
    if not forces:
        raise PolicyError(f"{origin}: no [[force]] entries")
    return Workforce(forces=forces, roles=roles)


def parse_taxonomy(doc: dict[str, Any], workforce: Workforce, origin: str = "taxonomy") -> Taxonomy:
    families: dict[str, Family] = {}
    for i, entry in enumerate(doc.get("family", [])):
        where = f"{origin}: family[{i}]"
        code = _text(entry, "code", where)
        families[code] = Family(code, _text(entry, "zh", where), _text(entry, "en", where))
    categories: dict[str, Category] = {}
    for i, entry in enumerate(doc.get("category", [])):
        where = f"{origin}: category[{i}]"
        code = _text(entry, "code", where)
        where = f"{origin}: category {code!r}"
        if code in categories:
            raise PolicyError(f"{where}: declared twice")
        family = _text(entry, "family", where)
        if family not in families:
            raise PolicyError(f"{where}: unknown family {family!r}")
        try:
            priority = Priority(entry.get("priority"))
        except ValueError:
            raise PolicyError(f"{where}: priority must be one of P0..P4") from None
        forces = entry.get("forces")
        if not isinstance(forces, list) or not forces:
            raise PolicyError(f"{where}: 'forces' must be a non-empty list")
        unknown = [f for f in forces if f not in workforce.forces]
        if unknown:
            raise PolicyError(f"{where}: unknown forces {unknown}")
        resolve = entry.get("resolve")
        categories[code] = Category(
            code=code,
            zh=_text(entry, "zh", where),
            en=_text(entry, "en", where),
            family=family,
            priority=priority,
            forces=tuple(forces),
            lead_department=_text(entry, "lead_department", where),
            resolve=Duration.parse(resolve) if resolve is not None else None,
            agency_led=bool(entry.get("agency_led", False)),
        )
    if not categories:
        raise PolicyError(f"{origin}: no [[category]] entries")
    return Taxonomy(families=families, categories=categories)


@cache
def load_workforce(path: Path = CONFIG_DIR / "forces.toml") -> Workforce:
    return parse_workforce(read_toml(path), origin=str(path))


@cache
def load_taxonomy(
    path: Path = CONFIG_DIR / "taxonomy.toml", forces_path: Path = CONFIG_DIR / "forces.toml"
) -> Taxonomy:
    return parse_taxonomy(read_toml(path), load_workforce(forces_path), origin=str(path))
