"""The worker model of a replay: how long people took, as measured in the events.

For each step a person takes on a case — accept after a (re)assignment, arrive after
accepting, resolve after arriving (or accepting), verify after the resolve, close after the
verification — the measured delays are kept as an empirical distribution, per priority when
that priority has at least `MIN_SAMPLES` of them and pooled otherwise. A replay draws a delay
by a quantile that depends only on the report and the step (`quantile_of`), so both runs of a
comparison give the same case the same worker behaviour and only the configuration differs
(common random numbers).

>>> t = ServiceTimes.fit([("a", "dispatch", 0.0, "P3"), ("a", "accept", 60.0, "P3"),
...                       ("a", "resolve", 660.0, "P3")])
>>> t.draw(Step.ACCEPT, "P3", 0.5), t.draw(Step.RESOLVE, "P2", 0.9), t.has(Step.VERIFY)
(60.0, 600.0, False)
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

MIN_SAMPLES = 20
"""Below this many delays of one priority, that priority draws from the pooled ones."""


class Step(StrEnum):
    ACCEPT = "accept"
    ARRIVE = "arrive"
    RESOLVE = "resolve"
    VERIFY = "verify"
    CLOSE = "close"


REQUIRED = (Step.ACCEPT, Step.RESOLVE)
"""Without these a replay has no worker model; the others are steps a replay skips when never
measured (no arrive: resolve follows the accept; no verify: cases stay resolved)."""

_AFTER: dict[str, tuple[Step, tuple[str, ...]]] = {
    "accept": (Step.ACCEPT, ("dispatch", "reassign")),
    "arrive": (Step.ARRIVE, ("accept",)),
    "resolve": (Step.RESOLVE, ("arrive", "accept")),
    "verify": (Step.VERIFY, ("resolve",)),
    "close": (Step.CLOSE, ("verify",)),
}
"""A step's delay runs from the latest of these actions of the same case."""

MEASURED_ACTIONS = frozenset(a for _, starts in _AFTER.values() for a in starts) | set(_AFTER)

Sample = tuple[str, str, float, str]
"""(case id, action, at in epoch seconds, priority), in the order the actions happened."""


@dataclass(frozen=True, slots=True)
class ServiceTimes:
    pooled: dict[Step, NDArray[np.float64]]
    by_priority: dict[tuple[Step, str], NDArray[np.float64]]

    @classmethod
    def fit(cls, events: Iterable[Sample]) -> ServiceTimes:
        """The delays of every case's steps (events of one case in order, cases in any order)."""
        delays: dict[tuple[Step, str], list[float]] = defaultdict(list)
        last: dict[str, dict[str, float]] = defaultdict(dict)
        for case, action, at, priority in events:
            seen = last[case]
            rule = _AFTER.get(action)
            if rule is not None:
                step, starts = rule
                begun = max((seen[a] for a in starts if a in seen), default=None)
                if begun is not None and at >= begun:
                    delays[(step, priority)].append(at - begun)
            seen[action] = at
            if action in ("dispatch", "reassign"):  # a new holder: earlier steps are the old one's
                for a in ("accept", "arrive", "resolve", "verify"):
                    seen.pop(a, None)
        pooled: dict[Step, list[float]] = defaultdict(list)
        for (step, _), values in delays.items():
            pooled[step] += values
        return cls(
            {s: np.sort(np.asarray(v, dtype=np.float64)) for s, v in pooled.items()},
            {k: np.sort(np.asarray(v, dtype=np.float64)) for k, v in delays.items() if len(v) >= MIN_SAMPLES},
        )

    def has(self, step: Step) -> bool:
        return step in self.pooled and len(self.pooled[step]) > 0

    def count(self, step: Step) -> int:
        return len(self.pooled[step]) if step in self.pooled else 0

    def missing(self) -> list[Step]:
        return [s for s in REQUIRED if not self.has(s)]

    def draw(self, step: Step, priority: str, quantile: float) -> float:
        """The delay in seconds at `quantile` (0..1) of the step's measured delays."""
        values = self.by_priority.get((step, priority))
        if values is None:
            values = self.pooled[step]
        i = min(len(values) - 1, int(quantile * len(values)))
        return float(values[i])

    def median(self, step: Step) -> float:
        return float(np.median(self.pooled[step])) if self.has(step) else float("nan")


def quantile_of(key: str, step: Step, attempt: int) -> float:
    """A uniform number in [0, 1) fixed by the case's first report, the step and the attempt."""
    return zlib.crc32(f"{key}\x1f{step.value}\x1f{attempt}".encode()) / 4294967296.0
