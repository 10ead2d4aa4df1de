"""The `yiwang` command: one entry point for services, pipeline, tools and tests.

Each domain package contributes its subcommands through a `register(subparsers)` function
in its own `cli.py`; this module only assembles them, builds the settings once and turns a
`ServiceError` into one clear line and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from sqlalchemy import create_engine

from config.logs import configure_logging
from config.settings import Settings
from deploy import running, stack
from deploy.migrate import SchemaAheadError
from deploy.pipeline import run_pipeline
from deploy.registry import REGISTRARS
from deploy.services import chromium, compose, prometheus
from deploy.services.common import ServiceError, say
from deploy.services.packages import ensure_packages
from dispatch.web.bundle import BundleError, ensure_bundle
from geo.city import add_city_desk
from geo.reference import CITY_DISTRICTS, load_reference
from geo.service import load_reference_set

REPO = Path(__file__).resolve().parent.parent
Handler = Callable[[Settings, argparse.Namespace], int]


def _up(settings: Settings, args: argparse.Namespace) -> int:
    report = stack.up(settings)
    for line in report.notes:
        say(line)
    for line in report.changes:
        say(line)
    say("up: " + ("done" if report.changed else "everything was already up; nothing changed"))
    return 0


def _down(settings: Settings, args: argparse.Namespace) -> int:
    stopped = stack.down(settings)
    say("stopped " + ", ".join(stopped) if stopped else "nothing of ours was running")
    return 0


def _status(settings: Settings, args: argparse.Namespace) -> int:
    data = stack.status(settings)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        stack.print_status(data)
    return 0 if data["healthy"] else 1


ALREADY_RUNNING = 3


def _already_running(settings: Settings, workers: int) -> bool:
    """A run of this home on the same API port, or ports the run needs held by something else:
    said in full (pids, ports, how to stop it)."""
    for path, record in running.live_runs(settings):
        if path != running.record_path(settings):
            continue
        say(f"already running: `yiwang run` pid {record.supervisor} since {record.started_at}")
        for stage in record.stages:
            port = f", port {stage.port}" if stage.port else ""
            say(f"  {stage.name}: pid {stage.pid}{port}, log {stage.log}")
        say(
            f"stop it with Ctrl-C where it runs (or `kill {record.supervisor}`); "
            "`yiwang status` shows its health"
        )
        return True
    busy = running.busy_ports(settings, workers=workers)
    if busy:
        say(
            f"port(s) {', '.join(map(str, busy))} on {settings.api_host} are already taken (another "
            "`yiwang api` or `yiwang worker`, or another program): stop it, or run on other ports "
            "(YIWANG_API_PORT, YIWANG_METRICS_PORT)"
        )
        return True
    return False


def _run(settings: Settings, args: argparse.Namespace) -> int:
    if _already_running(settings, args.workers):
        return ALREADY_RUNNING
    _up(settings, args)
    engine = create_engine(settings.db_url)
    with engine.begin() as conn:
        for name in CITY_DISTRICTS:  # two districts side by side, under the city desk
            d = load_reference(name)
            for line in load_reference_set(conn, d):
                say(f"{d.name} ({d.code}): {line}")
        desk = add_city_desk(conn)
        if desk:
            say(desk)
    engine.dispose()
    say(
        f"command center: http://{settings.api_host}:{settings.api_port}/board, grid workers /m, API /docs "
        "(development logins in the README)"
    )
    return run_pipeline(settings, rate=args.rate, workers=args.workers)


TEST_PROCESSES = 2
"""pytest-xdist workers by default: two keep both cores busy while half the suite waits on
brokers, workers and browsers (fresh clones on this wave's machine: 16 min 20 s on two against
26 min 27 s on one, the same 1,901 tests). tests/conftest.py gives every item an id of its own
(xdist knows a test by its node id alone; the generated API tests once shared one per function,
and a two-process run reported 1,717 of 1,885 with no error) and fails a run that reports fewer
tests than it collected; tests/scheduling.py gives the fault scenarios the machine alone. Two
became the default after two full two-process runs in a row were whole and green.
`deploy/yiwang test -n 0` runs the suite on one process."""


def parallel_test_args(pytest_args: list[str]) -> list[str]:
    """The suite on TEST_PROCESSES workers, grouped as tests/conftest.py says, unless the
    arguments choose the processes themselves (`-n 0`, `-n 4`, `-p no:xdist`)."""
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in pytest_args)
    if chosen or TEST_PROCESSES < 2:
        return pytest_args
    return ["-n", str(TEST_PROCESSES), "--dist", "loadscope", *pytest_args]


def _prepare_for_tests(settings: Settings) -> None:
    """What the session fixtures would otherwise each start or install, done once before the
    workers start: two of them starting Kafka, creating a cluster, running apt-get or npm at
    the same moment on a fresh machine would trip over each other's locks."""
    stack.up(settings, migrate_database=False)
    ensure_packages(
        settings,
        (*chromium.PACKAGES, *prometheus.PACKAGES, *compose.PACKAGES),
        purpose="the tests (Chromium drives the pages, Prometheus scrapes, compose checks its file)",
    )
    try:
        ensure_bundle()
    except BundleError as exc:
        say(f"{exc} (the page tests will fail on it)")


