"""Two districts in one pipeline: does one district's burst delay the other's reports?

    .venv/bin/python -m bench.districts [--quiet-rate 50] [--burst-rate 250 1000] [--seconds 20] [--workers 1]
                                        [--keyed-by-reference]

Both reference districts (Shapingba 500106, Jiulongpo 500107) and the city desk are loaded into
topics and a database of the bench's own; the same worker process(es) run two phases, one after
the other, in the same run:

1. without the burst: each district sends `--quiet-rate` reports/s for `--seconds`;
2. a burst per `--burst-rate`: Jiulongpo goes on at `--quiet-rate`, Shapingba sends that rate
   (made by the simulator for Shapingba's places, its rainstorm included) for the same time.

Reports are written where the producers' publisher writes them: into their district's range of
each report topic's partitions (producers/district_partitions.py); `--keyed-by-reference` sends
them as an agency publishing straight into Kafka would, by Kafka's default partitioning of the
agency's reference over every partition (no isolation: the comparison).

Report→task latency is the task record's broker timestamp on `dispatch.tasks` minus the moment
its report was sent, as `bench/pipeline.py` measures it. Printed: Jiulongpo's p50/p99 during the
burst beside its own p50/p99 without it (the limit: the ratio), the bursting district's figures
with the rate its burst was worked off at (tasks from its first sending to its last task), the
load average at the start and the end, and the p99 target of docs/architecture.md at 1,000 reports/s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import create_engine

from bench.harness import (
    Record,
    canonical_records,
    isolated,
    percentile,
    placed,
    produce_on,
    start_worker,
    stop,
    timestamps,
)
from bench.pipeline import TARGET_P99_S, wait_caught_up
from config.settings import Settings
from dispatch.intake.rules import incident_id_for
from geo.city import add_city_desk
from geo.reference import load_reference
from geo.service import load_reference_set
from producers.simulator.district import load_district

QUIET, BURSTING = "jiulongpo", "shapingba"


@dataclass(frozen=True, slots=True)
class Sent:
    phase: str  # "alone" | "burst"
    district: str
    at: float  # wall clock, seconds


def _records(settings: Settings, district: str, count: int, seed: int) -> list[Record]:
    return canonical_records(settings, count, seed=seed, days_ago=3, district=load_district(district))


def _schedule(streams: list[tuple[list[Record], float]]) -> list[tuple[float, Record]]:
    """Each stream's records at its steady rate from 0, merged in send order."""
    timed = [(i / rate, r) for records, rate in streams for i, r in enumerate(records)]
    return sorted(timed, key=lambda t: t[0])


Found = dict[tuple[str, str], list[tuple[float, float]]]
"""(phase, district) → (sent at, its first task at), wall-clock seconds, one pair per task."""


def _latencies(settings: Settings, sent: dict[str, Sent], after_ms: int) -> Found:
    """Each report's sending and its incident's first task (a merged report opens no task of its
    own; a later task of the same incident, e.g. a reassignment, is not its latency)."""
    by_incident = {incident_id_for(rid): s for rid, s in sent.items()}
    first: dict[str, int] = {}
    for _, value, ts in timestamps(settings, "dispatch.tasks", after_ms=after_ms):
        incident = orjson.loads(value)["task"]["incident_id"]
        if incident in by_incident and (incident not in first or ts < first[incident]):
            first[incident] = ts
    out: Found = defaultdict(list)
    for incident, ts in first.items():
        s = by_incident[incident]
        out[(s.phase, s.district)].append((s.at, ts / 1000))
    return out


def waits(pairs: list[tuple[float, float]]) -> list[float]:
    return [done - at for at, done in pairs]


def drain_rate(pairs: list[tuple[float, float]]) -> float:
    """Tasks per second from the first report's sending to the last task: above what the worker
    sustains, the rate it worked the burst off."""
    if not pairs:
        return float("nan")
    return len(pairs) / (max(done for _, done in pairs) - min(at for at, _ in pairs))


Phase = tuple[str, list[tuple[list[Record], str]], tuple[float, float]]
"""(name, [(records, district)], (the quiet district's rate, the bursting one's))."""


def _phases(
    settings: Settings, quiet_rate: float, burst_rates: list[float], seconds: float, *, keyed: bool
) -> list[Phase]:
    phases = _made_phases(settings, quiet_rate, burst_rates, seconds)
    if keyed:
        return phases
    return [
        (name, [(placed(settings, rs), d) for rs, d in streams], rates) for name, streams, rates in phases
    ]


