"""The migrations and the SQLAlchemy models describe the same schema (no drift either way)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, pool, text

from config.settings import Settings
from deploy import migrate
from deploy.metadata import all_metadata
from deploy.services.postgres import LocalPostgres
from tests.conftest import create_migrated_database

pytestmark = pytest.mark.db


def test_database_is_at_head(engine: Engine) -> None:
    assert migrate.current_revision(str(engine.url.render_as_string(hide_password=False))) == (
        migrate.head_revision()
    )


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    combined = MetaData()
    for metadata in all_metadata():
        for table in metadata.tables.values():
            table.to_metadata(combined)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, reflected, compare_to: name != "spatial_ref_sys",
            },
        )
        diff = compare_metadata(context, combined)
    assert diff == [], "models and migrations disagree:\n" + "\n".join(map(str, diff))


def test_write_cost_migration_goes_down_and_up_again(services: Settings) -> None:
    """0025_write_cost on a database of its own: down to 0024 restores the full phone index,
    the last_at index and the default fillfactor; up again puts back its own."""
    if not services.uses_local_db:
        pytest.skip("needs a database of its own on the local cluster")
    settings = services.model_copy(update={"pg_database": f"{services.pg_database}_down"})
    create_migrated_database(services, settings.pg_database)
    url = settings.db_url
    engine = create_engine(url, poolclass=pool.NullPool)

    def schema() -> tuple[Any, ...]:
        with engine.connect() as conn:
            options = conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'incidents'"))
            index = "SELECT {} FROM pg_indexes WHERE indexname = '{}'"
            phone = conn.execute(text(index.format("indexdef", "ix_reports_phone_hash")))
            last = conn.execute(text(index.format("count(*)", "ix_merge_window_last")))
            return options.scalar_one(), phone.scalar_one(), last.scalar_one()

    try:
        assert schema() == (
            ["fillfactor=80"],
            "CREATE INDEX ix_reports_phone_hash ON public.reports USING btree (reporter_phone_hash) "
            "WHERE (reporter_phone_hash IS NOT NULL)",
            0,
        )
        command.downgrade(migrate.alembic_config(url), "0024_intake_rows")
        assert migrate.current_revision(url) == "0024_intake_rows"
        assert schema() == (
            None,
            "CREATE INDEX ix_reports_phone_hash ON public.reports USING btree (reporter_phone_hash)",
            1,
        )
        migrate.upgrade(url)
        assert migrate.current_revision(url) == "0025_write_cost"
        assert schema()[0] == ["fillfactor=80"] and schema()[2] == 0
    finally:
        engine.dispose()
        LocalPostgres(services).drop_database(settings.pg_database)
