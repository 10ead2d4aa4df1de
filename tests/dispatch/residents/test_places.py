"""The resident form's address lookup over both reference districts (沙坪坝 500106, 九龙坡 500107):
a bare address is the page's district's, an address naming a district is looked up there (found
or not), and with no district given a bare address is found only when one district holds it.
The last test reads the gazetteers the way the API process does, from PostGIS with both loaded
(inside a rolled-back transaction)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from dispatch.lifecycle.errors import DetailError
from dispatch.residents.places import load_city_gazetteer, typed_point
from geo import service
from geo.gazetteer import CityGazetteer, CityNames, DistrictNames, Gazetteer, Named
from geo.reference import ReferenceDistrict, load_reference

SPB, JLP = "500106", "500107"
JLP_LOADED = 200


@pytest.fixture(scope="module")
def both() -> tuple[ReferenceDistrict, ReferenceDistrict]:
    return load_reference("shapingba"), load_reference("jiulongpo")


@pytest.fixture(scope="module")
def city(both: tuple[ReferenceDistrict, ReferenceDistrict]) -> CityGazetteer:
    return CityGazetteer.from_references(both)


def _bare(d: ReferenceDistrict, address: str) -> str:
    return address.removeprefix(f"{d.city}{d.name}")


def _shared_and_own(both: tuple[ReferenceDistrict, ReferenceDistrict]) -> tuple[str, str, str]:
    """A bare address both districts have (a building in each), and one only each has."""
    spb, jlp = both
    spb_bare = {_bare(spb, b.address) for b in spb.buildings}
    jlp_bare = [_bare(jlp, b.address) for b in jlp.buildings]
    houses = {re.sub(r"号.*", "号", a) for a in spb_bare}
    shared = next(a for a in jlp_bare if a in spb_bare)
    jlp_only = next(a for a in jlp_bare if re.sub(r"号.*", "号", a) not in houses)
    jlp_houses = {re.sub(r"号.*", "号", a) for a in jlp_bare}
    spb_only = next(a for a in sorted(spb_bare) if re.sub(r"号.*", "号", a) not in jlp_houses)
    return shared, jlp_only, spb_only


def test_a_bare_address_is_the_pages_districts(
    city: CityGazetteer, both: tuple[ReferenceDistrict, ReferenceDistrict]
) -> None:
    shared, jlp_only, spb_only = _shared_and_own(both)
    spb, jlp = both
    for code, d in ((SPB, spb), (JLP, jlp)):
        found = city.lookup(shared, district=code)
        assert found.district == code and found.match is not None
        assert found.match.building_id in {b.building_id for b in d.buildings}
        assert found.match.grid_code.startswith(code)
        assert found.why.endswith("the district the lookup is for")
    city_wide = city.lookup(shared)
    assert (city_wide.district, city_wide.match) == (None, None)
    assert "沙坪坝区 (500106), 九龙坡区 (500107): not certain" in city_wide.why
    # the page's district has no such building: not found there, never the other district's
    missing = city.lookup(jlp_only, district=SPB)
    assert (missing.district, missing.match) == (SPB, None)
    assert missing.why.startswith("not found in 沙坪坝区 (500106)")
    only = city.lookup(jlp_only)
    assert only.district == JLP and only.match is not None and only.why == "found in 九龙坡区 (500107) only"
    assert city.lookup(spb_only, district=JLP).match is None


def test_a_typed_address_sends_its_buildings_point_or_goes_as_typed(
    city: CityGazetteer, both: tuple[ReferenceDistrict, ReferenceDistrict]
) -> None:
    shared, jlp_only, _ = _shared_and_own(both)
    found = city.lookup(shared, district=JLP)
    assert found.match is not None and typed_point(found) == (found.match.lon, found.match.lat)
    assert typed_point(city.lookup(jlp_only, district=SPB)) is None  # not there: sent as typed
    with pytest.raises(DetailError) as refused:  # both have it and no district is given
        typed_point(city.lookup(shared))
    assert (refused.value.field, refused.value.code) == ("address", "ambiguous")
    assert str(refused.value).endswith(": say which district")


def test_an_address_naming_a_district_is_looked_up_there(
    city: CityGazetteer, both: tuple[ReferenceDistrict, ReferenceDistrict]
) -> None:
    shared, jlp_only, _ = _shared_and_own(both)
    street = both[1].streets[0].name
    for text in (f"重庆市九龙坡区{shared}", f"九龙坡区 {street}{shared}", f"{street}办事处{shared}"):
        found = city.lookup(text, district=SPB)  # a 沙坪坝 page: the address says 九龙坡
        assert found.district == JLP and found.match is not None, text
        assert found.match.grid_code.startswith(JLP) and "which the address names" in found.why
    named_elsewhere = city.lookup(f"沙坪坝区{jlp_only}", district=JLP)
    assert (named_elsewhere.district, named_elsewhere.match) == (SPB, None)
    assert named_elsewhere.why == "not found in 沙坪坝区 (500106), which the address names (沙坪坝区)"
    conflict = city.lookup(f"沙坪坝区{street}{shared}", district=JLP)
    assert (conflict.district, conflict.match) == (
        None,
        None,
    ) and "do not lie in one district" in conflict.why
    with pytest.raises(ValueError, match="district: '500199' is not one of 500106, 500107"):
        city.lookup(shared, district="500199")


def test_names_say_a_district_only_when_one_district_has_them(
    both: tuple[ReferenceDistrict, ReferenceDistrict],
) -> None:
    spb, jlp = both
    names = CityNames([DistrictNames.from_reference(d) for d in both])
    shared = sorted({c.name for c in spb.communities} & {c.name for c in jlp.communities})
    assert shared, "the reference districts share some community names"
    assert names.named(f"{shared[0]}1号").named is Named.SHARED
    assert names.named(f"{spb.streets[0].name}{shared[0]}1号").district == SPB
    assert names.named("梅岭街1号").named is Named.NOTHING
    assert names.named("（重庆市）九龙坡区").district == JLP
    for d in both:  # every shipped address, whole, names its own district
        assert {names.named(b.address).district for b in d.buildings[::40]} == {d.code}


@pytest.fixture
def two_districts(db_connection: Connection, loaded: int) -> Iterator[Connection]:
    """九龙坡's layers and its first buildings (those the test types) beside the session's 沙坪坝,
    rolled back after the test."""
    jlp = load_reference("jiulongpo")
    service.import_layers(
        db_connection, service.reference_layers(jlp), effective_from=jlp.effective_from, source=jlp.source
    )
    service.upsert_buildings(db_connection, jlp.buildings[:JLP_LOADED], Gazetteer.from_reference(jlp))
    yield db_connection


@pytest.mark.db
def test_the_api_process_reads_one_gazetteer_per_district(
    two_districts: Connection, both: tuple[ReferenceDistrict, ReferenceDistrict]
) -> None:
    shared, jlp_only, _ = _shared_and_own(both)
    city = load_city_gazetteer(two_districts)
    assert city.district_codes == (SPB, JLP)
    assert len(city) == len(both[0].buildings) + JLP_LOADED
    assert {shared, jlp_only} <= {_bare(both[1], b.address) for b in both[1].buildings[:JLP_LOADED]}
    for code in (SPB, JLP):
        found = city.lookup(shared, district=code)
        assert found.match is not None and found.match.grid_code.startswith(code)
    assert city.lookup(f"重庆市九龙坡区{jlp_only}", district=SPB).district == JLP