def _made_phases(
    settings: Settings, quiet_rate: float, burst_rates: list[float], seconds: float
) -> list[Phase]:
    quiet_n = int(quiet_rate * seconds)
    out: list[Phase] = [
        (
            "alone",
            [(_records(settings, d, quiet_n, seed=3 + k), d) for k, d in enumerate((QUIET, BURSTING))],
            (quiet_rate, quiet_rate),
        )
    ]
    for k, rate in enumerate(burst_rates):
        streams = [
            (_records(settings, QUIET, quiet_n, seed=10 + 2 * k), QUIET),
            (_records(settings, BURSTING, int(rate * seconds), seed=11 + 2 * k), BURSTING),
        ]
        out.append((f"{rate:g}/s", streams, (quiet_rate, rate)))
    return out


def _run(settings: Settings, home: Path, phases: list[Phase], workers: int) -> Found:
    procs = [start_worker(settings, home, f"districts-{i}") for i in range(workers)]
    try:
        warm = _records(settings, QUIET, 50, seed=1) + _records(settings, BURSTING, 50, seed=2)
        produce_on(settings, [(0.0, r) for r in warm])  # the workers load both districts and join
        wait_caught_up(settings, procs)
        began_ms = int(time.time() * 1000)
        sent: dict[str, Sent] = {}
        for phase, streams, rates in phases:
            districts = {r.report_id: d for rs, d in streams for r in rs}
            at = produce_on(
                settings, _schedule([(rs, rate) for (rs, _), rate in zip(streams, rates, strict=True)])
            )
            sent |= {rid: Sent(phase, districts[rid], t) for rid, t in at.items()}
            wait_caught_up(settings, procs)  # the next phase starts on an empty queue
    finally:
        for proc in procs:
            stop(proc)
    return _latencies(settings, sent, began_ms)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quiet-rate", type=float, default=50.0, help="each district's reports/s (default 50)")
    ap.add_argument(
        "--burst-rate",
        type=float,
        nargs="+",
        default=[250.0, 1000.0],
        help="the bursting district's reports/s, one burst phase each (default 250 1000)",
    )
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    ap.add_argument("--workers", type=int, default=1, help="stream worker processes")
    ap.add_argument(
        "--keyed-by-reference",
        action="store_true",
        help="Kafka's default partitioning of the agency's reference (no district ranges)",
    )
    args = ap.parse_args()
    bursts = ", then ".join(f"{r:g}/s" for r in args.burst_rate)
    print(
        f"districts benchmark on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}): "
        f"{QUIET} at {args.quiet_rate:g}/s throughout, {BURSTING} at {args.quiet_rate:g}/s, then {bursts}; "
        f"{args.seconds:g} s a phase, each caught up before the next; {args.workers} worker(s); "
        + ("keyed by the agency's reference" if args.keyed_by_reference else "each district its partitions")
    )
    with tempfile.TemporaryDirectory() as tmp, isolated(Settings(), "districts") as settings:
        engine = create_engine(settings.db_url)
        with engine.begin() as conn:
            load_reference_set(conn, load_reference(QUIET))  # Shapingba: loaded by `isolated`
            add_city_desk(conn)
        engine.dispose()
        phases = _phases(
            settings, args.quiet_rate, args.burst_rate, args.seconds, keyed=args.keyed_by_reference
        )
        found = _run(settings, Path(tmp), phases, args.workers)
    quiet = waits(found[("alone", QUIET)])
    base50, base99 = percentile(quiet, 50), percentile(quiet, 99)
    rows: list[tuple[str, list[tuple[float, float]], str | None]] = [
        (f"{QUIET}, {BURSTING} quiet", found[("alone", QUIET)], "the limit (same run)"),
        (f"{BURSTING}, quiet", found[("alone", BURSTING)], ""),
    ]
    for rate in args.burst_rate:
        phase = f"{rate:g}/s"
        rows.append((f"{QUIET}, {BURSTING} at {phase}", found[(phase, QUIET)], None))
        burst = found[(phase, BURSTING)]
        rows.append((f"{BURSTING} itself at {phase}", burst, f"drained at {drain_rate(burst):,.0f} tasks/s"))
    print(f"{'report -> first task':<36} {'tasks':>7} {'p50':>9} {'p99':>9}  beside")
    for label, pairs, note in rows:
        values = waits(pairs)
        p50, p99 = percentile(values, 50), percentile(values, 99)
        beside = note or ""
        if note is None:
            beside = (
                f"p50 {p50 / base50:.2f} x, p99 {p99 / base99:.2f} x without the burst; "
                f"p99 {p99 / TARGET_P99_S:.2f} x target 250 ms"
            )
        print(f"{label:<36} {len(values):>7,} {p50 * 1000:>7.0f} ms {p99 * 1000:>7.0f} ms  {beside}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
