"""Shared plumbing for the end-to-end benchmarks: an isolated topic prefix and database,
canonical reports made by the real simulator and adapters, worker processes, timestamps.

A benchmark never touches the main job's topics or database: it gets `bench-<id>.` topics
and a `yiwang_bench_<id>` database, both removed at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaAdminClient, KafkaProducer
from sqlalchemy import create_engine

from config.policy import load_taxonomy
from config.settings import Settings
from config.topics import load_topics
from deploy import migrate, stack
from deploy.services.postgres import LocalPostgres
from deploy.topics import admin_client, ensure_topics
from geo.reference import load_reference
from geo.service import load_reference_set
from producers.adapters.registry import ADAPTERS
from producers.district_partitions import shipped_partitions
from producers.outcome import Context
from producers.simulator import generate
from producers.simulator.model import SimDistrict
from producers.sources import load_sources
from schemas.dead_letter import Origin
from schemas.report import Report, decode
from streams.read import records_to_end

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    report_id: str
    partition: int | None = None
    """Where the producers' publisher would write it (None: Kafka's default partitioning)."""


@contextmanager
def isolated(base: Settings, name: str) -> Iterator[Settings]:
    """Topics and a database of the benchmark's own; removed afterwards."""
    stack.up(base, migrate_database=False)
    run_id = uuid.uuid4().hex[:6]
    database = f"yiwang_bench_{run_id}"
    pg = LocalPostgres(base)
    settings = base.model_copy(update={"topic_prefix": f"bench-{name}-{run_id}.", "pg_database": database})
    # everything made from here on is removed whatever fails half way (a topic creation that
    # timed out on a busy broker used to leave the topics it had made, and the database)
    pg.ensure_database(database)
    admin: KafkaAdminClient | None = None
    try:
        migrate.upgrade(settings.db_url)
        admin = admin_client(settings)
        ensure_topics(admin, load_topics(), settings)
        engine = create_engine(settings.db_url)
        with engine.begin() as conn:
            load_reference_set(conn, load_reference())
        engine.dispose()
        yield settings
    finally:
        try:
            admin = admin or admin_client(settings)
            # by the run's prefix: what was created before a failure too, and the noop sinks
            admin.delete_topics(extra_topics(admin, settings), raise_errors=False)
            admin.close()
        finally:
            pg.drop_database(database)


def extra_topics(admin: KafkaAdminClient, settings: Settings) -> list[str]:
    """Every topic under the benchmark run's prefix: those `isolated` made and the noop sinks."""
    names: list[str] = admin.list_topics()
    return [n for n in names if n.startswith(settings.topic_prefix)]


def canonical_records(
    settings: Settings, count: int, *, seed: int, days_ago: int, district: SimDistrict | None = None
) -> list[Record]:
    """`count` valid reports made by the simulator and the real adapters (no malformed share),
    in the reference district (or `district`)."""
    sources, taxonomy = load_sources(), load_taxonomy()
    start = datetime.now(UTC) - timedelta(days=days_ago)
    out: list[Record] = []
    received = datetime.now(UTC)
    made = generate(seed, count, start=start, span=timedelta(days=1), malformed_share=0.0, district=district)
    for item in made:
        ctx = Context(sources[item.source], taxonomy, received, Origin())
        for report in ADAPTERS[item.source](item.payload, ctx):
            if not isinstance(report, Report):  # rejections, and CAP life-cycle records
                continue
            out.append(
                Record(
                    settings.topic(f"reports.{report.source.value}"),
                    report.source_ref.encode(),
                    report.model_dump_json().encode(),
                    str(report.report_id),
                )
            )
    return out


def placed(settings: Settings, records: list[Record]) -> list[Record]:
    """Each record in the partition the producers' publisher gives it: its district's range of
    the topic (producers/district_partitions.py; the declared partition counts, as the benches'
    topics are made from config/topics.toml). Without it kafka-python's default partitioner
    spreads one district's reports over every partition, i.e. over every intake lane at once."""
    counts = declared_partitions(settings)
    chooser = shipped_partitions()
    return [replace(r, partition=chooser.partition_for(decode(r.value), counts[r.topic])) for r in records]


def declared_partitions(settings: Settings) -> dict[str, int]:
    """Each topic's partition count as config/topics.toml declares it, by its full name (the
    benches' topics are made from it)."""
    return {settings.topic(s.name): s.partitions for s in load_topics()}


