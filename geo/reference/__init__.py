"""The shipped reference districts (Shapingba 500106, Jiulongpo 500107) and their generator.

>>> d = load_reference()
>>> (len(d.streets), len(d.communities), len(d.grids))
(22, 160, 940)
>>> reference_names()
['jiulongpo', 'shapingba']
"""

from __future__ import annotations

from functools import cache

from geo.reference.district import Area, Building, Grid, Level, ReferenceDistrict, Street, Worker
from geo.reference.store import DATA_DIR, read_district

__all__ = [
    "CITY_DISTRICTS",
    "Area",
    "Building",
    "Grid",
    "Level",
    "ReferenceDistrict",
    "Street",
    "Worker",
    "load_reference",
    "reference_names",
]

CITY_DISTRICTS = ("shapingba", "jiulongpo")
"""The reference districts a deployment runs side by side (`yiwang run`, the simulator)."""


def reference_names() -> list[str]:
    """The shipped data sets (folders of geo/reference/data/ with a manifest)."""
    return sorted(p.name for p in DATA_DIR.iterdir() if (p / "manifest.json").exists())


@cache
def load_reference(name: str = "shapingba") -> ReferenceDistrict:
    """The shipped data set, read from geo/reference/data/<name>/ (no network, no database)."""
    folder = DATA_DIR / name
    if not (folder / "manifest.json").exists():
        raise FileNotFoundError(f"no reference district {name!r} in {DATA_DIR}")
    return read_district(folder)
