"""`yiwang up` / `status` against the real services, and the clear-error paths."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from config.settings import Settings
from deploy import cli, stack
from deploy.cli import main, parallel_test_args, split_test_args
from deploy.services.common import ServiceError
from deploy.services.kafka import LocalKafka, pinned_version

pytestmark = [pytest.mark.kafka, pytest.mark.db]


def test_second_up_changes_nothing(
    kafka: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = stack.up(kafka)  # the session fixtures already brought all of it up
    assert not report.changed, report.changes
    assert any("reused" in n or "existing" in n for n in report.notes)
    # the command line, pointed at this session's topics and database, says so too
    monkeypatch.setenv("YIWANG_TOPIC_PREFIX", kafka.topic_prefix)
    monkeypatch.setenv("YIWANG_PG_DATABASE", kafka.pg_database)
    assert main(["up"]) == 0
    assert "nothing changed" in capsys.readouterr().err


def test_status_shows_versions_topics_and_migration_head(kafka: Settings) -> None:
    data = stack.status(kafka)
    assert data["kafka"]["reachable"] is True
    assert data["kafka"]["broker_api_version"].split(".")[0] in {"3", "4"}
    if kafka.uses_local_kafka:
        assert data["kafka"]["version"] == pinned_version()
    assert data["database"]["postgresql"].startswith("15")
    assert data["database"]["postgis"].startswith("3.")
    assert data["database"]["migration_current"] == data["database"]["migration_head"]
    names = {t["name"] for t in data["topics"]}
    assert kafka.topic("incidents") in names
    assert all(t["ok"] for t in data["topics"])
    assert data["healthy"] is True


def test_status_marks_missing_topics(services: Settings) -> None:
    lonely = services.model_copy(update={"topic_prefix": "nobody-declared-these."})
    data = stack.status(lonely)
    assert data["healthy"] is False
    assert all(t["actual"] is None and not t["ok"] for t in data["topics"])


def test_taken_port_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = Settings(home=tmp_path, kafka_port=port, kafka_controller_port=port + 1)
        with pytest.raises(ServiceError, match=f"port {port} is taken"):
            LocalKafka(settings).start()


@pytest.mark.parametrize(
    ("argv", "ours", "theirs"),
    [
        (["test", "-q", "-k", "topics", "--soak"], ["test"], ["-q", "-k", "topics", "--soak"]),
        (["test"], ["test"], []),
        (["status", "--json"], ["status", "--json"], None),
        (["locate", "--address", "test"], ["locate", "--address", "test"], None),
    ],
)
def test_pytest_options_pass_through_the_test_command(
    argv: list[str], ours: list[str], theirs: list[str] | None
) -> None:
    assert split_test_args(argv) == (ours, theirs)


@pytest.mark.parametrize(
    ("given", "parallel"),
    [
        ([], True),
        (["tests/geo", "-x", "-q"], True),
        (["-n", "0"], False),
        (["-n4"], False),
        (["--numprocesses=3"], False),
        (["-p", "no:xdist"], False),
        (["--dist", "load"], False),
    ],
)
def test_the_test_command_runs_two_workers_unless_told_otherwise(
    given: list[str], parallel: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "TEST_PROCESSES", 2)
    args = parallel_test_args(given)
    assert args == (["-n", "2", "--dist", "loadscope", *given] if parallel else given)
    monkeypatch.setattr(cli, "TEST_PROCESSES", 1)  # one process: the arguments as given
    assert parallel_test_args(given) == given