def _test(settings: Settings, args: argparse.Namespace) -> int:
    """Run the test suite (on TEST_PROCESSES processes); the services and the packages the tests
    need are brought up first, once."""
    given = list(args.pytest_args)
    pytest_args = parallel_test_args(given)
    if pytest_args != given:
        _prepare_for_tests(settings)
    cmd = [sys.executable, "-m", "pytest", *pytest_args]
    say("running " + " ".join(cmd[2:]))
    os.chdir(REPO)
    os.execv(sys.executable, cmd)  # noqa: S606 - replaces this process with pytest


def _brokers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--brokers",
        type=int,
        default=None,
        help="local Kafka nodes: 1, or 3 for a replicated cluster (default: YIWANG_KAFKA_BROKERS or 1)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yiwang", description="Yiwang 一网统管 incident dispatch")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: settings)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("up", help="install/start Kafka and PostGIS, create topics, migrate (idempotent)")
    _brokers_option(p)
    p.set_defaults(func=_up)
    p = sub.add_parser("down", help="stop the local services that `up` started")
    _brokers_option(p)
    p.set_defaults(func=_down)
    p = sub.add_parser(
        "status",
        help="versions, reachability, brokers, replication, topics, migration head, the pipeline",
        description="Kafka and PostGIS (versions, reachability, brokers, under-replicated partitions), "
        "every declared topic, the migration head, the working calendar, and what `yiwang run` has "
        "running: each worker, the API and the simulator with its pid, port and health, and the "
        "intake's consumer lag. Exit 1 when anything is off.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _brokers_option(p)
    p.set_defaults(func=_status)
    p = sub.add_parser(
        "run",
        help="the main job: services up, districts loaded, pipeline running",
        description="`up`, load the two reference districts (Shapingba and Jiulongpo, under the city "
        "desk), then run the stream worker(s), the API and the "
        "simulator as child processes until Ctrl-C. A second `run` (same home and API port), or "
        "ports already taken, is refused with what runs (exit 3); a stage that cannot start stops "
        "the pipeline with its log's last line (exit 1).",
    )
    _brokers_option(p)
    p.add_argument("--rate", type=float, default=20.0, help="simulated reports per second")
    p.add_argument("--workers", type=int, default=1, help="stream worker processes")
    p.set_defaults(func=_run)
    p = sub.add_parser("test", help="run the test suite (extra arguments go to pytest)")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=_test)

    for register in REGISTRARS:
        register(sub)
    _describe_every_command(parser)
    return parser


class _DefaultsFormatter(argparse.HelpFormatter):
    """Adds "(default: X)" to an option's help unless the help already names its default (or
    the default says nothing: None, False, an empty text)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        quiet = action.default in (None, False, "", argparse.SUPPRESS) or not action.option_strings
        if quiet or "default" in text or isinstance(action, argparse._HelpAction):
            return action.help
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


def subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[list[str], argparse.ArgumentParser, str]]:
    """Every subcommand, nested ones too: (its words, its parser, its one-line help)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield [name], sub, helps.get(name, "")
                for words, deeper, text in subcommands(sub):
                    yield [name, *words], deeper, text


def _describe_every_command(parser: argparse.ArgumentParser) -> None:
    """Every subcommand's own --help opens with what it does (its one-line help, unless it
    has a longer description) and shows its options' defaults."""
    parser.formatter_class = _DefaultsFormatter
    for _, sub, text in subcommands(parser):
        sub.formatter_class = _DefaultsFormatter
        if not sub.description and text:
            sub.description = text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
        for action in sub._actions:
            if not action.help and action.option_strings and action.default not in (None, False, ""):
                action.help = "(default: %(default)s)"  # argparse shows nothing for an option without help


def split_test_args(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """`yiwang test -k x --soak`: everything after `test` belongs to pytest, options included
    (argparse would take `-k` for one of ours). Returns (our arguments, pytest's or None)."""
    if "test" in argv and all(a.startswith("-") for a in argv[: argv.index("test")]):
        cut = argv.index("test") + 1
        return argv[:cut], argv[cut:]
    return argv, None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    ours, for_pytest = split_test_args(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(ours)
    if for_pytest is not None:
        args.pytest_args = for_pytest
    try:
        brokers = getattr(args, "brokers", None)
        settings = Settings() if brokers is None else Settings(kafka_brokers=brokers)
    except ValueError as exc:
        say(f"invalid settings: {exc}")
        return 2
    configure_logging(args.log_level or settings.log_level)
    handler: Handler = args.func
    try:
        return handler(settings, args)
    except (ServiceError, SchemaAheadError) as exc:
        say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
