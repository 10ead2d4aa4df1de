"""The city above the districts one deployment serves (config/districts.toml): the city desk
(城市运行管理中心) that takes what lies outside every district, and its duty desk.

>>> city = load_city_desk()
>>> (city.name, city.desk_id, city.roster)
('城市运行管理中心', 'city-district_center-1', 'duty_24h')
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from config.policy import CONFIG_DIR, PolicyError, load_workforce

DISTRICTS_FILE = CONFIG_DIR / "districts.toml"


@dataclass(frozen=True, slots=True)
class CityDesk:
    name: str
    desk_id: str
    desk_name: str
    role: str
    roster: str
    home: tuple[float, float]


def load_city_desk(path: Path = DISTRICTS_FILE) -> CityDesk:
    """The `[city]` table, checked: its role must be a district-level ladder role."""
    with path.open("rb") as fh:
        doc = tomllib.load(fh)
    city = doc.get("city")
    if not isinstance(city, dict):
        raise PolicyError(f"{path.name}: a [city] table is required")
    try:
        lon, lat = (float(v) for v in city["home"])
        desk = CityDesk(
            name=str(city["name"]),
            desk_id=str(city["desk_id"]),
            desk_name=str(city["desk_name"]),
            role=str(city["role"]),
            roster=str(city["roster"]),
            home=(lon, lat),
        )
    except (KeyError, TypeError, ValueError) as exc:
        fields = "name, desk_id, desk_name, role, roster, home"
        raise PolicyError(f"{path.name} [city]: {exc!r} ({fields})") from exc
    role = load_workforce().roles.get(desk.role)
    if role is None or role.level != "district":
        raise PolicyError(f"{path.name} [city] role: {desk.role!r} is not a district-level ladder role")
    return desk
