"""Per-feed settings as checked data: config/sources.toml.

Each agency system's own category codes and urgency levels map onto the project taxonomy
here, not in adapter code; a code that points at no taxonomy category is refused at load
time, not when the first report arrives.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.policy import CONFIG_DIR, PolicyError, Priority, Taxonomy, load_taxonomy
from schemas.report import Crs, Source

SOURCES_FILE = CONFIG_DIR / "sources.toml"


@dataclass(frozen=True, slots=True)
class SourceConfig:
    source: Source
    zh: str
    en: str
    format: str
    timezone: ZoneInfo
    crs: Crs
    categories: Mapping[str, str]
    """The system's own code → taxonomy code."""
    priorities: Mapping[str, Priority]
    """The system's own urgency → priority; absent = the category's default."""
    fallback: str | None = None
    public: bool = True
    """Whether its cases may be listed publicly (Open311 GET requests); 110, 119 and 网信 may not."""


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{where}: '{key}' must be a non-empty string")
    return value


def _parse_one(source: Source, entry: Mapping[str, Any], taxonomy: Taxonomy, where: str) -> SourceConfig:
    try:
        timezone = ZoneInfo(_text(entry, "timezone", where))
    except ZoneInfoNotFoundError:
        raise PolicyError(f"{where}: unknown timezone {entry.get('timezone')!r}") from None
    try:
        crs = Crs(str(entry.get("crs")))
    except ValueError:
        raise PolicyError(f"{where}: crs must be one of {', '.join(c.value for c in Crs)}") from None
    categories = entry.get("categories", {})
    if not isinstance(categories, dict) or not categories:
        raise PolicyError(f"{where}: [categories] must map the system's codes to taxonomy codes")
    unknown = sorted({v for v in categories.values() if v not in taxonomy.categories})
    if unknown:
        raise PolicyError(f"{where}.categories: unknown taxonomy codes {unknown}")
    priorities: dict[str, Priority] = {}
    for native, value in entry.get("priorities", {}).items():
        try:
            priorities[native] = Priority(value)
        except ValueError:
            raise PolicyError(f"{where}.priorities: {native!r} = {value!r} is not P0..P4") from None
    fallback = entry.get("fallback")
    if fallback is not None and fallback not in taxonomy.categories:
        raise PolicyError(f"{where}: fallback {fallback!r} is not a taxonomy code")
    public = entry.get("public", True)
    if not isinstance(public, bool):
        raise PolicyError(f"{where}: public must be true or false")
    return SourceConfig(
        source=source,
        zh=_text(entry, "zh", where),
        en=_text(entry, "en", where),
        format=_text(entry, "format", where),
        timezone=timezone,
        crs=crs,
        categories=MappingProxyType(dict(categories)),
        priorities=MappingProxyType(priorities),
        fallback=fallback,
        public=public,
    )


def parse_sources(
    doc: Mapping[str, Any], taxonomy: Taxonomy, origin: str = "sources"
) -> dict[Source, SourceConfig]:
    tables = doc.get("source", {})
    if not isinstance(tables, dict):
        raise PolicyError(f"{origin}: expected [source.<name>] tables")
    out: dict[Source, SourceConfig] = {}
    for name, entry in tables.items():
        try:
            source = Source(name)
        except ValueError:
            raise PolicyError(f"{origin}: [source.{name}] is not a known source") from None
        out[source] = _parse_one(source, entry, taxonomy, f"{origin}: [source.{name}]")
    missing = [s.value for s in Source if s not in out]
    if missing:
        raise PolicyError(f"{origin}: no table for sources {missing}")
    return out


@cache
def load_sources(path: Path = SOURCES_FILE) -> Mapping[Source, SourceConfig]:
    with path.open("rb") as fh:
        try:
            doc = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{path}: {exc}") from exc
    return MappingProxyType(parse_sources(doc, load_taxonomy(), origin=str(path)))
