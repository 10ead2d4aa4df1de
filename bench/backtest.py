"""Backtest of the breach forecast: a simulated week and a rainstorm day, predictions every hour
scored against what happened, beside the naive baseline.

Run: `.venv/bin/python -m bench.backtest [--grids 90 --seeds 5]`

What runs: the same pure rules as production with a simulated clock, not the Kafka/PostgreSQL
pipeline (a simulated week is ~10^4 cases: hours through the real pipeline on this machine).
- Cases arrive by a Poisson process per grid and category (more by day); their priority and
  resolve deadline come from the real taxonomy and SLA policy (`IntakeRules.load`: natural or
  working-time clocks, the statutory calendar), under the real surge overlay (config/surge.toml)
  while the warning is in force.
- Day 8 has a rainstorm: from 13:00 to 18:00 a third of the grids get many more waterlogging,
  manhole and fallen-tree cases, and a 暴雨黄色 warning is in force over them (limits × 0.75; the
  red and orange policies raise these categories to P0, whose resolve is agency-led and has no
  limit to breach, so they would leave nothing to score).
- Each grid has one or two workers; a case goes to the one with fewer open tasks; a worker
  accepts after a short lognormal delay and works one accepted task at a time, the most
  urgent first (priority, then deadline), for a lognormal time by category.
- Every hour of day 8 (08:00–22:00) the estimator (`dispatch.breaches.estimator`) sees only
  what the database would hold then: the tasks resolved in the last 14 days, the open tasks
  (accepted or not), the arrivals of the last hour. Each open task with a deadline is one
  prediction; the truth is when it was resolved.
- Baseline: "breaches if the time left is below the grid's median resolve time" (created →
  resolved over the same history), finishing a median after its creation.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from config.policy import Priority
from dispatch.breaches.estimator import (
    Arrivals,
    DoneTask,
    OpenTask,
    Params,
    ServiceTimes,
    forecast,
    grid_medians,
    naive_breach,
)
from dispatch.intake.rules import IntakeRules
from dispatch.sla.clocks import ClockName
from dispatch.surge.overlay import ActiveSurge, SurgeOverlay
from dispatch.surge.policy import load_surge_policy

SH = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2026, 6, 3, 0, 0, tzinfo=SH)  # a Wednesday; day 8 is Wednesday 2026-06-10
STORM_DAY = 7
STORM = (13, 18)
# category: (share of the base rate, median work minutes)
CATEGORIES = {
    "garbage_overflow": (0.30, 20.0),
    "streetlight_out": (0.20, 30.0),
    "manhole_cover_missing": (0.15, 25.0),
    "fallen_tree": (0.15, 40.0),
    "waterlogging": (0.20, 35.0),
}
STORM_EXTRA = {"waterlogging": 1.0, "manhole_cover_missing": 0.25, "fallen_tree": 0.2}  # per grid per hour
BASE_PER_HOUR = {"day": 0.5, "night": 0.1}  # cases per grid per hour
WORK_SIGMA, ACCEPT_MEDIAN_MIN, ACCEPT_SIGMA = 0.6, 4.0, 0.8


@dataclass
class Task:
    task_id: str
    grid: str
    category: str
    priority: Priority
    created: datetime
    deadline: datetime | None
    work_s: float
    accepted: datetime
    worker: str = ""
    started: datetime | None = None
    resolved: datetime | None = None


@dataclass
class Worker:
    worker_id: str
    grid: str
    queue: list[Task] = field(default_factory=list)
    busy_until: datetime | None = None
    current: Task | None = None


def _rate(hour: int) -> float:
    return BASE_PER_HOUR["day"] if 8 <= hour < 21 else BASE_PER_HOUR["night"]


def simulate(grids: int, seed: int) -> tuple[list[Task], frozenset[str], dict[str, int]]:
    rng = random.Random(seed)
    rules = IntakeRules.load()
    codes = [f"500106001{g // 10 + 1:03d}{g % 10 + 1:03d}" for g in range(grids)]
    storm_grids = frozenset(codes[::3])
    rule = load_surge_policy().rule("暴雨", "黄色")
    assert rule is not None
    start = DAY0 + timedelta(days=STORM_DAY, hours=STORM[0])
    overlay = SurgeOverlay(
        [ActiveSurge("bench", rule, storm_grids, start, start + timedelta(hours=STORM[1] - STORM[0]))]
    )
    workers = {
        c: [Worker(f"{c}-w{i}", c) for i in range(2 if n % 3 == 0 else 1)] for n, c in enumerate(codes)
    }
    arrivals: list[tuple[datetime, str, str]] = []
    for day in range(STORM_DAY + 2):
        for hour in range(24):
            at = DAY0 + timedelta(days=day, hours=hour)
            for code in codes:
                for category, (share, _) in CATEGORIES.items():
                    rate = _rate(hour) * share
                    if day == STORM_DAY and STORM[0] <= hour < STORM[1] and code in storm_grids:
                        rate += STORM_EXTRA.get(category, 0.0)
                    t = 0.0
                    while True:
                        t += rng.expovariate(rate) if rate > 0 else 2.0
                        if t >= 1.0:
                            break
                        arrivals.append((at + timedelta(hours=t), code, category))
    arrivals.sort()
    tasks: list[Task] = []
    for n, (at, code, category) in enumerate(arrivals):
        cat = rules.taxonomy.category(category)
        surged = overlay.apply(
            grid_code=code, category=category, priority=cat.priority, router=rules.router, now=at
        )
        limits = surged.limits(rules.deadlines.limits(category, surged.priority))
        budget = limits.budget(ClockName.RESOLVE)
        deadline = rules.tk.scale(limits.kind).add(at, budget) if budget is not None else None
        work = CATEGORIES[category][1] * 60 * math.exp(rng.gauss(0, WORK_SIGMA))
        accept = ACCEPT_MEDIAN_MIN * 60 * math.exp(rng.gauss(0, ACCEPT_SIGMA))
        tasks.append(
            Task(f"t{n}", code, category, surged.priority, at, deadline, work, at + timedelta(seconds=accept))
        )
    _run(tasks, workers)
    return tasks, storm_grids, {c: len(w) for c, w in workers.items()}


def _urgency(t: Task) -> tuple[int, datetime, datetime]:
    return (t.priority.rank, t.deadline or t.created + timedelta(days=30), t.created)


def _run(tasks: list[Task], workers: dict[str, list[Worker]]) -> None:
    """Discrete events: arrivals, accepts (a worker may start only accepted work), completions."""
    events: list[tuple[datetime, int, str, str]] = []  # (at, order, kind, id)
    by_id = {t.task_id: t for t in tasks}
    by_worker = {w.worker_id: w for ws in workers.values() for w in ws}
    for n, t in enumerate(tasks):
        heapq.heappush(events, (t.created, n, "arrive", t.task_id))
    order = len(tasks)

    def try_start(w: Worker, now: datetime) -> None:
        nonlocal order
        if w.current is not None or not w.queue:
            return
        ready = [t for t in w.queue if t.accepted <= now]
        if not ready:
            order += 1
            heapq.heappush(events, (min(t.accepted for t in w.queue), order, "wake", w.worker_id))
            return
        t = min(ready, key=_urgency)
        w.queue.remove(t)
        w.current, t.started = t, now
        order += 1
        heapq.heappush(events, (now + timedelta(seconds=t.work_s), order, "done", w.worker_id))

    while events:
        now, _, kind, ident = heapq.heappop(events)
        if kind == "arrive":
            t = by_id[ident]
            w = min(workers[t.grid], key=lambda w: (len(w.queue) + (w.current is not None), w.worker_id))
            t.worker = w.worker_id
            w.queue.append(t)
            try_start(w, now)
        elif kind == "wake":
            try_start(by_worker[ident], now)
        else:
            w = by_worker[ident]
            assert w.current is not None
            w.current.resolved = now
            w.current = None
            try_start(w, now)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    abs_err_s: float = 0.0
    n: int = 0

    def add(self, predicted: bool, actual: bool, finish: datetime, resolved: datetime) -> None:
        self.tp += predicted and actual
        self.fp += predicted and not actual
        self.fn += actual and not predicted
        self.abs_err_s += abs((finish - resolved).total_seconds())
        self.n += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def mae_min(self) -> float:
        return self.abs_err_s / 60 / max(self.n, 1)


def print_scores(est: Score, base: Score) -> None:
    """The estimator's scores beside the baseline's, and their ratios (both from the same run)."""
    print(f"{'':16}{'precision':>10}{'recall':>8}{'F1':>6}{'MAE finish (min)':>18}")
    for name, s in (("estimator", est), ("naive baseline", base)):
        print(f"{name:16}{s.precision:>10.2f}{s.recall:>8.2f}{s.f1:>6.2f}{s.mae_min:>18.1f}")
    f1_ratio = f"{est.f1 / base.f1:.2f}" if base.f1 else "n/a (the baseline found no breach)"
    mae_ratio = f"{est.mae_min / base.mae_min:.2f}" if base.mae_min else "n/a"
    print(f"estimator vs baseline: F1 × {f1_ratio}, MAE × {mae_ratio} (lower is better)")


def backtest(
    grids: int, seed: int, estimator: Score | None = None, baseline: Score | None = None
) -> tuple[Score, Score, int, int, int]:
    tasks, storm_grids, staff = simulate(grids, seed)
    params = Params()
    estimator, baseline = estimator or Score(), baseline or Score()
    predictions = breached = 0
    day = DAY0 + timedelta(days=STORM_DAY)
    for hour in range(8, 23):
        now = day + timedelta(hours=hour)
        history = [
            DoneTask(t.worker, t.category, "grid_worker", t.grid, t.created, t.accepted, t.resolved)
            for t in tasks
            if t.resolved is not None and now - timedelta(days=14) <= t.resolved <= now
        ]
        times = ServiceTimes.measure(history, params)
        medians, overall = grid_medians(history)
        rates: dict[tuple[str, Priority], float] = defaultdict(float)
        for t in tasks:
            if now - timedelta(hours=1) <= t.created <= now:
                rates[(t.grid, t.priority)] += 1 / 3600
        arrivals = Arrivals(rates, staff)
        open_now = [t for t in tasks if t.created <= now and t.resolved is not None and t.resolved > now]
        views = [
            OpenTask(
                t.task_id, t.task_id, t.category, t.priority, t.grid, t.worker, "grid_worker", t.created,
                t.accepted if t.accepted <= now else None, t.deadline,
                t.started if t.started is not None and t.started <= now else None,
            )
            for t in open_now
        ]  # fmt: skip
        truth = {t.task_id: t for t in open_now}
        for f in forecast(views, times, arrivals, now):
            real = truth[f.task.task_id]
            if real.deadline is None or real.resolved is None:
                continue
            actual = real.resolved > real.deadline
            predictions += 1
            breached += actual
            estimator.add(f.p_breach >= params.at_risk, actual, f.finish_at, real.resolved)
            naive, finish = naive_breach(f.task, medians, overall, now)
            baseline.add(naive, actual, finish, real.resolved)
    return estimator, baseline, predictions, breached, len(storm_grids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=90)
    parser.add_argument("--seeds", type=int, default=5, help="simulated worlds, scores pooled")
    args = parser.parse_args()
    est, base = Score(), Score()
    n = breached = storm = 0
    for seed in range(1, args.seeds + 1):
        one_est, one_base = Score(), Score()
        _, _, made, hit, storm = backtest(args.grids, seed, one_est, one_base)
        n, breached = n + made, breached + hit
        for pooled, one in ((est, one_est), (base, one_base)):
            pooled.tp, pooled.fp, pooled.fn = pooled.tp + one.tp, pooled.fp + one.fp, pooled.fn + one.fn
            pooled.abs_err_s, pooled.n = pooled.abs_err_s + one.abs_err_s, pooled.n + one.n
        print(
            f"seed {seed}: F1 {one_est.f1:.2f} vs {one_base.f1:.2f}, "
            f"MAE {one_est.mae_min:.1f} vs {one_base.mae_min:.1f} min"
        )
    print(
        f"backtest: {args.grids} grids, 7 normal days + a rainstorm day ({storm} grids, "
        f"{STORM[0]}:00–{STORM[1]}:00, 暴雨黄色 surge), pure rules on a simulated clock, "
        f"{args.seeds} seeds pooled"
    )
    print(f"predictions: hourly 08:00–22:00 on the storm day, {n} open tasks scored, {breached} breached")
    print_scores(est, base)


if __name__ == "__main__":
    main()
