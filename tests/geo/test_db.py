"""The migrated schema matches the models; the loaded directory and buildings are complete."""

from __future__ import annotations

import logging

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, select, text

from config.settings import Settings
from geo import models, service
from geo.cli import geo_engine
from geo.models import GeoBase
from geo.reference import ReferenceDistrict

pytestmark = pytest.mark.db


def test_migration_matches_the_models(engine: Engine) -> None:
    ours = set(GeoBase.metadata.tables)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": lambda obj, name, type_, *_: type_ != "table" or name in ours}
        )
        diffs = compare_metadata(ctx, GeoBase.metadata)
        gist = set(
            conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING gist%'")
            ).scalars()
        )
        srids = set(
            conn.execute(
                text("SELECT DISTINCT srid FROM geometry_columns WHERE f_table_name = ANY(:t)"),
                {"t": list(ours)},
            ).scalars()
        )
    assert diffs == []
    assert {
        "ix_geo_grid_geom",
        "ix_geo_street_geom",
        "ix_geo_community_geom",
        "ix_geo_district_geom",
        "ix_geo_building_geom",
        "ix_workers_home",
    } <= gist
    assert srids == {4326}


def test_load_is_complete_idempotent_and_never_logs_phones(
    engine: Engine,
    services: Settings,
    loaded: int,
    reference: ReferenceDistrict,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # even with SQL echo on
    quiet = geo_engine(services)
    try:
        with quiet.begin() as conn:
            lines = service.load_reference_set(conn, reference)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
        quiet.dispose()
    assert lines[0] == "reference layers already loaded; nothing changed"
    assert any("INSERT INTO workers" in r.getMessage() for r in caplog.records)  # the statements were logged
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [w.phone for w in reference.workers if w.phone in logged]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(models.WorkerRow)) == len(reference.workers)
        assert conn.scalar(select(func.count()).select_from(models.BuildingRow)) == len(reference.buildings)
        assert len(service.list_versions(conn, reference.code)) >= 1
        w = reference.workers[5]
        t = models.WorkerRow
        row = conn.execute(
            select(t.grid_code, t.roster, t.phone, t.level).where(t.worker_id == w.worker_id)
        ).one()
        assert tuple(row) == (w.grid_code, w.roster, w.phone, w.level.value)
        assert w.phone not in repr(
            t(worker_id=w.worker_id, force=w.force, grid_code=w.grid_code, phone=w.phone)
        )
        gz = service.gazetteer_from_db(conn, loaded)
        b = reference.buildings[777]
        match = gz.lookup(b.address)
        assert match is not None and match.building_id == b.building_id
