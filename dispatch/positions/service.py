"""Sharing, reading and forgetting positions; the pure rule that puts them on the candidates.

A position counts for routing while it is younger than `max_age` (config/positions.toml); an
older one is never read, and is deleted whenever anyone shares or stops sharing, so the table
holds only what is in use. Positions never go to logs or metrics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection

from config.policy import CONFIG_DIR, Duration, PolicyError, read_toml
from dispatch.routing.values import Candidate
from geo.coords import check_lonlat

Conn = AsyncConnection[Any]
UNIT = {"min": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


@dataclass(frozen=True, slots=True)
class Position:
    lon: float
    lat: float
    at: datetime


def load_max_age(path: Path = CONFIG_DIR / "positions.toml") -> timedelta:
    text = read_toml(path).get("max_age")
    if not isinstance(text, str):
        raise PolicyError(f'{path}: max_age: a duration such as "30min"')
    d = Duration.parse(text)
    return d.value * UNIT[d.unit]


def placed(candidates: Sequence[Candidate], positions: Mapping[str, Position]) -> list[Candidate]:
    """The candidates, each at their shared position when they have a fresh one (else as given:
    the home address)."""
    return [
        replace(c, lon=positions[c.worker_id].lon, lat=positions[c.worker_id].lat)
        if c.worker_id in positions
        else c
        for c in candidates
    ]


async def share(
    conn: Conn,
    worker_id: str,
    *,
    lon: float,
    lat: float,
    accuracy_m: float | None,
    at: datetime,
    max_age: timedelta,
) -> None:
    check_lonlat(lon, lat)
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO worker_positions (worker_id, lon, lat, accuracy_m, at) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (worker_id) DO UPDATE SET lon = excluded.lon, lat = excluded.lat, "
            "accuracy_m = excluded.accuracy_m, at = excluded.at WHERE worker_positions.at <= excluded.at",
            (worker_id, lon, lat, accuracy_m, at),
        )
        await conn.execute("DELETE FROM worker_positions WHERE at < %s", (at - max_age,))


async def forget(conn: Conn, worker_id: str, *, now: datetime, max_age: timedelta) -> None:
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM worker_positions WHERE worker_id = %s OR at < %s", (worker_id, now - max_age)
        )


async def fresh(
    conn: Conn, worker_ids: Iterable[str], *, now: datetime, max_age: timedelta
) -> dict[str, Position]:
    cur = await conn.execute(
        "SELECT worker_id, lon, lat, at FROM worker_positions WHERE worker_id = ANY(%s) AND at >= %s",
        (list(worker_ids), now - max_age),
    )
    return {r[0]: Position(r[1], r[2], r[3]) for r in await cur.fetchall()}
