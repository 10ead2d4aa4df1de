"""Session fixtures: the real Kafka broker and the real PostGIS, started once per session.

The project's own `deploy.stack.up` brings the local services up (installing what is
missing), exactly as `yiwang up` does. Each test session then gets its own topic prefix and
a freshly created test database, so a running main job and the tests never see each
other's data.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.orm import Session
from xdist.remote import Producer
from xdist.workermanage import WorkerController

from config.settings import Settings
from config.topics import load_topics
from deploy import migrate, stack
from deploy.services.postgres import LocalPostgres
from deploy.topics import admin_client, ensure_topics
from geo import service as geo_service
from geo.reference import ReferenceDistrict, load_reference
from tests.scheduling import ModuleScheduling, incomplete, long_first, own_ids

GENERATED: Counter[str] = Counter()  # requests the generated API tests sent, by API and caller
COLLECTED: list[str] = []  # the run's tests (on the controller, or the one process)
REPORTED: set[str] = set()  # the tests any report arrived for
UNFINISHED: list[str] = []  # what incomplete() found at the end


def _controller(config: pytest.Config) -> bool:
    """This process reports the run: the one process, or xdist's controller (not a worker)."""
    return not hasattr(config, "workerinput")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> ModuleScheduling | None:
    """`--dist loadscope` (what `yiwang test` passes): by module or group, long units first."""
    return ModuleScheduling(config, log) if config.getvalue("dist") == "loadscope" else None


