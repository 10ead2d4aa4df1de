"""The breach estimator: from the open backlog, the recent arrival rate and the measured service
times, when each open task will be done and how likely it is to pass its resolve deadline.

The model, and why:
- Service times are measured, not configured: over the last N days, per category and force,
  the accept duration (dispatched → accepted) and the work duration (accepted, or the worker's
  previous resolve if later, → resolved). The latter is the time one task took its holder, not
  the elapsed time since accept, which also holds the tasks queued before it. A (category,
  force) pair with few samples falls back to the category, then the force, then everything.
- A task already in a phase for `e` seconds has the residual life of the samples longer than
  `e` (a job that is taking long is likely a long one): mean and variance of `s - e`.
- Each worker works one task at a time: the one they are on site for first (arrived; with no
  arrival recorded, the most urgent accepted one is taken as begun at its accept), then the
  rest, the most urgent first (priority, then deadline, then age); a task's finish is the sum
  of the work ahead of it and its own.
- Work arriving later with a higher priority jumps ahead: the recent arrival rate of more
  urgent cases in the task's grid, per worker there, times the mean work, is the share `rho`
  of the worker's time it will take; the wait is stretched by 1 / (1 - rho), capped.
- The finish is roughly normal (a sum of several durations): P(breach) = P(finish > deadline).

Everything takes `now` and values; nothing reads a clock or the database.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from statistics import fmean, median, pvariance

from config.policy import Priority

ANY = "*"
RHO_CAP = 0.8


@dataclass(frozen=True, slots=True)
class DoneTask:
    """One resolved task of the history window."""

    worker_id: str
    category: str
    force: str
    grid_code: str | None
    created_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime


@dataclass(frozen=True, slots=True)
class Params:
    min_samples: int = 5
    rho_cap: float = RHO_CAP
    at_risk: float = 0.5  # P(breach) from which a task is marked at risk
    overrun_s: float = 300.0  # a task past every sample's length: assumed done within this


@dataclass(frozen=True, slots=True)
class Estimate:
    mean_s: float
    var_s: float


def _stats(values: Sequence[float]) -> Estimate:
    return Estimate(fmean(values), pvariance(values) if len(values) > 1 else (values[0] / 2) ** 2)


class ServiceTimes:
    """Measured accept and work durations by (category, force), with fallbacks."""

    def __init__(
        self,
        accept: Mapping[tuple[str, str], list[float]],
        work: Mapping[tuple[str, str], list[float]],
        params: Params = Params(),
    ) -> None:
        self.params = params
        self._tables = {"accept": self._index(accept), "work": self._index(work)}

    @staticmethod
    def _index(table: Mapping[tuple[str, str], list[float]]) -> dict[tuple[str, str], list[float]]:
        out: dict[tuple[str, str], list[float]] = defaultdict(list)
        for (category, force), values in table.items():
            for key in ((category, force), (category, ANY), (ANY, force), (ANY, ANY)):
                out[key].extend(values)
        return {k: sorted(v) for k, v in out.items()}

    @classmethod
    def measure(cls, history: Iterable[DoneTask], params: Params = Params()) -> ServiceTimes:
        accept: dict[tuple[str, str], list[float]] = defaultdict(list)
        work: dict[tuple[str, str], list[float]] = defaultdict(list)
        by_worker: dict[str, list[DoneTask]] = defaultdict(list)
        for t in history:
            by_worker[t.worker_id].append(t)
        for tasks in by_worker.values():
            previous: datetime | None = None
            for t in sorted(tasks, key=lambda t: t.resolved_at):
                key = (t.category, t.force)
                began = t.accepted_at or t.created_at
                if t.accepted_at is not None:
                    accept[key].append(max((t.accepted_at - t.created_at).total_seconds(), 0.0))
                if previous is not None and previous > began:
                    began = previous
                work[key].append(max((t.resolved_at - began).total_seconds(), 1.0))
                previous = t.resolved_at
        return cls(accept, work, params)

    def pool(self, kind: str, category: str, force: str) -> list[float]:
        table = self._tables[kind]
        for key in ((category, force), (category, ANY), (ANY, force), (ANY, ANY)):
            found = table.get(key, [])
            if len(found) >= self.params.min_samples:
                return found
        return table.get((ANY, ANY), [])

    def remaining(self, kind: str, category: str, force: str, elapsed_s: float = 0.0) -> Estimate:
        """What is left of a phase already `elapsed_s` seconds old (its residual life)."""
        pool = self.pool(kind, category, force)
        if not pool:
            return Estimate(0.0, 0.0)
        if elapsed_s <= 0:
            return _stats(pool)
        longer = [s - elapsed_s for s in pool if s > elapsed_s]
        if not longer:
            return Estimate(self.params.overrun_s, self.params.overrun_s**2)
        return _stats(longer)


@dataclass(frozen=True, slots=True)
class OpenTask:
    task_id: str
    incident_id: str
    category: str
    priority: Priority
    grid_code: str | None
    assignee_id: str
    force: str
    created_at: datetime
    accepted_at: datetime | None
    deadline: datetime | None  # the resolve limit (None: no limit running)
    started_at: datetime | None = None  # on site (arrived): the task its holder is working on


@dataclass(frozen=True, slots=True)
class Forecast:
    task: OpenTask
    finish_at: datetime
    p_breach: float
    ahead: int  # tasks of the same worker before it

    @property
    def breach(self) -> bool:
        return self.task.deadline is not None and self.finish_at > self.task.deadline

    def minutes_left(self, now: datetime) -> float | None:
        if self.task.deadline is None:
            return None
        return (self.task.deadline - now).total_seconds() / 60


@dataclass(frozen=True, slots=True)
class Arrivals:
    """Recent arrivals per (grid, priority) per second, and the workers per grid."""

    rates: Mapping[tuple[str, Priority], float] = field(default_factory=dict)
    workers: Mapping[str, int] = field(default_factory=dict)

    def more_urgent(self, grid: str | None, than: Priority) -> float:
        if grid is None:
            return 0.0
        rate = sum(r for (g, p), r in self.rates.items() if g == grid and p.rank < than.rank)
        return rate / max(self.workers.get(grid, 1), 1)


def _order(t: OpenTask) -> tuple[int, datetime, datetime, str]:
    return (
        t.priority.rank,
        t.deadline or datetime.max.replace(tzinfo=t.created_at.tzinfo),
        t.created_at,
        t.task_id,
    )


def _p_over(deadline: datetime | None, finish: datetime, sd_s: float) -> float:
    if deadline is None:
        return 0.0
    gap = (deadline - finish).total_seconds()
    if sd_s <= 0:
        return 1.0 if gap < 0 else 0.0
    return 0.5 * math.erfc(gap / (sd_s * math.sqrt(2)))


def worker_queue(
    tasks: Sequence[OpenTask], times: ServiceTimes, arrivals: Arrivals, now: datetime
) -> list[Forecast]:
    """The forecasts of one worker's open tasks, in the order the worker will do them.

    Work is not interrupted once begun: more urgent arrivals stretch only the wait before a
    task starts (by 1 / (1 - rho)), never the work in hand."""
    out: list[Forecast] = []
    raw_mean = raw_var = 0.0  # the queue's end without later arrivals, seconds from now
    begun = sorted((t for t in tasks if t.started_at is not None), key=lambda t: (t.started_at, t.task_id))
    rest = sorted((t for t in tasks if t.started_at is None), key=_order)
    if not begun and rest and rest[0].accepted_at is not None:
        begun, rest = [replace(rest[0], started_at=rest[0].accepted_at)], rest[1:]
    arriving_work = times.remaining("work", ANY, ANY).mean_s
    for i, task in enumerate([*begun, *rest]):
        if task.accepted_at is None:
            since = (now - task.created_at).total_seconds()
            acc = times.remaining("accept", task.category, task.force, since)
        else:
            acc = Estimate(0.0, 0.0)
        elapsed = (now - task.started_at).total_seconds() if task.started_at is not None else 0.0
        work = times.remaining("work", task.category, task.force, elapsed)
        if acc.mean_s > raw_mean:
            raw_mean, raw_var = acc.mean_s, acc.var_s
        if i < len(begun):
            stretch = 1.0
        else:
            rate = arrivals.more_urgent(task.grid_code, task.priority)
            stretch = 1 / (1 - min(rate * arriving_work, times.params.rho_cap))
        start_s = raw_mean * stretch
        raw_mean += work.mean_s
        raw_var += work.var_s
        finish = now + timedelta(seconds=start_s + work.mean_s)
        out.append(Forecast(task, finish, _p_over(task.deadline, finish, math.sqrt(raw_var) * stretch), i))
    return out


def forecast(
    tasks: Iterable[OpenTask], times: ServiceTimes, arrivals: Arrivals, now: datetime
) -> list[Forecast]:
    """Every open task's forecast, the most likely breaches first."""
    by_worker: dict[str, list[OpenTask]] = defaultdict(list)
    for t in tasks:
        by_worker[t.assignee_id].append(t)
    out = [f for queue in by_worker.values() for f in worker_queue(queue, times, arrivals, now)]
    return sorted(out, key=lambda f: (-f.p_breach, f.finish_at, f.task.task_id))


