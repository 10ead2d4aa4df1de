"""Hot-path domain rules: routes/s, deadlines/s and escalation steps/s, each beside its limit.

Run: `.venv/bin/python -m bench.domain_rules [--incidents 20000]`

Each number is printed beside a limit measured in the same run on the same inputs:
- routing vs. a loop that only walks the same candidate lists (no rule at all) and vs. the
  simplest possible router (pick the least loaded candidate, no eligibility, rosters or distance);
- deadlines vs. a natural-time add after the same cached limit lookup (the floor of any deadline);
- `next_step` over many open clocks (what a restarted SLA tracker does) vs. reading their fields.
Ratios, not absolute seconds, are what to compare across machines.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from config.policy import Priority, load_taxonomy, load_workforce
from dispatch.routing.rosters import load_rosters
from dispatch.routing.router import Router
from dispatch.routing.values import Candidate, RoutingIncident
from dispatch.sla.clocks import ClockName
from dispatch.sla.deadlines import Deadlines, timekeeper_for
from dispatch.sla.escalation import next_step
from dispatch.sla.ladder import EscalationPolicy, load_escalation
from dispatch.sla.policy import load_sla

SH = ZoneInfo("Asia/Shanghai")
GRID_FORCES = ("grid_worker", "urban_mgmt", "safety_patrol", "sanitation", "building_steward")
COMMUNITY_FORCES = ("mediator", "disability_officer", "community_police", "fire_safety", "market_supervision")
ROSTERS = ("office", "early", "late", "night", "weekday_plus_saturday", "duty_24h")


def _timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _candidates(
    rng: random.Random, street: str, community: str, grids: list[str]
) -> dict[str, list[Candidate]]:
    """Per grid: its grid-level workers, the community's workers and the ladder above it."""
    base_lon, base_lat = 106.40 + rng.random() * 0.1, 29.50 + rng.random() * 0.1
    shared = [
        Candidate(
            f"{community}-{force}-{i}",
            force,
            None,
            community,
            street,
            rng.choice(ROSTERS),
            rng.randint(0, 8),
            base_lon + rng.random() * 0.01,
            base_lat + rng.random() * 0.01,
        )
        for i, force in enumerate(COMMUNITY_FORCES * 2)
    ]
    shared.append(Candidate(f"{community}-lead", "community_lead", None, community, street, "office", 3))
    shared.append(Candidate(f"{street}-center", "street_center", None, None, street, "duty_24h", 10))
    shared.append(Candidate("district-center", "district_center", None, None, None, "duty_24h", 20))
    out: dict[str, list[Candidate]] = {}
    for grid in grids:
        own = [
            Candidate(
                f"{grid}-{force}",
                force,
                grid,
                community,
                street,
                rng.choice(ROSTERS),
                rng.randint(0, 8),
                base_lon + rng.random() * 0.01 if rng.random() < 0.8 else None,
                base_lat + rng.random() * 0.01,
            )
            for force in GRID_FORCES
        ]
        out[grid] = own + shared
    return out


@dataclass(frozen=True)
class Setup:
    router: Router
    deadlines: Deadlines
    escalation: EscalationPolicy
    work: list[tuple[RoutingIncident, list[Candidate], datetime]]
    calendar_build_s: float


Row = tuple[str, float, str, float]


def _setup(incidents: int, seed: int) -> Setup:
    rng = random.Random(seed)
    taxonomy = load_taxonomy()
    sla = load_sla(taxonomy=taxonomy)
    built = time.perf_counter()
    tk = timekeeper_for(sla)
    built = time.perf_counter() - built
    escalation = load_escalation()
    router = Router(
        taxonomy=taxonomy,
        workforce=load_workforce(),
        rosters=load_rosters(),
        calendar=tk.working,
        returns_to_lead=escalation.returns_to_lead,
    )
    street = "500106001"
    candidates: dict[str, list[Candidate]] = {}
    for c in range(1, 9):
        community = f"{street}{c:03d}"
        candidates.update(_candidates(rng, street, community, [f"{community}{g:03d}" for g in range(1, 7)]))
    grid_codes = sorted(candidates)
    categories = sorted(taxonomy.categories)
    origin = datetime(2025, 1, 1, tzinfo=SH)
    work: list[tuple[RoutingIncident, list[Candidate], datetime]] = []
    for i in range(incidents):
        grid = rng.choice(grid_codes)
        category = taxonomy.categories[rng.choice(categories)]
        lon, lat = 106.40 + rng.random() * 0.2, 29.50 + rng.random() * 0.2
        incident = RoutingIncident(
            f"i-{i}", category.code, category.priority, grid, grid[:12], grid[:9], lon, lat
        )
        work.append((incident, candidates[grid], origin + timedelta(minutes=rng.randint(0, 365 * 24 * 60))))
    return Setup(router, Deadlines(sla, taxonomy, tk), escalation, work, built)