def pytest_collection_finish(session: pytest.Session) -> None:
    if _controller(session.config):  # one process (xdist's controller collects nothing)
        COLLECTED[:] = [item.nodeid for item in session.items]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: WorkerController, ids: list[str]) -> None:
    COLLECTED[:] = ids  # every worker's collection is the same, or xdist stops the run


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    REPORTED.add(report.nodeid)


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: its counts go to the controller's summary
        workeroutput["generated"] = dict(GENERATED)
        return
    stopped = session.shouldfail or session.shouldstop or session.config.option.collectonly
    if stopped or session.exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return  # a run cut short (-x, ^C, a collection error) reports less, and says so itself
    UNFINISHED[:] = incomplete(COLLECTED, REPORTED)
    if UNFINISHED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: WorkerController, error: object) -> None:
    GENERATED.update(getattr(node, "workeroutput", {}).get("generated", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if UNFINISHED:
        terminalreporter.write_sep("=", f"collected {len(COLLECTED)}, reported {len(REPORTED)}", red=True)
        for line in UNFINISHED[:30]:
            terminalreporter.write_line(line, red=True)
        if len(UNFINISHED) > 30:
            terminalreporter.write_line(f"... and {len(UNFINISHED) - 30} more", red=True)
    if GENERATED:
        by_caller = ", ".join(f"{caller}: {n}" for caller, n in sorted(GENERATED.items()))
        terminalreporter.write_line(f"generated API requests: {sum(GENERATED.values())} ({by_caller})")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", help="also run the long soak tests")


@pytest.hookimpl(tryfirst=True)  # the ids own_ids gives are the ones every later hook sees
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    own_ids(items)
    if hasattr(config, "workerinput"):  # an xdist worker: the same order on each of them
        long_first(items)
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="soak test: run with --soak")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    """The settings `yiwang up` would use on this machine (environment honoured)."""
    return Settings()


@contextmanager
def _one_at_a_time(lock: Path) -> Iterator[None]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


SCHEMA_TEMPLATES: dict[str, str] = {}
"""A session's database -> the migrated database that it and its tests' own databases are
copied from (one `CREATE DATABASE … TEMPLATE` instead of PostGIS and every migration again)."""


def create_migrated_database(services: Settings, database: str) -> None:
    """`database` on the session's cluster, at the migration head: a copy of the session's
    schema template when there is one, else created and migrated."""
    pg = LocalPostgres(services)
    template = SCHEMA_TEMPLATES.get(services.pg_database)
    exists = pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'").strip()
    if template is None or exists:  # several conftests share one fixture's database by its name
        pg.ensure_database(database)
        migrate.upgrade(services.model_copy(update={"pg_database": database}).db_url)
    else:
        pg.psql(f'CREATE DATABASE "{database}" TEMPLATE "{template}" OWNER "{services.pg_user}"')


@pytest.fixture(scope="session")
def services(base_settings: Settings) -> Iterator[Settings]:
    """Bring the local services up (idempotent) and return settings isolated for this session.

    Several test sessions may run at once on one machine (developers, CI, the xdist workers of
    one run): each gets its own topic prefix and its own database, dropped at the end.
    """
    with _one_at_a_time(base_settings.home / "test-sessions-up.lock"):  # xdist workers, on a fresh machine
        stack.up(base_settings, migrate_database=False)  # the main database is not the tests' business
    session_id = uuid.uuid4().hex[:8]
    settings = base_settings.model_copy(update={"topic_prefix": f"test-{session_id}."})
    if not base_settings.uses_local_db:
        migrate.upgrade(settings.db_url)
        yield settings
        return
    database, template = f"yiwang_test_{session_id}", f"yiwang_test_{session_id}_schema"
    create_migrated_database(settings, template)
    SCHEMA_TEMPLATES[database] = template
    settings = settings.model_copy(update={"pg_database": database})
    create_migrated_database(settings, database)
    yield settings
    pg = LocalPostgres(base_settings)
    pg.drop_database(database)
    pg.drop_database(template)


@pytest.fixture(scope="session")
def kafka(services: Settings) -> Iterator[Settings]:
    """The real broker with this session's prefixed topics created; deleted afterwards."""
    admin = admin_client(services)
    report = ensure_topics(admin, load_topics(), services)
    yield services
    if report.created:
        admin.delete_topics(report.created, raise_errors=False)
    admin.close()


@contextmanager
def own_topics_and_database(services: Settings, name: str) -> Iterator[Settings]:
    """Settings with a topic prefix and a migrated database of their own, removed afterwards:
    for tests that reconcile whole topics or tables and must not see other tests' records."""
    settings = services.model_copy(
        update={
            "topic_prefix": f"{services.topic_prefix}{name}.",
            "pg_database": f"{services.pg_database}_{name}",
        }
    )
    pg = LocalPostgres(services) if services.uses_local_db else None
    if pg is not None:
        create_migrated_database(services, settings.pg_database)
    else:
        migrate.upgrade(settings.db_url)
    admin = admin_client(settings)
    created = ensure_topics(admin, load_topics(), settings).created
    try:
        yield settings
    finally:
        if created:
            admin.delete_topics(created, raise_errors=False)
        admin.close()
        if pg is not None:
            pg.drop_database(settings.pg_database)


@pytest.fixture(scope="session")
def engine(services: Settings) -> Iterator[Engine]:
    eng = create_engine(services.db_url, pool_size=5)
    yield eng
    eng.dispose()


@pytest.fixture
def db_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        yield conn
        trans.rollback()


@pytest.fixture
def db_session(db_connection: Connection) -> Iterator[Session]:
    """An ORM session whose commits become savepoints of the rolled-back outer transaction."""
    session = Session(bind=db_connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def reference() -> ReferenceDistrict:
    """The shipped reference district (Shapingba), read from the repository's files."""
    return load_reference()


@pytest.fixture(scope="session")
def loaded(engine: Engine, reference: ReferenceDistrict) -> int:
    """The reference set committed to the session database; returns its layer version id.

    Tests that change layers do it on `db_connection` (rolled back), on top of this.
    """
    with engine.begin() as conn:
        geo_service.load_reference_set(conn, reference)
    with engine.connect() as conn:
        version = geo_service.in_force(
            geo_service.list_versions(conn, reference.code), reference.effective_from
        )
    assert version is not None
    return version.id


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