def probes(settings: Settings, records: list[Record], spares: list[Record]) -> list[tuple[Record, int]]:
    """One spare record sent to each partition of every topic that `records` use: once each has
    been processed, every partition the measured records land on has a consumer at work."""
    admin = admin_client(settings)
    try:
        counts = {
            t["name"]: len(t["partitions"]) for t in admin.describe_topics(sorted({r.topic for r in records}))
        }
    finally:
        admin.close()
    by_topic: dict[str, list[Record]] = {}
    for r in spares:
        by_topic.setdefault(r.topic, []).append(r)
    out: list[tuple[Record, int]] = []
    for topic, n in sorted(counts.items()):
        spare = by_topic.get(topic, [])
        if len(spare) < n:
            raise ValueError(f"{len(spare)} spare records of {topic} for its {n} partitions: make more")
        out += [(spare[p], p) for p in range(n)]
    return out


def free_port() -> int:
    """A TCP port free on this host now (the OS picks it): fixed ports collided with a second run."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send_to_partitions(settings: Settings, records: list[tuple[Record, int]]) -> None:
    """Publish each record to the partition given, and wait for the broker's acknowledgements."""
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    for r, partition in records:
        producer.send(r.topic, key=r.key, value=r.value, partition=partition)
    producer.flush()
    producer.close()


def broker_times(settings: Settings, records: list[Record], *, after_ms: int) -> dict[str, float]:
    """Each record's own timestamp as the broker holds it (seconds), read back from its topic, by
    report id. The topics keep the producer's create time (Kafka's default `CreateTime`): the
    moment of the send call, before the producer's linger and the broker's acknowledgement."""
    return {rid: at for rid, (at, _) in broker_places(settings, records, after_ms=after_ms).items()}


def broker_places(
    settings: Settings, records: list[Record], *, after_ms: int
) -> dict[str, tuple[float, int]]:
    """`broker_times` with the partition each record was written to, by report id."""
    wanted = {(r.topic, r.key): r.report_id for r in records}
    out: dict[str, tuple[float, int]] = {}
    for topic in sorted({r.topic for r in records}):
        for r in records_to_end(settings.bootstrap_servers, topic):
            rid = wanted.get((topic, r.key))
            if rid is not None and r.timestamp >= after_ms:
                out[rid] = (r.timestamp / 1000, r.partition)
    return out


def produce(settings: Settings, records: list[Record], *, rate: float | None = None) -> dict[str, float]:
    """Publish records (as fast as possible, or at `rate` per second); returns send time by report id."""
    if rate is None:
        return produce_on(settings, [(0.0, r) for r in records])
    return produce_on(settings, [(i / rate, r) for i, r in enumerate(records)])


def produce_on(settings: Settings, schedule: list[tuple[float, Record]]) -> dict[str, float]:
    """Publish each record at its offset in seconds from now (one producer, in the order given);
    returns the wall-clock send time by report id.

    Every topic's partitions are looked up before the first send: kafka-python blocks a send
    ~100 ms the first time it meets a topic, and with six report topics a schedule stood still
    for ~0.85 s and then sent ~850 reports at once (measured: 8 sends blocked 88-108 ms each, then
    800 sent in 120 ms), a burst the load generator made, not reports at the rate asked."""
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=5, batch_size=256 * 1024
    )
    for topic in sorted({r.topic for _, r in schedule}):
        producer.partitions_for(topic)
    sent: dict[str, float] = {}
    began = time.monotonic()
    for offset, r in schedule:
        ahead = began + offset - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        producer.send(r.topic, key=r.key, value=r.value, partition=r.partition)
        sent[r.report_id] = time.time()
    producer.flush()
    producer.close()
    return sent


def env_for(settings: Settings, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIWANG_")}
    env |= {
        "YIWANG_TOPIC_PREFIX": settings.topic_prefix,
        "YIWANG_PG_DATABASE": settings.pg_database,
        "YIWANG_HOME": str(home),
        **extra,
    }
    return env


def start_worker(
    settings: Settings, home: Path, name: str, *, metrics_port: int = 0
) -> subprocess.Popen[bytes]:
    home.mkdir(parents=True, exist_ok=True)
    log = (home / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "deploy.cli", "worker", "--metrics-port", str(metrics_port)],
        cwd=REPO,
        env=env_for(settings, home),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape(port: int, name: str) -> dict[str, float]:
    """Samples of one metric from a process's /metrics, by their label text."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out: dict[str, float] = {}
    for line in body.splitlines():
        if line.startswith(name):
            head, _, value = line.rpartition(" ")
            out[head[len(name) :]] = float(value)
    return out


def timestamps(settings: Settings, topic: str, *, after_ms: int) -> list[tuple[bytes, bytes, int]]:
    """(key, value, broker timestamp in ms) of the records on `topic` produced after `after_ms`."""
    return timestamps_raw(settings.bootstrap_servers, settings.topic(topic), after_ms=after_ms)


def timestamps_raw(bootstrap: str, topic: str, *, after_ms: int) -> list[tuple[bytes, bytes, int]]:
    """`timestamps` of a topic named in full (the prefix included)."""
    return [
        (r.key, r.value, r.timestamp) for r in records_to_end(bootstrap, topic) if r.timestamp >= after_ms
    ]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]
