"""Running the real stream worker against the real broker and database, for tests.

The worker is started as its own process (`python -m deploy.cli worker`) exactly as in
production, pointed at the test session's topic prefix and database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaProducer

from config.policy import load_taxonomy
from config.settings import Settings, child_environment
from producers.adapters.registry import ADAPTERS
from producers.feed import Feeder
from producers.ledger import Ledger
from producers.outcome import Context
from producers.publisher import Publisher
from producers.simulator import Simulated
from producers.sources import load_sources
from schemas.dead_letter import Origin
from schemas.report import Report
from streams.lag import total_lag
from streams.read import records_to_end
from streams.worker import report_topics

INTAKE_GROUP = "yiwang-intake"
REPO = Path(__file__).resolve().parents[2]


def worker_env(settings: Settings, home: Path) -> dict[str, str]:
    return child_environment(settings.model_copy(update={"home": home}), os.environ)


class Worker:
    """One `yiwang worker` process with its log file."""

    def __init__(
        self, settings: Settings, home: Path, name: str = "worker", *, metrics_port: int = 0
    ) -> None:
        self.settings = settings
        self.home = home
        self.log = home / f"{name}.log"
        home.mkdir(parents=True, exist_ok=True)
        self._fh = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "worker", "--metrics-port", str(metrics_port)],
            cwd=REPO,
            env=worker_env(settings, home),
            stdout=self._fh,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, n: int = 3000) -> str:
        return self.log.read_bytes().replace(b"\0", b"").decode(errors="replace")[-n:]

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no final commit."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._fh.close()

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._fh.close()


@contextmanager
def running_worker(settings: Settings, home: Path, name: str = "worker") -> Iterator[Worker]:
    worker = Worker(settings, home, name)
    try:
        yield worker
    finally:
        worker.stop()


def wait_caught_up(settings: Settings, workers: list[Worker], *, timeout_s: float = 180) -> None:
    """Until the intake group has committed everything on the report topics."""
    topics = report_topics(settings)
    group = settings.topic(INTAKE_GROUP)
    deadline = time.monotonic() + timeout_s
    lag: int | None = None
    while time.monotonic() < deadline:
        for w in workers:
            assert w.alive(), f"worker died:\n{w.tail()}"
        lag = total_lag(settings.bootstrap_servers, group, topics)
        if lag == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"intake still {lag} records behind after {timeout_s}s:\n{workers[0].tail()}")


def publish_simulated(settings: Settings, items: list[Simulated]) -> tuple[set[str], int]:
    """Through the real adapters and producer; returns (report ids published, adapter rejections)."""
    publisher = Publisher(settings)
    feeder = Feeder(publisher, Ledger(None))
    for i, item in enumerate(items):
        feeder.feed(item.source, item.payload, Origin(file="test", record=str(i)))
    summary = feeder.finish()
    publisher.close()
    assert not summary.failed
    ids = expected_report_ids(items)
    assert summary.published == len(ids)
    return ids, len(summary.rejected)


def expected_report_ids(items: list[Simulated]) -> set[str]:
    """What the adapters make of the payloads (pure: ids do not depend on the clock)."""
    sources, taxonomy = load_sources(), load_taxonomy()
    ids: set[str] = set()
    for item in items:
        ctx = Context(sources[item.source], taxonomy, datetime.now(UTC), Origin())
        for out in ADAPTERS[item.source](item.payload, ctx):
            if isinstance(out, Report):
                ids.add(str(out.report_id))
    return ids


def publish_raw(settings: Settings, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    for value in values:
        producer.send(settings.topic(topic), key=uuid.uuid4().hex.encode(), value=value)
    producer.flush()
    producer.close()


def read_topic(settings: Settings, topic: str) -> list[dict[str, Any]]:
    return [orjson.loads(r.value) for r in records_to_end(settings.bootstrap_servers, settings.topic(topic))]


def canonical(report: Report) -> bytes:
    return orjson.dumps(report.model_dump(mode="json"))