def _routing(setup: Setup) -> list[Row]:
    router, work, n = setup.router, setup.work, len(setup.work)

    def route_all() -> None:
        for incident, cands, now in work:
            router.route(incident, cands, now)

    def walk_only() -> None:
        for _incident, cands, _now in work:
            for _c in cands:
                pass

    def least_loaded() -> None:
        for _incident, cands, _now in work:
            min(cands, key=lambda c: c.open_tasks)

    route_s = _timed(route_all)
    return [
        ("routes (full rule)", n / route_s, "walk candidates only", n / _timed(walk_only)),
        ("routes (full rule)", n / route_s, "least-loaded only", n / _timed(least_loaded)),
    ]


def _deadlines(setup: Setup) -> list[Row]:
    deadlines, resolve = setup.deadlines, ClockName.RESOLVE
    starts = [(inc.category, inc.priority, now) for inc, _, now in setup.work]
    working = [(c, p, s) for c, p, s in starts if p in (Priority.P3, Priority.P4)]

    def deadline_all() -> None:
        for category, priority, start in starts:
            deadlines.deadline(category, priority, resolve, start)

    def deadline_working() -> None:
        for category, priority, start in working:
            deadlines.deadline(category, priority, resolve, start)

    def lookup_and_add() -> None:
        for category, priority, start in starts:
            budget = deadlines.limits(category, priority).budget(resolve)
            if budget is not None:
                _ = start + budget

    floor = len(starts) / _timed(lookup_and_add)
    return [
        (
            "resolve deadlines, all priorities",
            len(starts) / _timed(deadline_all),
            "lookup + natural add",
            floor,
        ),
        (
            "resolve deadlines, working time",
            len(working) / _timed(deadline_working),
            "lookup + natural add",
            floor,
        ),
    ]


def _steps(setup: Setup) -> tuple[list[Row], float]:
    deadlines, escalation, tk = setup.deadlines, setup.escalation, setup.deadlines.tk
    clocks = [
        clock
        for inc, _, start in setup.work
        if (clock := deadlines.start(inc.category, inc.priority, ClockName.ACCEPT, start)) is not None
    ]
    now = datetime(2026, 2, 1, tzinfo=SH)

    def steps_all() -> None:
        for clock in clocks:
            next_step(escalation, clock, now, tk)

    def read_all() -> None:
        for clock in clocks:
            _ = (clock.status, clock.budget, clock.since, clock.used, clock.steps_taken)

    steps_s = _timed(steps_all)
    row = ("escalation next_step", len(clocks) / steps_s, "read clock fields", len(clocks) / _timed(read_all))
    return [row], 100_000 * steps_s / len(clocks)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setup = _setup(args.incidents, args.seed)
    per_incident = sum(len(c) for _, c, _ in setup.work) / len(setup.work)
    print(
        f"inputs: {len(setup.work):,} incidents, {per_incident:.1f} candidates each; "
        f"working calendar built in {setup.calendar_build_s * 1000:.0f} ms"
    )
    steps, recovery_s = _steps(setup)
    print(f"{'measure':<36}{'per second':>14}{'limit (same run)':>36}{'ratio':>8}")
    for name, rate, limit_name, limit in _routing(setup) + _deadlines(setup) + steps:
        print(f"{name:<36}{rate:>14,.0f}{limit:>14,.0f} {limit_name:<21}{rate / limit:>8.3f}")
    print(f"100,000 open clocks through next_step (SLA recovery): {recovery_s:.2f} s (target <= 10 s)")


if __name__ == "__main__":
    main()
