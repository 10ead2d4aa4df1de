"""Both runs of a comparison, side by side on two cores when the machine has them.

The runs share nothing while they run (each has its own in-memory cases, merge window and open
work), so they go to two forked processes: the configurations and reports are inherited by the
fork, not pickled (a grid index holds STRtrees), and only the outcomes come back. Each run
reports its progress into shared memory, which the caller's `progress` reads to draw its bar.
On one core (or `parallel=False`) they run one after the other in this process.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from dispatch.replay.configuration import Configuration
from dispatch.replay.service_times import ServiceTimes
from dispatch.replay.simulation import Replay, RunOutcome
from schemas.report_struct import ReportStruct

Progress = Callable[[list[tuple[int, int]]], None]
"""Called with (done, total) of each run, every few tenths of a second and at the end."""

_JOB: dict[str, Any] = {}
"""What a forked run reads: set just before the fork, read by `_run_one` in the child."""


def _run_one(i: int) -> RunOutcome:
    config: Configuration = _JOB["configs"][i]
    done: list[Synchronized[int]] = _JOB["done"]
    total: list[Synchronized[int]] = _JOB["total"]

    def mark(n: int, of: int) -> None:
        done[i].value, total[i].value = n, of

    return Replay(config, _JOB["times"]).run(_JOB["reports"], progress=mark)


def run_both(
    configs: tuple[Configuration, Configuration],
    times: ServiceTimes,
    reports: Sequence[ReportStruct],
    *,
    progress: Progress | None = None,
    parallel: bool | None = None,
) -> tuple[RunOutcome, RunOutcome]:
    if parallel is None:
        parallel = (os.cpu_count() or 1) > 1
    if not parallel:
        return (
            _alone(configs[0], times, reports, progress, 0),
            _alone(configs[1], times, reports, progress, 1),
        )
    ctx = mp.get_context("fork")
    done = [ctx.Value("q", 0, lock=False) for _ in configs]
    total = [ctx.Value("q", len(reports), lock=False) for _ in configs]
    _JOB.update(configs=configs, times=times, reports=reports, done=done, total=total)
    try:
        with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
            futures = [pool.submit(_run_one, i) for i in range(2)]
            while not all(f.done() for f in futures):
                if progress is not None:
                    progress([(d.value, t.value) for d, t in zip(done, total, strict=True)])
                time.sleep(0.2)
            a, b = futures[0].result(), futures[1].result()
    finally:
        _JOB.clear()
    if progress is not None:
        progress([(t.value, t.value) for t in total])
    return a, b


def _alone(
    config: Configuration,
    times: ServiceTimes,
    reports: Sequence[ReportStruct],
    progress: Progress | None,
    i: int,
) -> RunOutcome:
    state = [(0, len(reports)), (0, len(reports))]
    if i == 1:
        state[0] = (len(reports), len(reports))

    def mark(n: int, of: int) -> None:
        state[i] = (n, of)
        if progress is not None:
            progress(list(state))

    return Replay(config, times).run(reports, progress=mark)
