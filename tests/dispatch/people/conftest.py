"""The people tests run on a database and topics of their own: an import deactivates people,
which other tests' routing must never see."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine

from config.settings import Settings
from geo import service
from geo.reference import ReferenceDistrict
from tests.casework import anyio_backend
from tests.conftest import own_topics_and_database

__all__ = ["anyio_backend"]


@pytest.fixture(scope="module")
def people_settings(services: Settings) -> Iterator[Settings]:
    with own_topics_and_database(services, "people") as settings:
        yield settings


@pytest.fixture(scope="module")
def people_engine(people_settings: Settings, reference: ReferenceDistrict) -> Iterator[Engine]:
    eng = create_engine(people_settings.db_url, pool_size=2)
    with eng.begin() as conn:
        service.load_reference_set(conn, reference)
    yield eng
    eng.dispose()
