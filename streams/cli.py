"""`yiwang worker`: run the stream processors (as many processes as you like)."""

from __future__ import annotations

import argparse
import logging
from typing import NoReturn

import faust
from prometheus_client import start_http_server

from config.console import say
from config.settings import Settings
from streams.memory import tune_allocator
from streams.rebuild import RebuildRefused, run_rebuild
from streams.runtime import tune_collector
from streams.worker import build_worker

log = logging.getLogger(__name__)


def _worker(settings: Settings, args: argparse.Namespace) -> NoReturn:
    tune_collector()
    tune_allocator()
    app = build_worker(settings)
    port = args.metrics_port if args.metrics_port is not None else settings.metrics_port
    if port:
        start_http_server(port, addr=settings.api_host)
        log.info("worker metrics on http://%s:%d/metrics", settings.api_host, port)
    worker = faust.Worker(app, loglevel=args.faust_log_level, quiet=True)
    worker.execute_from_commandline()  # runs until stopped; exits the process


def _rebuild(settings: Settings, args: argparse.Namespace) -> int:
    if not args.yes:
        say(
            "rebuild empties the dispatch tables (reports, incidents, tasks, events) and refills them "
            "from the topics; run again with --yes to do it"
        )
        return 2
    try:
        result = run_rebuild(settings, force=args.force)
    except RebuildRefused as exc:
        say(f"error: {exc}")
        return 1
    say(f"rebuilt from {result.messages} messages: " + ", ".join(f"{t} {n}" for t, n in result.rows.items()))
    if result.missing_policies:
        say(
            "WARNING cases point at escalation policies that were never published: "
            + ", ".join(result.missing_policies)
            + " (their SLA pass will stop on them; restore sla_policies from a backup)"
        )
        return 1
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "worker",
        help="run the stream processors (intake: validate, locate, merge, route)",
        description="One stream worker process: the intake (validate, locate, merge, route), the SLA "
        "tracker and the notices. Run several: Kafka shares the partitions between them. "
        "`yiwang status` shows the intake's consumer lag.",
    )
    p.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="Prometheus metrics port (default: YIWANG_METRICS_PORT, 9108; 0 = off)",
    )
    p.add_argument(
        "--faust-log-level",
        default="warn",
        choices=["crit", "error", "warn", "info", "debug"],
        help="how much faust itself logs (default: warn)",
    )
    p.set_defaults(func=_worker)
    p = sub.add_parser("rebuild", help="refill the dispatch tables from the incidents/tasks/events topics")
    p.add_argument("--yes", action="store_true", help="really empty and refill the tables")
    p.add_argument("--force", action="store_true", help="even while workers are running (not advised)")
    p.set_defaults(func=_rebuild)
