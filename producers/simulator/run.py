"""`yiwang simulate`: generate payloads and publish them through the adapters at a steady rate.

Real time by default: the simulated window is the next `duration` seconds, so report times
track publish times. `span` longer than `duration` replays a compressed past window (e.g. the
last 24 h in 5 minutes) whose reports arrive late, as a backlog would. Rejections are
expected (the malformed share); the run is clean when every rejection was a planned one and
every other payload was published.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from producers.feed import Feeder, Summary
from producers.simulator.model import SimDistrict
from producers.simulator.payloads import generate
from schemas.dead_letter import Origin


@dataclass(frozen=True, slots=True)
class SimulationResult:
    count: int
    planned_rejections: int
    summary: Summary

    @property
    def clean(self) -> bool:
        s = self.summary
        return (
            not s.failed
            and len(s.rejected) == self.planned_rejections
            and s.published + s.duplicates == self.count - self.planned_rejections
        )


def simulate(
    feeder: Feeder,
    *,
    rate: float,
    duration: float,
    seed: int,
    span: timedelta | None = None,
    malformed_share: float = 0.02,
    progress: Callable[[str], None] = lambda _: None,
    every_s: float = 1.0,
    district: SimDistrict | None = None,
) -> SimulationResult:
    """`district`: where the reports happen (default the reference district; `load_districts`
    for several at once)."""
    count = max(1, round(rate * duration))
    window = span or timedelta(seconds=duration)
    now = datetime.now(UTC)
    start = now if window <= timedelta(seconds=duration) else now - window
    planned = 0
    began = last = time.monotonic()
    for i, item in enumerate(
        generate(seed, count, start=start, span=window, malformed_share=malformed_share, district=district)
    ):
        ahead = began + i / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        planned += not item.expected.ok
        feeder.feed(item.source, item.payload, Origin(file=f"simulator seed {seed}", record=str(i)))
        if time.monotonic() - last >= every_s:
            last = time.monotonic()
            s = feeder.summary
            progress(
                f"simulate: {i + 1}/{count} sent, published {s.published}, rejected {len(s.rejected)} "
                f"({(i + 1) / (last - began):.0f}/s)"
            )
    return SimulationResult(count, planned, feeder.finish())
