"""What-if replay of a month at the reference district's volume, beside its one-minute limit.

Run: `.venv/bin/python -m bench.replay [--days 30] [--per-day 4600] [--serial]`

The reports are made by the real simulator and adapters (its feed shares, daily rhythms and
rainstorm burst), `--per-day` a day, and decoded as the intake decodes them; the worker model
is fitted to synthetic step delays (accept ~10 min, resolve ~3 h: a month of measured events
is what a deployment has, a benchmark does not). Today's configuration is the shipped
reference district; the alternative redraws it (in every community its first two grids become
one). Printed: the wall time of both runs (what `yiwang replay` spends) beside the 60 s limit,
their CPU time (a run's share beside the same limit: the wall time on two idle cores), the
load average they ran at, and, measured in the same run on the same reports, the time the
intake rules alone take to place and decide them (`Locator.locate` + `IntakeRules.decide`, no
lifecycle): the floor any replay through those rules pays.

Volume: 4,600 reports a day is Beijing 12345's ~68,000 a day (docs/scale.md) scaled by
population (Shapingba ~1.48 M of Beijing's ~21.9 M): an assumption, stated as one.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import msgspec
import numpy as np
import shapely

from config.policy import load_taxonomy
from dispatch.replay.comparison import compare, table
from dispatch.replay.configuration import configuration, index_of, load_rules, reference_configuration
from dispatch.replay.runner import run_both
from dispatch.replay.service_times import Sample, ServiceTimes
from geo.layers import Feature, LayerSet, as_multipolygon, validate
from geo.reference import ReferenceDistrict, load_reference
from geo.service import reference_layers
from producers.adapters.registry import ADAPTERS
from producers.outcome import Context
from producers.simulator import generate
from producers.sources import load_sources
from schemas.dead_letter import Origin
from schemas.report import Report
from schemas.report_struct import ReportStruct, decode_report

LIMIT_S = 60.0
BATCH = 500
"""Reports per `decide` call in the batched measurement (the worker takes up to 1,000 a batch)."""
START = datetime(2026, 11, 1, tzinfo=UTC)


def reports(count: int, days: int, seed: int = 7) -> list[ReportStruct]:
    sources, taxonomy = load_sources(), load_taxonomy()
    span = timedelta(days=days)
    ctx_at = START + span + timedelta(hours=1)
    out: list[ReportStruct] = []
    for item in generate(seed, count, start=START, span=span, malformed_share=0.0):
        ctx = Context(sources[item.source], taxonomy, ctx_at, Origin())
        for r in ADAPTERS[item.source](item.payload, ctx):
            if not isinstance(r, Report):  # rejections, and CAP life-cycle records
                continue
            decoded, _ = decode_report(r.model_dump_json().encode())
            out.append(
                msgspec.structs.replace(decoded, received_at=decoded.reported_at + timedelta(seconds=20))
            )
    return out


def steps(n: int = 5000, seed: int = 3) -> list[Sample]:
    rng = np.random.default_rng(seed)
    out: list[Sample] = []
    for i in range(n):
        t, case = 1.0e9, f"c{i}"
        out.append((case, "dispatch", t, "P3"))
        t += float(rng.lognormal(np.log(600), 0.7))
        out.append((case, "accept", t, "P3"))
        t += float(rng.lognormal(np.log(3 * 3600), 0.9))
        out.append((case, "resolve", t, "P3"))
        t += float(rng.lognormal(np.log(1800), 0.5))
        out.append((case, "verify", t, "P3"))
        out.append((case, "close", t + 60, "P3"))
    return out


def redrawn(d: ReferenceDistrict) -> LayerSet:
    """In every community the first two grids become one (a district-wide 动态调整)."""
    layers = reference_layers(d)
    by_community: dict[str, list[Feature]] = defaultdict(list)
    for g in layers.get("grid"):
        by_community[g.parent].append(g)
    grids: list[Feature] = []
    for members in by_community.values():
        if len(members) >= 2:
            a, b = members[0], members[1]
            grids.append(replace(a, geometry=as_multipolygon(shapely.union_all([a.geometry, b.geometry]))))
            grids += members[2:]
        else:
            grids += members
    out = LayerSet({**layers.layers, "grid": tuple(sorted(grids, key=lambda f: f.code))})
    problems = validate(out)
    assert not problems, problems[:3]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--per-day", type=int, default=4600)
    ap.add_argument("--serial", action="store_true", help="the two runs one after the other")
    args = ap.parse_args()
    d = load_reference()
    t0 = time.perf_counter()
    month = reports(args.per_day * args.days, args.days)
    made = time.perf_counter() - t0
    rules = load_rules()
    today = reference_configuration("today", d, rules)
    alt = configuration(
        "redrawn",
        rules=rules,
        index=index_of(redrawn(d)),
        gazetteer=today.locator.gazetteer,
        directory=today.directory,
    )
    times = ServiceTimes.fit(steps())
    print(f"{len(month):,} reports over {args.days} days ({args.per_day:,}/day), made in {made:.1f} s")

    c1, t1 = _cpu(), time.perf_counter()
    a, b = run_both((today, alt), times, month, parallel=not args.serial)
    wall, cpu = time.perf_counter() - t1, _cpu() - c1
    load = os.getloadavg()[0]

    c2 = _cpu()
    located = today.locator.locate(sorted(month, key=lambda r: r.received_at), month[-1].received_at)
    for r in located:
        rules.decide([r], nearby=[[]], candidates=today.directory.near, now=r.received_at)
    floor = _cpu() - c2
    c3 = _cpu()
    for start in range(0, len(located), BATCH):  # as the worker decides: a batch at one instant
        batch = located[start : start + BATCH]
        now = batch[-1].received_at
        candidates = today.directory.for_batch(batch, {}, at=now, calendar=rules.tk.working)
        rules.decide(batch, nearby=[[] for _ in batch], candidates=candidates, now=now)
    batched = _cpu() - c3
    c4 = _cpu()
    for r in located:
        rules.decide([r], nearby=[[]], candidates=today.directory.near, now=r.received_at)
    alone = _cpu() - c4

    print(table(compare(a, b)))
    mode = "one after the other" if args.serial else "side by side in two processes"
    print()
    print("| measure | value | beside |")
    print("|---|---|---|")
    print(
        f"| both runs, {mode}: wall | {wall:.1f} s | "
        f"limit {LIMIT_S:.0f} s: {wall / LIMIT_S:.2f} × the limit |"
    )
    print(
        f"| both runs: CPU | {cpu:.1f} s | a run {cpu / 2:.1f} s, limit {LIMIT_S:.0f} s: "
        f"{cpu / 2 / LIMIT_S:.2f} × the limit (on two idle cores the wall time of both) |"
    )
    print(f"| load average while it ran (two cores) | {load:.1f} | |")
    print(f"| reports per CPU second | {2 * len(month) / cpu:,.0f} | |")
    print(
        f"| intake rules alone, one run's reports (locate + decide): CPU | {floor:.1f} s | "
        f"a whole run costs {cpu / 2 / floor:.2f} × that |"
    )
    n = len(located)
    print(
        f"| `IntakeRules.decide` per report, batches of {BATCH} at one instant (the worker's way) | "
        f"{batched / n * 1e6:.1f} µs CPU | one report a call (the replay's way): {alone / n * 1e6:.1f} µs |"
    )


def _cpu() -> float:
    """CPU seconds of this process and of the finished runs' processes."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    main()
