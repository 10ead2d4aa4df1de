"""Geo fixtures: the in-memory index and gazetteer of the reference district (the district
itself and `loaded`, the reference in the session database, are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from geo.gazetteer import Gazetteer
from geo.index import GridIndex, index_from_reference
from geo.reference import ReferenceDistrict


@pytest.fixture(scope="session")
def ref_index(reference: ReferenceDistrict) -> GridIndex:
    return index_from_reference(reference)


@pytest.fixture(scope="session")
def gazetteer(reference: ReferenceDistrict) -> Gazetteer:
    return Gazetteer.from_reference(reference)
