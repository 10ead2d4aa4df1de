"""The whole pipeline against the real broker and PostGIS: sustained reports/s and latency.

    .venv/bin/python -m bench.pipeline [--reports 40000] [--workers 1 2] [--rate 1000] [--seconds 30]

1. Ceiling: the same faust client reading the same report topics in the same batches and
   writing one record per record read, doing no work (bench/noop_worker.py), on the same
   records the pipeline then processes.
2. Sustained: a backlog of valid reports (simulator -> real adapters -> canonical JSON) is
   consumed by 1 or 2 `yiwang worker` processes; rate = reports committed in PostgreSQL per
   second, from the first batch's commit to the last.
3. Latency at a steady rate (each client on topics of its own; the clock starts once every
   partition has a consumer at work, see `wait_ready`): reports sent at --rate per second;
   report-to-task latency is the broker timestamp of its incident's first task record on
   `dispatch.tasks` minus the report record's (read back from its topic), i.e. from the report
   entering Kafka to its task being committed and published (a later task record of the same
   incident, an SLA step's, is not the report's latency). The reports are written into their
   district's partitions as the producers' publisher writes them (so one district's reports are
   one intake lane's); `--spread` sends them by Kafka's default partitioner over every
   partition, i.e. every lane at once. Beside it, the no-op client's latency at the same rate.
Each number is printed beside its limit measured in the same run and the target
in docs/architecture.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import orjson
from kafka.admin import NewTopic
from sqlalchemy import Engine, create_engine, text

from bench.harness import (
    REPO,
    Record,
    broker_places,
    broker_times,
    canonical_records,
    cpu_seconds,
    declared_partitions,
    env_for,
    free_port,
    isolated,
    percentile,
    placed,
    probes,
    produce,
    rss_mb,
    scrape,
    send_to_partitions,
    start_worker,
    stop,
    timestamps,
    timestamps_raw,
)
from bench.profile import record as record_profile
from bench.profile import report as profile_report
from bench.sla_recovery import _located, _write_cases
from config.report_partitions import load_report_partitions
from config.settings import Settings
from deploy.topics import admin_client
from dispatch.intake.rules import incident_id_for
from streams.lag import total_lag
from streams.lanes import lane_of, lanes_of
from streams.worker import INTAKE_APP_ID, report_topics

TARGET_SUSTAINED = 5000
TARGET_P99_S = 0.250
TARGET_P99_FAST_S = 1.0
"""p99 report->task at 2,500 reports/s (target: <= 1 s)."""
TARGET_RSS_MB = 300
SPARES = 800
"""Reports made for the probes: enough to hold one per partition of every report topic used."""


def noop_env(settings: Settings, home: Path, tag: str, expect: int) -> tuple[dict[str, str], str]:
    """The no-op client's environment and its sink topic (created here: nothing auto-creates)."""
    sink = settings.topic(f"noop.{tag}")
    admin = admin_client(settings)
    admin.create_topics([NewTopic(sink, 6, 1)])
    admin.wait_for_topics([sink])
    admin.close()
    env = env_for(
        settings,
        home,
        BENCH_TOPICS=",".join(report_topics(settings)),
        BENCH_SINK=sink,
        BENCH_GROUP=f"noop-{tag}",
        BENCH_EXPECT=str(expect),
    )
    return env, sink


