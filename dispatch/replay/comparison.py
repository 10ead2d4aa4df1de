"""Two runs side by side: the figures a redrawn layout or a revised policy would change.

Definitions (also in the README, "What-if replay"):
- on time, per clock: the share of the clock's runs that stopped within their limit;
  closed on time: 按期结案, the share of closed cases whose resolve and verify runs kept theirs;
- tasks per worker: tasks given to each force member over the window (those given none left
  out); the ladder's desks (community leads, street and district centers), who get a task when
  nobody eligible is on shift below them, are counted apart;
  incidents per grid: cases opened in each grid of the run's layer (grids with none count);
- in another grid: reports the alternative places in a different grid than today's
  (unplaced on one side and placed on the other counts too).
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dispatch.replay.simulation import RunOutcome
from dispatch.sla.clocks import ClockName

CLOCKS = tuple(c.value for c in ClockName)


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    today: float | None
    alternative: float
    percent: bool = False

    @property
    def difference(self) -> float | None:
        return None if self.today is None else self.alternative - self.today

    def shown(self, value: float | None) -> str:
        if value is None:
            return ""
        if math.isnan(value):
            return "n/a"
        if self.percent:
            return f"{value * 100:.1f} %"
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"

    def shown_difference(self) -> str:
        d = self.difference
        if d is None:
            return ""
        if math.isnan(d):
            return "n/a"
        if self.percent:
            return f"{d * 100:+.1f} pt"
        return f"{d:+,.0f}" if float(d).is_integer() else f"{d:+,.1f}"


def rate(good: int, total: int) -> float:
    return good / total if total else float("nan")


def _median(values: Iterable[int]) -> float:
    held = list(values)
    return float(statistics.median(held)) if held else 0.0


def worker_loads(run: RunOutcome) -> list[int]:
    """Tasks of each force member given any (the ladder's desks apart: `desk_loads`)."""
    return [n for w, n in run.tasks_by_worker.items() if n > 0 and w not in run.desks]


def desk_loads(run: RunOutcome) -> list[int]:
    """Tasks the router gave the ladder's desks (nobody eligible on shift below them)."""
    return [n for w, n in run.tasks_by_worker.items() if n > 0 and w in run.desks]


def grid_loads(run: RunOutcome) -> list[int]:
    return [run.incidents_by_grid.get(code, 0) for code in run.grid_codes]


def moved(today: RunOutcome, alternative: RunOutcome) -> int:
    """Reports the two runs placed in different grids (both runs took the report)."""
    other = alternative.grid_of
    return sum(1 for rid, grid in today.grid_of.items() if rid in other and other[rid] != grid)


def _on_time(clock: str) -> Callable[[RunOutcome], float]:
    return lambda r: rate(r.clock_runs[clock] - r.clock_late[clock], r.clock_runs[clock])


def _steps(step: str) -> Callable[[RunOutcome], float]:
    return lambda r: r.escalations_by_step[step]


def compare(today: RunOutcome, alternative: RunOutcome) -> list[Metric]:
    rows: list[Metric] = []

    def add(name: str, f: Callable[[RunOutcome], float], *, percent: bool = False) -> None:
        rows.append(Metric(name, f(today), f(alternative), percent))

    add("reports replayed", lambda r: r.reports)
    add("reports the configuration could not take", lambda r: len(r.failed))
    add("unplaced reports (to the district center)", lambda r: r.unplaced)
    rows.append(Metric("reports in another grid than today", None, moved(today, alternative)))
    add("cases opened", lambda r: r.opened)
    add("reports merged into a case", lambda r: r.merged)
    add("priority raised by a merged report", lambda r: r.raised)
    for clock in CLOCKS:
        add(f"on time: {clock} clock", _on_time(clock), percent=True)
    add("closed on time (按期结案)", lambda r: rate(r.closed_on_time, r.closed), percent=True)
    add("escalation steps", lambda r: r.escalations)
    for step in sorted(set(today.escalations_by_step) | set(alternative.escalations_by_step)):
        add(f"escalation steps: {step}", _steps(step))
    add("reassigned by the SLA tracker", lambda r: r.reassigned)
    add("cases closed", lambda r: r.closed)
    add("cases still open at the end", lambda r: r.open_at_end)
    add("cases the router could not dispatch", lambda r: r.never_dispatched)
    add("force members given a task", lambda r: len(worker_loads(r)))
    add("tasks per worker: max", lambda r: max(worker_loads(r), default=0))
    add("tasks per worker: median", lambda r: _median(worker_loads(r)))
    add("tasks given to the ladder's desks", lambda r: sum(desk_loads(r)))
    add("tasks per desk: max", lambda r: max(desk_loads(r), default=0))
    add("grids in the layer", lambda r: len(r.grid_codes))
    add("incidents per grid: max", lambda r: max(grid_loads(r), default=0))
    add("incidents per grid: median", lambda r: _median(grid_loads(r)))
    return rows


def table(rows: list[Metric], labels: tuple[str, str] = ("today", "alternative")) -> str:
    """The comparison as aligned text columns for the terminal."""
    head = ("", *labels, "difference")
    body = [(m.name, m.shown(m.today), m.shown(m.alternative), m.shown_difference()) for m in rows]
    widths = [max(_width(r[i]) for r in [head, *body]) for i in range(4)]
    lines = []
    for r in [head, *body]:
        cells = [_pad(r[0], widths[0], left=True), *(_pad(r[i], widths[i]) for i in (1, 2, 3))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in text)


def _pad(text: str, width: int, *, left: bool = False) -> str:
    gap = " " * (width - _width(text))
    return text + gap if left else gap + text


def to_csv(rows: list[Metric], labels: tuple[str, str] = ("today", "alternative")) -> str:
    """metric, today, alternative, difference: plain numbers (rates as fractions)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["metric", *labels, "difference"])
    for m in rows:
        d = m.difference
        w.writerow(
            [
                m.name,
                "" if m.today is None else _num(m.today),
                _num(m.alternative),
                "" if d is None else _num(d),
            ]
        )
    return buf.getvalue()


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"
