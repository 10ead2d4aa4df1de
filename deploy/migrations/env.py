"""Alembic environment: the URL comes from the caller (deploy.migrate), never from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from deploy.metadata import all_metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("deploy.migrate must set sqlalchemy.url")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # PostGIS owns these; they are not part of our schema.
    return not (type_ == "table" and name in {"spatial_ref_sys"})


engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=all_metadata(),
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
