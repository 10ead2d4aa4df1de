"""The migrations and the SQLAlchemy models describe the same schema (no drift either way)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData

from deploy import migrate
from deploy.metadata import all_metadata

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
