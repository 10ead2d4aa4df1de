"""Geo fixtures: the shipped reference district, its in-memory index, its gazetteer, and
(for database tests) the reference loaded once into the session's test database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from geo import service
from geo.gazetteer import Gazetteer
from geo.index import GridIndex, index_from_reference
from geo.reference import ReferenceDistrict, load_reference


@pytest.fixture(scope="session")
def reference() -> ReferenceDistrict:
    return load_reference()


@pytest.fixture(scope="session")
def ref_index(reference: ReferenceDistrict) -> GridIndex:
    return index_from_reference(reference)


@pytest.fixture(scope="session")
def gazetteer(reference: ReferenceDistrict) -> Gazetteer:
    return Gazetteer.from_reference(reference)


@pytest.fixture(scope="session")
def loaded(engine: Engine, reference: ReferenceDistrict) -> int:
    """The reference set committed to the session database; returns its layer version id.

    Tests that change layers do it on `db_connection` (rolled back), on top of this.
    """
    with engine.begin() as conn:
        service.load_reference_set(conn, reference)
    with engine.connect() as conn:
        version = service.in_force(service.list_versions(conn, reference.code), reference.effective_from)
    assert version is not None
    return version.id