def naive_breach(
    task: OpenTask, grid_median_s: Mapping[str, float], overall_median_s: float, now: datetime
) -> tuple[bool, datetime]:
    """The baseline: a task breaches if the time left is below its grid's median resolve time
    (created → resolved); it finishes a median after its creation (or now, if that is past)."""
    typical = grid_median_s.get(task.grid_code or "", overall_median_s)
    finish = max(task.created_at + timedelta(seconds=typical), now)
    if task.deadline is None:
        return False, finish
    return (task.deadline - now).total_seconds() < typical, finish


def grid_medians(history: Iterable[DoneTask]) -> tuple[dict[str, float], float]:
    per: dict[str, list[float]] = defaultdict(list)
    every: list[float] = []
    for t in history:
        s = (t.resolved_at - t.created_at).total_seconds()
        per[t.grid_code or ""].append(s)
        every.append(s)
    return {g: median(v) for g, v in per.items()}, (median(every) if every else 3600.0)


@dataclass(frozen=True, slots=True)
class Slack:
    """A person on shift who could take a task: their force and their own queue's forecasts."""

    worker_id: str
    force: str
    queue: Sequence[Forecast]


@dataclass(frozen=True, slots=True)
class Suggestion:
    task_id: str
    worker_id: str
    finish_at: datetime
    gain_s: float  # how much sooner than with the current holder


def suggest(
    at_risk: Forecast, people: Iterable[Slack], times: ServiceTimes, now: datetime
) -> Suggestion | None:
    """The person with the most slack who would finish the task before its deadline, sooner
    than its holder: their queue's last finish (now if idle) plus the task's work for their force."""
    best: Suggestion | None = None
    task = at_risk.task
    for p in people:
        if p.worker_id == task.assignee_id:
            continue
        free = max([f.finish_at for f in p.queue], default=now)
        finish = max(free, now) + timedelta(seconds=times.remaining("work", task.category, p.force).mean_s)
        if task.deadline is not None and finish > task.deadline:
            continue
        gain = (at_risk.finish_at - finish).total_seconds()
        if gain > 0 and (best is None or finish < best.finish_at):
            best = Suggestion(task.task_id, p.worker_id, finish, gain)
    return best