def noop_rate(
    settings: Settings, home: Path, expect: int, tag: str, faust: str = "", *, client: str = "faust"
) -> tuple[float, float]:
    """Records/s of the no-op client over the records already on the report topics, and its
    CPU per record in µs (what the client costs a record when nothing else is done);
    `faust`: settings to try (`name=value,...`, see bench/noop_worker.py); `client`: `faust`
    (the faust agent the intake was) or `lanes` (the intake's consumers per lane now)."""
    env, _ = noop_env(settings, home, tag, expect)
    env["BENCH_FAUST"] = faust
    env["BENCH_CLIENT"] = client
    out = subprocess.run(
        [sys.executable, "-m", "bench.noop_worker"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    found = re.search(r"noop (\d+) ([\d.]+) ([\d.]+)", out.stdout + out.stderr)  # print() goes to its log
    if found is None:
        raise RuntimeError(f"noop worker failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
    n = int(found[1])
    return n / float(found[2]), float(found[3]) / n * 1e6


def knob_rows(
    settings: Settings, home: Path, expect: int, knobs: list[str]
) -> list[tuple[str, str, str, str]]:
    """The no-op client with each set of faust settings, beside the defaults run just before it."""
    rows = []
    for i, knob in enumerate(knobs):
        base_rate, base_cpu = noop_rate(settings, home, expect, f"knob-base-{i}")
        rate, cpu = noop_rate(settings, home, expect, f"knob-{i}", knob)
        rows.append(
            (
                f"  no-op with {knob}",
                f"{rate:,.0f} rec/s",
                f"{cpu:,.0f} µs/rec",
                f"{rate / base_rate:.2f} x rate, {cpu / base_cpu:.2f} x CPU of the defaults"
                f" ({base_rate:,.0f} rec/s, {base_cpu:,.0f} µs)",
            )
        )
    return rows


def wait_caught_up(settings: Settings, procs: list[subprocess.Popen[bytes]], timeout_s: float = 900) -> None:
    group, topics = settings.topic("yiwang-intake"), report_topics(settings)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a worker died; see its log")
        if total_lag(settings.bootstrap_servers, group, topics) == 0:
            return
        time.sleep(0.5)
    raise RuntimeError("the pipeline did not catch up")


def committed_rate(settings: Settings, report_ids: list[str]) -> tuple[float, int]:
    engine = create_engine(settings.db_url)
    with engine.connect() as conn:
        n, first, last = conn.execute(
            text(
                "SELECT count(*), min(ingested_at), max(ingested_at) FROM reports WHERE report_id = ANY(:ids)"
            ),
            {"ids": report_ids},
        ).one()
    engine.dispose()
    seconds = (last - first).total_seconds() if n > 1 else float("nan")
    return n / seconds, n


@dataclass
class Sustained:
    rate: float
    reports: int
    rss_mb: float
    cpu_us: float
    """Worker CPU per report (all workers), from the first commit to the catch-up."""
    stages_us: dict[str, float]
    """Wall time per report in each intake stage (the workers' own stage histograms)."""
    load: tuple[float, float]
    """The machine's 1-minute load average when the run began and when it caught up."""
    rss0_mb: float
    """The largest worker's RSS at its first commit (index, directory, open work loaded)."""


def _committed(engine: Engine, ids: list[str]) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM reports WHERE report_id = ANY(:ids)"), {"ids": ids}
            ).scalar_one()
        )


def sustained(
    settings: Settings, home: Path, records: list[Record], workers: int, profile: Path | None = None
) -> Sustained:
    """Workers consume the backlog already on the topics.

    With `profile`, py-spy samples the first worker for 12 s once it has started consuming.
    """
    ports = [free_port() for _ in range(workers)]
    procs = [start_worker(settings, home, f"w{workers}-{i}", metrics_port=ports[i]) for i in range(workers)]
    spy: threading.Thread | None = None
    engine = create_engine(settings.db_url)
    ids = [r.report_id for r in records]
    try:
        while _committed(engine, ids) == 0:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a worker died; see its log")
            time.sleep(0.2)
        cpu0, done0 = sum(cpu_seconds(p.pid) for p in procs), _committed(engine, ids)
        load0, rss0 = os.getloadavg()[0], max(rss_mb(p.pid) for p in procs)
        if profile is not None:
            out = profile / f"worker-{workers}w.raw"

            def sample() -> None:
                time.sleep(8)  # index and directory loaded, group joined
                record_profile(procs[0].pid, 12, out)

            spy = threading.Thread(target=sample)
            spy.start()
        wait_caught_up(settings, procs)
        cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu0
        load = (load0, os.getloadavg()[0])
        stages: dict[str, float] = {}
        for port in ports:
            for labels, value in scrape(port, "yiwang_stage_seconds_sum").items():
                stage = labels.split('"')[1]
                stages[stage] = stages.get(stage, 0.0) + value
        if spy is not None:
            spy.join()
            print(f"\nprofile of one worker, {workers} worker(s) running ({out}):\n{profile_report(out)}")
        rss = max(rss_mb(p.pid) for p in procs)
    finally:
        for p in procs:
            stop(p)
        engine.dispose()
    rate, n = committed_rate(settings, ids)
    return Sustained(
        rate,
        n,
        rss,
        cpu / max(n - done0, 1) * 1e6,
        {k: v / max(n, 1) * 1e6 for k, v in stages.items()},
        load,
        rss0,
    )


@dataclass
class BatchFigures:
    """What the workers' own histograms say about the batches of a measured stretch."""

    batches: int
    reports: int
    stages_ms: dict[str, float]
    """Mean wall time per batch in each stage."""
    stages_p99_ms: dict[str, float]
    """The upper bound of the histogram bucket holding each stage's 99th percentile."""
    seconds: float
    """The stretch's wall time (the cycle of a batch is seconds / batches per worker)."""


def _histograms(ports: list[int]) -> dict[str, float]:
    """The intake's batch and stage samples of every worker, summed by sample text."""
    out: dict[str, float] = {}
    for port in ports:
        for name in ("yiwang_intake_batch_size", "yiwang_stage_seconds"):
            for labels, value in scrape(port, name).items():
                out[name + labels] = out.get(name + labels, 0.0) + value
    return out


def batch_figures(before: dict[str, float], after: dict[str, float], seconds: float) -> BatchFigures:
    delta = {k: v - before.get(k, 0.0) for k, v in after.items()}
    stages = sorted({k.split('stage="')[1].split('"')[0] for k in delta if 'stage="' in k})
    mean, p99 = {}, {}
    for stage in stages:
        n = delta.get(f'yiwang_stage_seconds_count{{stage="{stage}"}}', 0.0)
        mean[stage] = delta.get(f'yiwang_stage_seconds_sum{{stage="{stage}"}}', 0.0) / max(n, 1) * 1000
        buckets = sorted(
            (float(k.split('le="')[1].split('"')[0]), v)
            for k, v in delta.items()
            if k.startswith("yiwang_stage_seconds_bucket") and f'stage="{stage}"' in k
        )
        p99[stage] = next((le * 1000 for le, count in buckets if count >= 0.99 * n), float("inf"))
    return BatchFigures(
        int(delta.get("yiwang_intake_batch_size_count", 0)),
        int(delta.get("yiwang_intake_batch_size_sum", 0)),
        mean,
        p99,
        seconds,
    )


def group_members(settings: Settings, group: str) -> tuple[str, int]:
    admin = admin_client(settings)
    try:
        info = admin.describe_groups([group]).get(group, {})
    finally:
        admin.close()
    return str(info.get("group_state", "")), len(info.get("members", ()))


def wait_ready(
    settings: Settings,
    procs: list[subprocess.Popen[bytes]],
    probe: list[tuple[Record, int]],
    *,
    done: Callable[[], int],
    group: str | None,
    members_per_process: int = 1,
    timeout_s: float = 300,
) -> float:
    """Seconds from now until the consumers are at work on every partition: the group stable
    with `members_per_process` members per process (when `group` is given; a worker's intake is a
    member per lane), then a probe record sent to each
    partition and every one processed (`done` counts them). The latency clock starts after."""
    began = time.monotonic()
    deadline = began + timeout_s

    def waiting(what: str) -> None:
        if any(p.poll() not in (None, 0) for p in procs):
            raise RuntimeError("a worker died; see its log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready after {timeout_s:.0f}s: {what}")
        time.sleep(0.1)

    while group is not None and group_members(settings, group) != (
        "Stable",
        members_per_process * len(procs),
    ):
        waiting("the consumer group")
    send_to_partitions(settings, probe)
    while done() < len(probe):
        waiting("the probe records")
    return time.monotonic() - began


@dataclass
class Latency:
    seconds: list[float]
    """Report to task (or, for the no-op client, record to its copy) by broker timestamps."""
    startup_s: float
    load: tuple[float, float]
    batches: BatchFigures | None = None
    bursts: list[tuple[float, int]] | None = None
    """The first batches' task outputs after the clock started (`first_bursts`): how the stretch
    began, batch by batch."""
    quarters: list[tuple[float, float]] | None = None
    """p50 and p99 of the reports sent in each quarter of the stretch: a queue left by the start
    shows as a first quarter far above the last, a stall inside one as a p99 far above its p50."""
    lanes: dict[str, tuple[int, float, float]] | None = None
    """Per intake lane its reports' count, p50 and p99 (the lane of the partition each report
    was written to, streams/lanes.py)."""
    slowest: list[tuple[float, float, str]] | None = None
    """The slowest reports: (latency, sent this long after the clock started, lane)."""
    later_tasks: int = 0
    """Task records of an incident after its first (an SLA step's reassignment, an update):
    not a report's latency, left out of it."""


def quarters(entered_at: list[float], seconds: list[float]) -> list[tuple[float, float]]:
    if not entered_at:
        return []
    first, span = min(entered_at), max(entered_at) - min(entered_at) or 1.0
    parts: list[list[float]] = [[], [], [], []]
    for at, s in zip(entered_at, seconds, strict=True):
        parts[min(3, int((at - first) / span * 4))].append(s)
    return [(percentile(p, 50), percentile(p, 99)) for p in parts]


FIRST_BURSTS = 12
SLOWEST = 8
BURST_GAP_S = 0.010
"""Tasks appended within this of each other came from one batch's outputs (a batch's records
are sent at once; a worker's batches are 50 ms or more apart)."""


def first_bursts(appended: list[float], began: float, n: int = FIRST_BURSTS) -> list[tuple[float, int]]:
    """The first `n` batches' task outputs after `began`: (seconds after it, tasks), from the
    tasks' broker append times (a merged report makes no task, so a batch holds more reports).

    >>> first_bursts([10.30, 10.301, 10.5, 10.502, 10.503, 11.0], 10.0, 2)
    [(0.3, 2), (0.5, 3)]
    """
    out: list[tuple[float, int]] = []
    last = float("-inf")
    for at in sorted(appended):
        if at - last > BURST_GAP_S:
            if len(out) == n:
                break
            out.append((round(at - began, 3), 0))
        out[-1] = (out[-1][0], out[-1][1] + 1)
        last = at
    return out


def latency(
    settings: Settings,
    home: Path,
    records: list[Record],
    spares: list[Record],
    *,
    rate: float,
    workers: int,
    profile: Path | None = None,
) -> Latency:
    """Seconds from each report's broker timestamp to its task's, at a steady send rate, from
    the moment the workers are at work on every partition (not from a guess).

    With `profile`, py-spy samples the first worker through the measured stretch.
    """
    ports = [free_port() for _ in range(workers)]
    start = [start_worker(settings, home, f"latency-{i}", metrics_port=ports[i]) for i in range(workers)]
    probe = probes(settings, records, spares)
    engine = create_engine(settings.db_url)
    try:
        ids = [r.report_id for r, _ in probe]
        startup = wait_ready(
            settings,
            start,
            probe,
            done=lambda: _committed(engine, ids),
            group=settings.topic(INTAKE_APP_ID),
            members_per_process=len(lanes_of(load_report_partitions())),
        )
        before, load0 = _histograms(ports), os.getloadavg()[0]
        spy: threading.Thread | None = None
        if profile is not None:
            spied = profile / f"latency-{rate:.0f}-{workers}w.raw"
            spy = threading.Thread(target=record_profile, args=(start[0].pid, len(records) / rate, spied))
            spy.start()
        began_ms, t0 = int(time.time() * 1000), time.monotonic()
        produce(settings, records, rate=rate)
        wait_caught_up(settings, start)
        if spy is not None:
            spy.join()
            print(f"\nprofile of one worker at {rate:,.0f}/s ({spied}):\n{profile_report(spied)}")
        figures = batch_figures(before, _histograms(ports), time.monotonic() - t0)
        load = (load0, os.getloadavg()[0])
    finally:
        for proc in start:
            stop(proc)
        engine.dispose()
    return first_tasks(settings, records, began_ms, Latency([], startup, load, figures))


def first_tasks(settings: Settings, records: list[Record], began_ms: int, run: Latency) -> Latency:
    """`run` with each report's latency to its incident's first task record, read back from the
    topics (reports and `dispatch.tasks`), with the quarters, the lanes, the slowest and the
    first batches' outputs."""
    entered = broker_places(settings, records, after_ms=began_ms)
    shares, counts = load_report_partitions(), declared_partitions(settings)
    topic_of = {r.report_id: r.topic for r in records}
    by_incident = {incident_id_for(rid): (t, rid) for rid, t in entered.items()}
    out: list[float] = []
    entered_at: list[float] = []
    appended: list[float] = []
    lanes: dict[str, list[float]] = {}
    slow: list[tuple[float, float, str]] = []
    first: dict[str, int] = {}
    later = 0
    for _, value, ts in timestamps(settings, "dispatch.tasks", after_ms=began_ms):
        incident = orjson.loads(value)["task"]["incident_id"]
        if incident in by_incident:
            later += incident in first
            first[incident] = min(ts, first.get(incident, ts))
    for incident, ts in first.items():
        found = by_incident.get(incident)
        if found is not None:
            (at, partition), rid = found
            out.append(ts / 1000 - at)
            entered_at.append(at)
            appended.append(ts / 1000)
            lane = lane_of(shares, counts[topic_of[rid]], partition) or "default"
            lanes.setdefault(lane, []).append(out[-1])
            slow.append((out[-1], at - began_ms / 1000, lane))
    bursts = first_bursts(appended, began_ms / 1000)
    return replace(
        run,
        seconds=out,
        bursts=bursts,
        quarters=quarters(entered_at, out),
        lanes={lane: (len(v), percentile(v, 50), percentile(v, 99)) for lane, v in sorted(lanes.items())},
        slowest=sorted(slow, reverse=True)[:SLOWEST],
        later_tasks=later,
    )


def noop_latency(
    settings: Settings, home: Path, records: list[Record], spares: list[Record], rate: float
) -> Latency:
    probe = probes(settings, records, spares)
    env, sink = noop_env(settings, home, "latency", len(records) + len(probe))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.noop_worker"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        startup = wait_ready(
            settings,
            [proc],
            probe,
            done=lambda: len(timestamps_raw(settings.bootstrap_servers, sink, after_ms=0)),
            group=None,
        )
        load0 = os.getloadavg()[0]
        began_ms = int(time.time() * 1000)
        produce(settings, records, rate=rate)
        proc.wait(timeout=300)
        load = (load0, os.getloadavg()[0])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    entered = broker_times(settings, records, after_ms=began_ms)
    by_key = {r.key: entered[r.report_id] for r in records if r.report_id in entered}
    seconds = [
        ts / 1000 - by_key[key]
        for key, _, ts in timestamps(settings, "noop.latency", after_ms=began_ms)
        if key in by_key
    ]
    return Latency(seconds, startup, load)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def latency_rows(
    rate: float, workers: int, target: float, floor: Latency, run: Latency
) -> list[tuple[str, str, str, str]]:
    f, lat = floor.seconds, run.seconds
    p99 = percentile(lat, 99)
    rows = [
        (
            f"no-op latency at {rate:,.0f}/s, {len(f):,} records",
            f"p50 {_ms(percentile(f, 50))} ms",
            f"p99 {_ms(percentile(f, 99))} ms",
            f"max {_ms(max(f, default=float('nan')))} ms; the floor; ready after {floor.startup_s:.1f} s;"
            f" load {floor.load[0]:.1f} → {floor.load[1]:.1f}",
        ),
        (
            f"report->first task at {rate:,.0f}/s, {workers} worker(s), {len(lat):,}",
            f"p50 {_ms(percentile(lat, 50))} ms",
            f"p99 {_ms(p99)} ms",
            f"p99 {p99 / target:.2f} x target {target * 1000:,.0f} ms;"
            f" max {_ms(max(lat, default=float('nan')))} ms; p99 {p99 / percentile(f, 99):.1f} x the no-op's",
        ),
        (
            "  workers ready after (group stable, probes processed)",
            f"{run.startup_s:.1f} s",
            "",
            f"load {run.load[0]:.1f} → {run.load[1]:.1f}; {run.later_tasks:,} later task record(s)"
            " of the same incidents left out",
        ),
    ]
    if run.quarters:
        rows.append(
            (
                "  p50 (p99) of each quarter of the stretch",
                " / ".join(f"{_ms(p50)} ({_ms(p99)})" for p50, p99 in run.quarters),
                "ms",
                "sent in the first, second, third, last quarter",
            )
        )
    if run.lanes:
        rows.append(
            (
                "  per lane: reports, p50 / p99",
                "  ".join(
                    f"{lane} {n:,}: {_ms(p50)}/{_ms(p99)}" for lane, (n, p50, p99) in run.lanes.items()
                ),
                "ms",
                "the lane of the partition each report was written to",
            )
        )
    if run.slowest:
        rows.append(
            (
                f"  the {len(run.slowest)} slowest",
                " ".join(f"{_ms(s)}@{at:.1f}s" for s, at, _ in run.slowest),
                "",
                "ms@when sent after the clock started; lanes "
                + ",".join(sorted({lane for *_, lane in run.slowest})),
            )
        )
    if run.bursts:
        rows.append(
            (
                f"  the first {len(run.bursts)} batches' tasks",
                " ".join(f"{n}@{at * 1000:,.0f}" for at, n in run.bursts),
                "",
                "tasks@ms after the clock started (from the tasks' append times)",
            )
        )
    b = run.batches
    if b is not None and b.batches:
        per_worker = b.batches / workers
        rows.append(
            (
                "  batches: count, reports each, cycle",
                f"{b.batches:,}",
                f"{b.reports / b.batches:,.1f} rep",
                f"one every {b.seconds / per_worker * 1000:,.1f} ms per worker",
            )
        )
        rows.append(
            (
                "  per batch, mean (p99 bucket) ms",
                f"{sum(b.stages_ms.values()):,.1f} ms",
                "in stages",
                "  ".join(
                    f"{stage} {b.stages_ms[stage]:.1f} ({b.stages_p99_ms[stage]:g})"
                    for stage in sorted(b.stages_ms)
                ),
            )
        )
    return rows


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=40_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rate", type=float, nargs="+", default=[1000.0, 2500.0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--latency-workers", type=int, default=2)
    ap.add_argument(
        "--spread",
        action="store_true",
        help="the latency runs' reports by Kafka's default partitioning over every partition (every"
        " lane at once), not in their district's range as the producers' publisher writes them",
    )
    ap.add_argument("--skip-sustained", action="store_true", help="only the latency measurement")
    ap.add_argument("--skip-latency", action="store_true", help="only the sustained measurement")
    ap.add_argument("--profile", type=Path, help="py-spy the first worker of each sustained run into DIR")
    ap.add_argument(
        "--knobs",
        nargs="+",
        default=[],
        help="faust settings to measure on the no-op client, each `name=value,...`, beside the defaults",
    )
    ap.add_argument(
        "--open-tasks",
        type=int,
        default=0,
        help="open cases with their tasks written before the sustained runs (the RSS target's 100,000)",
    )
    return ap.parse_args()


