"""The breach estimator on constructed cases: measured work time, fallbacks, residual life,
one worker's queue, arrivals that jump ahead, suggestions, and the naive baseline."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from config.policy import Priority
from dispatch.breaches.estimator import (
    Arrivals,
    DoneTask,
    OpenTask,
    Params,
    ServiceTimes,
    Slack,
    forecast,
    grid_medians,
    naive_breach,
    suggest,
    worker_queue,
)

NOW = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
G = "500106001001001"


def done(  # noqa: PLR0917 - a history row in one line
    worker: str,
    created: int,
    accepted: int,
    resolved: int,
    category: str = "waterlogging",
    force: str = "grid_worker",
) -> DoneTask:
    day = NOW - timedelta(days=1)
    return DoneTask(
        worker, category, force, G, day + created * MIN, day + accepted * MIN, day + resolved * MIN
    )


def constant(
    minutes: float, *, accept: float = 0.0, category: str = "waterlogging", force: str = "grid_worker"
) -> ServiceTimes:
    return ServiceTimes({(category, force): [accept * 60] * 5}, {(category, force): [minutes * 60] * 5})


def task(
    n: int,
    *,
    deadline_min: float | None,
    priority: Priority = Priority.P1,
    created_min: float = -5,
    accepted: bool = True,
    worker: str = "W1",
    category: str = "waterlogging",
) -> OpenTask:
    created = NOW + created_min * MIN
    return OpenTask(
        f"t{n}", f"i{n}", category, priority, G, worker, "grid_worker", created,
        created if accepted else None, None if deadline_min is None else NOW + deadline_min * MIN,
    )  # fmt: skip


def test_work_time_is_measured_from_the_previous_resolve_not_from_accept() -> None:
    # W accepts both at once; B waits behind A: B's work is 15 min, not the 24 min since its accept
    times = ServiceTimes.measure([done("W", 0, 0, 10), done("W", 0, 1, 25)], Params(min_samples=1))
    assert sorted(times.pool("work", "waterlogging", "grid_worker")) == [600.0, 900.0]
    assert sorted(times.pool("accept", "waterlogging", "grid_worker")) == [0.0, 60.0]


def test_few_samples_fall_back_to_the_category_then_everything() -> None:
    history = [done(f"W{i}", 0, 1, 11) for i in range(5)] + [done("X", 0, 1, 61, force="urban_mgmt")]
    times = ServiceTimes.measure(history)
    assert set(times.pool("work", "waterlogging", "urban_mgmt")) == {600.0, 3600.0}  # the category's six
    assert len(times.pool("work", "landslide", "safety_patrol")) == 6  # everything


def test_a_long_running_task_has_the_residual_life_of_the_longer_samples() -> None:
    times = ServiceTimes({}, {("c", "f"): [600.0, 1200.0, 1800.0, 2400.0, 3000.0]})
    assert times.remaining("work", "c", "f", 0).mean_s == 1800.0
    assert times.remaining("work", "c", "f", 2100).mean_s == pytest.approx(600.0)  # (300 + 900) / 2
    assert times.remaining("work", "c", "f", 5000).mean_s == Params().overrun_s


def test_a_queue_finishes_one_after_another_and_the_late_one_breaches() -> None:
    times = constant(20)
    out = worker_queue(
        [task(1, deadline_min=30), task(2, deadline_min=35), task(3, deadline_min=90)], times, Arrivals(), NOW
    )
    assert [f.task.task_id for f in out] == ["t1", "t2", "t3"]
    # t1 was accepted 5 minutes ago and is in progress: 15 minutes left of its 20
    assert [(f.finish_at - NOW) / MIN for f in out] == pytest.approx([15, 35, 55])
    assert [f.breach for f in out] == [False, False, False]
    tight = worker_queue([task(1, deadline_min=30), task(2, deadline_min=34)], times, Arrivals(), NOW)
    assert [f.breach for f in tight] == [False, True] and [f.p_breach for f in tight] == [0.0, 1.0]


def test_the_most_urgent_goes_first_whatever_its_age() -> None:
    times = constant(20)
    out = worker_queue(
        [
            task(1, deadline_min=120, created_min=-30, accepted=False),
            task(2, deadline_min=60, priority=Priority.P0, created_min=0, accepted=False),
        ],
        times, Arrivals(), NOW,
    )  # fmt: skip
    assert [f.task.task_id for f in out] == ["t2", "t1"]
    assert [(f.finish_at - NOW) / MIN for f in out] == pytest.approx([20, 40])


def test_more_urgent_arrivals_stretch_the_wait_not_the_work_in_hand() -> None:
    times = constant(20)
    # P0 cases arrive in the grid at 1.5 per hour with 1 worker: 1.5 × 20 min = half the time
    arrivals = Arrivals({(G, Priority.P0): 1.5 / 3600}, {G: 1})
    in_hand = replace(task(1, deadline_min=60, created_min=0), started_at=NOW)  # on site now: 20 min of work
    waiting = task(2, deadline_min=60, created_min=0, accepted=False)
    alone = worker_queue([in_hand, waiting], times, Arrivals(), NOW)
    busy = worker_queue([in_hand, waiting], times, arrivals, NOW)
    assert [(f.finish_at - NOW) / MIN for f in alone] == pytest.approx([20, 40])
    # the 20-minute wait becomes 40 (1 / (1 - 0.5)); the work in hand is not interrupted
    assert [(f.finish_at - NOW) / MIN for f in busy] == pytest.approx([20, 60])
    # arrivals less urgent than the task do not jump ahead
    urgent = replace(waiting, priority=Priority.P0)
    assert (worker_queue([in_hand, urgent], times, arrivals, NOW)[1].finish_at - NOW) / MIN == pytest.approx(
        40
    )


def test_uncertainty_gives_a_probability_between() -> None:
    times = ServiceTimes({}, {("waterlogging", "grid_worker"): [600.0, 1200.0, 1800.0, 2400.0, 3000.0]})
    [f] = worker_queue([task(1, deadline_min=30, created_min=0, accepted=False)], times, Arrivals(), NOW)
    assert (f.finish_at - NOW) / MIN == pytest.approx(30) and f.p_breach == pytest.approx(0.5)
    [g] = worker_queue([task(1, deadline_min=60, created_min=0, accepted=False)], times, Arrivals(), NOW)
    assert 0.0 < g.p_breach < 0.1


def test_forecast_lists_the_likely_breaches_first_across_workers() -> None:
    times = constant(20)
    tasks = [task(1, deadline_min=90), task(2, deadline_min=10, worker="W2"), task(3, deadline_min=30)]
    assert next(f.task.task_id for f in forecast(tasks, times, Arrivals(), NOW)) == "t2"


def test_a_person_with_slack_is_suggested_and_a_busy_one_is_not() -> None:
    times = constant(20)
    late = worker_queue([task(1, deadline_min=30), task(2, deadline_min=34)], times, Arrivals(), NOW)[1]
    busy = Slack(
        "B", "grid_worker", worker_queue([task(9, deadline_min=None, worker="B")], times, Arrivals(), NOW)
    )
    idle = Slack("I", "grid_worker", [])
    s = suggest(late, [busy, idle, Slack("W1", "grid_worker", [])], times, NOW)
    assert s is not None and s.worker_id == "I" and (s.finish_at - NOW) / MIN == pytest.approx(20)
    assert s.gain_s == pytest.approx(15 * 60)
    assert suggest(late, [busy], times, NOW) is None  # B would finish at 35 min: past the deadline


def test_the_naive_baseline_uses_the_grids_median_resolve_time() -> None:
    medians, overall = grid_medians([done("W", 0, 1, 30), done("W", 0, 1, 50), done("W", 0, 1, 40)])
    assert medians[G] == 40 * 60 and overall == 40 * 60
    assert naive_breach(task(1, deadline_min=30), medians, overall, NOW) == (True, NOW + 35 * MIN)
    assert naive_breach(task(1, deadline_min=50), medians, overall, NOW)[0] is False
    assert naive_breach(task(1, deadline_min=None), medians, overall, NOW)[0] is False


def test_the_task_on_site_is_finished_first_whatever_arrives() -> None:
    times = constant(20)
    on_site = replace(
        task(1, deadline_min=200, priority=Priority.P3, created_min=-30), started_at=NOW - 5 * MIN
    )
    urgent = task(2, deadline_min=30, priority=Priority.P0, created_min=0)
    out = worker_queue([urgent, on_site], times, Arrivals(), NOW)
    assert [f.task.task_id for f in out] == ["t1", "t2"]
    assert [(f.finish_at - NOW) / MIN for f in out] == pytest.approx([15, 35])
    assert out[1].breach
