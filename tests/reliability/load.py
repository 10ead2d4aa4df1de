"""Simulated agency traffic at a steady rate, in a background thread, for the fault tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from config.settings import Settings
from producers.feed import Feeder
from producers.ledger import Ledger
from producers.publisher import Publisher
from producers.simulator import Simulated, generate
from schemas.dead_letter import Origin
from tests.streams.harness import expected_report_ids


@dataclass
class Load:
    settings: Settings
    seed: int
    rate: float
    seconds: float
    items: list[Simulated] = field(default_factory=list)
    sent: int = 0
    rejected: int = 0
    failed: int = 0
    took_s: float = 0.0  # from the first payload to the last one published
    error: BaseException | None = None
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        count = int(self.rate * self.seconds)
        start = datetime.now(UTC) - timedelta(days=self.seed % 300 + 1)  # its own stretch of time
        self.items = list(generate(self.seed, count, start=start, span=timedelta(hours=6)))

    @property
    def planned_rejections(self) -> int:
        return sum(not i.expected.ok for i in self.items)

    def expected_ids(self) -> set[str]:
        return expected_report_ids(self.items)

    def start(self) -> Load:
        self._thread = threading.Thread(target=self._run, name=f"load-{self.seed}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            publisher = Publisher(self.settings)
            feeder = Feeder(publisher, Ledger(None))
            began = time.monotonic()
            for i, item in enumerate(self.items):
                ahead = began + i / self.rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
                feeder.feed(item.source, item.payload, Origin(file=f"load {self.seed}", record=str(i)))
                self.sent = i + 1
            summary = feeder.finish()
            self.took_s = time.monotonic() - began
            publisher.close()
            self.rejected, self.failed = len(summary.rejected), summary.failed
        except BaseException as exc:  # reported by wait(); a test thread must not die silently
            self.error = exc

    def wait(self, timeout_s: float = 300) -> Load:
        assert self._thread is not None
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the load did not finish"
        if self.error is not None:
            raise AssertionError(f"the load failed: {self.error!r}") from self.error
        return self