def sustained_rows(base: Settings, args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    """The no-op ceiling, the faust knobs and the sustained runs, in their own topics and database."""
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, isolated(base, "pipe") as settings:
        home = Path(tmp)
        backlog = {
            w: canonical_records(settings, args.reports, seed=100 + w, days_ago=10 * (k + 1))
            for k, w in enumerate(args.workers)
        }
        if not args.workers:
            backlog = {0: canonical_records(settings, args.reports, seed=99, days_ago=60)}
        first = args.workers[0] if args.workers else 0
        if args.open_tasks:
            opened = asyncio.run(_write_cases(settings, _located(args.open_tasks, 3), datetime.now(UTC)))
            rows.append(("open cases with tasks before the runs", f"{opened:,}", "", ""))
        produce(settings, backlog[first])
        # the intake reads with a consumer per lane (streams/intake.py): its no-op is the ceiling;
        # faust's (what the intake was before issue 22) is printed beside it for the comparison
        faust_ceiling, faust_cpu = noop_rate(settings, home, len(backlog[first]), "ceiling")
        ceiling, noop_cpu = noop_rate(settings, home, len(backlog[first]), "ceiling-lanes", client="lanes")
        rows.append(("no-op consume+produce (intake's client)", f"{ceiling:,.0f} rec/s", "", "the ceiling"))
        rows.append(("  no-op CPU per record", f"{noop_cpu:,.0f} µs", "", ""))
        rows.append(("no-op consume+produce (faust agent)", f"{faust_ceiling:,.0f} rec/s", "", "before"))
        rows.append(("  no-op CPU per record", f"{faust_cpu:,.0f} µs", "", ""))
        rows += knob_rows(settings, home, len(backlog[first]), args.knobs)
        for k, w in enumerate(args.workers):
            if k:  # the first backlog is on the topics already (the no-op client read it)
                produce(settings, backlog[w])
            run = sustained(settings, home, backlog[w], w, args.profile)
            rate, n, rss = run.rate, run.reports, run.rss_mb
            rows.append(
                (
                    f"sustained, {w} worker(s), {n:,} reports",
                    f"{rate:,.0f} rep/s",
                    f"{rate / ceiling:.2f} x ceiling",
                    f"{rate / TARGET_SUSTAINED:.2f} x target 5,000/s",
                )
            )
            rows.append(("  against the faust agent's no-op", "", f"{rate / faust_ceiling:.2f} x", "before"))
            rows.append(
                ("  load average (1 min), start → end", f"{run.load[0]:.1f} → {run.load[1]:.1f}", "", "")
            )
            rows.append(
                (
                    "  worker CPU per report",
                    f"{run.cpu_us:,.0f} µs",
                    f"{run.cpu_us / noop_cpu:.1f} x no-op's",
                    "  ".join(f"{k} {v:,.0f}" for k, v in sorted(run.stages_us.items())) + " µs wall",
                )
            )
            rows.append(
                (
                    f"  worker RSS after {n:,} reports",
                    f"{rss:,.0f} MB",
                    "",
                    f"{rss / TARGET_RSS_MB:.2f} x limit 300 MB",
                )
            )
            rows.append(("  worker RSS at its first commit", f"{run.rss0_mb:,.0f} MB", "", ""))
    return rows


def main() -> None:
    args = _args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)  # py-spy writes into it, never creates it
    base = Settings()
    print(
        f"pipeline benchmark on {os.cpu_count()} cores; Kafka and PostgreSQL on the same machine; the"
        " latency runs' reports "
        + (
            "spread by Kafka's default partitioner (every lane)"
            if args.spread
            else "in their district's partitions, as the producers' publisher writes them"
        )
    )
    if args.skip_sustained:
        args.workers = []
    # the latency runs have their own floor (the no-op client at the same rate)
    rows = sustained_rows(base, args) if args.workers or args.knobs else []

    def made(settings: Settings, n: int, seed: int, days_ago: int) -> list[Record]:
        records = canonical_records(settings, n, seed=seed, days_ago=days_ago)
        return records if args.spread else placed(settings, records)

    for k, rate in enumerate([] if args.skip_latency else args.rate):
        target = TARGET_P99_S if rate <= 1000 else TARGET_P99_FAST_S
        count = int(rate * args.seconds)
        # each client on topics of its own: on shared topics the pipeline's workers would first
        # work off the no-op run's records (a backlog of rate x seconds, measured as latency)
        with tempfile.TemporaryDirectory() as tmp, isolated(base, "floor") as settings:
            spares = canonical_records(settings, SPARES, seed=900 + k, days_ago=70 + k)
            floor = noop_latency(
                settings,
                Path(tmp),
                made(settings, count, 7 + k, 40 + k),
                spares,
                rate,
            )
        with tempfile.TemporaryDirectory() as tmp, isolated(base, "lat") as settings:
            home = Path(tmp)
            measured = latency(
                settings,
                home,
                made(settings, count, 80 + k, 50 + k),
                canonical_records(settings, SPARES, seed=900 + k, days_ago=70 + k),
                rate=rate,
                workers=args.latency_workers,
                profile=args.profile,
            )
            rows += latency_rows(rate, args.latency_workers, target, floor, measured)
    print(f"\n{'measure':<48}{'value':>16}{'beside':>20}   against")
    for name, value, beside, against in rows:
        print(f"{name:<48}{value:>16}{beside:>20}   {against}")


if __name__ == "__main__":
    main()
