"""Apply and inspect Alembic migrations programmatically (no alembic.ini in the repo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(db_url: str, *, search_key: str | None = None) -> Config:
    """`search_key`: lets a migration hash existing reporters' phones (0018_search)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    if search_key:
        cfg.attributes["search_key"] = search_key
    return cfg


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(alembic_config("postgresql+psycopg://unused"))
    return script.get_current_head()


def current_revision(db_url: str) -> str | None:
    engine = create_engine(db_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("postgresql+psycopg://unused"))
    return {rev.revision for rev in script.walk_revisions()}


class SchemaAheadError(RuntimeError):
    """The database was migrated by newer code than this checkout."""


def upgrade(db_url: str, *, search_key: str | None = None) -> tuple[str | None, str | None]:
    """Upgrade to head; returns (revision before, revision after)."""
    before = current_revision(db_url)
    if before is not None and before not in known_revisions():
        raise SchemaAheadError(
            f"the database is at migration {before!r}, which this checkout does not know: newer code "
            "migrated it. Use that code, or point YIWANG_PG_DATABASE / DATABASE_URL elsewhere"
        )
    command.upgrade(alembic_config(db_url, search_key=search_key), "head")
    return before, current_revision(db_url)
