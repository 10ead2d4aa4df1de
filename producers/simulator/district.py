"""The simulator's view of a reference district (geo.reference): buildings as places, with
their street and whether it is low-lying; several districts fed together are one pool of
places (`load_districts`), each report drawn from either district by its share of buildings."""

from __future__ import annotations

from functools import cache

from geo.reference import ReferenceDistrict, load_reference
from producers.simulator.model import Place, SimDistrict


def from_reference(district: ReferenceDistrict) -> SimDistrict:
    streets = {s.code: s for s in district.streets}
    grid_street = {g.code: g for g in district.grids}
    places: list[Place] = []
    for b in district.buildings:
        grid = grid_street.get(b.grid_code)
        street = streets.get(grid.street_code) if grid is not None else None
        if street is None:
            continue
        places.append(
            Place(
                b.building_id,
                b.address,
                b.lon,
                b.lat,
                b.grid_code,
                street.code,
                street.name,
                street.low_lying,
            )
        )
    if not places:
        raise ValueError(f"reference district {district.code} has no buildings to report from")
    return SimDistrict(district.code, district.name, tuple(places), tuple(p for p in places if p.low_lying))


@cache
def load_district(name: str = "shapingba") -> SimDistrict:
    return from_reference(load_reference(name))


@cache
def load_districts(names: tuple[str, ...]) -> SimDistrict:
    """The places of several reference districts as one (one name: that district)."""
    if len(names) == 1:
        return load_district(names[0])
    parts = [load_district(n) for n in names]
    return SimDistrict(
        "+".join(p.code for p in parts),
        "、".join(p.name for p in parts),
        tuple(place for p in parts for place in p.places),
        tuple(place for p in parts for place in p.low_lying),
    )
