"""The worker model: delays measured between a case's steps, drawn by fixed quantiles."""

from __future__ import annotations

import numpy as np

from dispatch.replay.service_times import MIN_SAMPLES, ServiceTimes, Step, quantile_of


def test_each_step_runs_from_the_latest_step_before_it() -> None:
    t = ServiceTimes.fit(
        [
            ("a", "dispatch", 0.0, "P3"),
            ("a", "accept", 100.0, "P3"),
            ("a", "arrive", 400.0, "P3"),
            ("a", "resolve", 1400.0, "P3"),
            ("a", "verify", 1500.0, "P3"),
            ("a", "close", 1510.0, "P3"),
            ("b", "dispatch", 0.0, "P3"),
            ("b", "accept", 50.0, "P3"),
            ("b", "resolve", 2050.0, "P3"),  # no arrive: from the accept
        ]
    )
    assert list(t.pooled[Step.ACCEPT]) == [50.0, 100.0]
    assert list(t.pooled[Step.ARRIVE]) == [300.0]
    assert list(t.pooled[Step.RESOLVE]) == [1000.0, 2000.0]
    assert list(t.pooled[Step.VERIFY]) == [100.0]
    assert list(t.pooled[Step.CLOSE]) == [10.0]
    assert t.missing() == []


def test_a_reassignment_starts_the_accept_afresh_and_forgets_the_old_holders_steps() -> None:
    t = ServiceTimes.fit(
        [
            ("a", "dispatch", 0.0, "P1"),
            ("a", "reassign", 900.0, "P1"),  # the first holder never accepted
            ("a", "accept", 960.0, "P1"),
            ("a", "resolve", 1960.0, "P1"),
        ]
    )
    assert list(t.pooled[Step.ACCEPT]) == [60.0]
    assert list(t.pooled[Step.RESOLVE]) == [1000.0]


def test_a_priority_with_enough_samples_draws_from_its_own() -> None:
    fast = [
        (f"p1-{i}", a, at, "P1")
        for i in range(MIN_SAMPLES)
        for a, at in (("dispatch", 0.0), ("accept", 30.0))
    ]
    slow = [(f"p3-{i}", a, at, "P3") for i in range(3) for a, at in (("dispatch", 0.0), ("accept", 3000.0))]
    t = ServiceTimes.fit(fast + slow)
    assert t.draw(Step.ACCEPT, "P1", 0.99) == 30.0
    # P3 has too few: pooled, where 20 of 23 delays are 30 s
    assert t.draw(Step.ACCEPT, "P3", 0.5) == 30.0
    assert t.draw(Step.ACCEPT, "P3", 0.99) == 3000.0
    assert t.missing() == [Step.RESOLVE]


def test_draws_are_fixed_by_the_case_and_step_and_spread_over_zero_to_one() -> None:
    assert quantile_of("r-1", Step.ACCEPT, 1) == quantile_of("r-1", Step.ACCEPT, 1)
    assert quantile_of("r-1", Step.ACCEPT, 1) != quantile_of("r-1", Step.ACCEPT, 2)
    values = np.array([quantile_of(f"r-{i}", Step.RESOLVE, 1) for i in range(4000)])
    assert values.min() >= 0.0 and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.02
