"""Backtest of the breach forecast through the real pipeline: a simulated rainstorm day replayed
through the broker, the worker's intake, PostGIS and the SLA pass on a simulated clock, with the
forecast of `GET /forecast` called every simulated hour and scored against what then happened.

Run: `.venv/bin/python -m bench.backtest_pipeline [--history 1500 --day 3000 --seed 3]` (the defaults)

What runs (topics and a database of its own, removed afterwards, like the other benches):
- Reports: the project's simulator (`producers.simulator.generate`) writes native payloads for
  two ordinary days and then a storm day (rain 13:00–18:00: waterlogging, fallen trees, blocked
  roads from the low-lying streets); the real adapters make the canonical reports, stamped
  received at their simulated time. All are published to the broker's `reports.<source>` topics
  and consumed back, then handed to the worker's intake runtime (`streams.runtime.IntakeRuntime`,
  the class the worker's intake agent runs) in simulated-time order, one batch per simulated
  minute, with the intake's clock set to that minute: locate, merge, route, persist, publish.
- Time: every component that reads the time is given the simulated minute — the intake's clock,
  the case flows' clock (accept, resolve), `SlaTracker.run_once(now=…)` each simulated minute,
  the forecast's `now`. The simulation is stepped, not waited for: a day takes minutes.
- People: the reference district's workforce, routed to by the real rules. Whoever holds a task
  accepts it after a lognormal delay (median 4 min) and works one accepted task at a time, the
  most urgent first, for a lognormal time by category (`bench.backtest`'s service-time model,
  the same the pure backtest uses); accept and resolve go through the case flows as commands
  (`CaseFlows.transition`), so escalations, reassignments by the SLA pass and the measured
  service times are the pipeline's own.
- Every hour 08:00–22:00 of the storm day the real forecast (`dispatch.breaches.history.
  board_forecast`, district scope) is asked; each open task with a resolve deadline is one
  prediction, scored when the simulation has run on until its case was resolved (or a day).
  Baseline: "breaches if the time left is below the grid's median resolve time"
  (`naive_breach` over the same history query).
Not modelled: worker shifts for the simulated people (they work whenever they hold a task), the
CAP surge (the simulator's alerts go to `alerts.cap`, whose agents are not run here).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaProducer
from kafka import KafkaProducer
from prometheus_client import CollectorRegistry
from psycopg import AsyncConnection
from sqlalchemy import create_engine

from bench.backtest import CATEGORIES, WORK_SIGMA, Score, print_scores
from bench.harness import isolated
from config.policy import Priority, load_taxonomy
from config.settings import Settings
from dispatch.breaches.estimator import grid_medians, naive_breach
from dispatch.breaches.history import board_forecast, done_tasks, load_forecast_policy
from dispatch.cases.boot import connect, load_people
from dispatch.cases.commands import Command
from dispatch.cases.flows import CaseFlows
from dispatch.cases.sla_pass import SlaTracker
from dispatch.intake.decode import Inbound
from dispatch.intake.rules import IntakeRules
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.errors import LifecycleError
from dispatch.lifecycle.states import Action, Role
from dispatch.routing.rosters import routing_rosters
from dispatch.scope import Scope
from producers.adapters.registry import ADAPTERS
from producers.outcome import Context
from producers.simulator import generate
from producers.simulator.scenario import Rainstorm
from producers.sources import load_sources
from schemas.dead_letter import Origin
from schemas.report import Report
from streams.metrics import PipelineMetrics
from streams.read import records_to_end
from streams.runtime import IntakeRuntime

log = logging.getLogger(__name__)
SH = ZoneInfo("Asia/Shanghai")
STORM_DAY = datetime(2026, 6, 10, tzinfo=SH)  # a Wednesday the published calendar knows
HISTORY_DAYS = 2
RAIN = (13, 18)
STEP = timedelta(minutes=1)
ACCEPT_MEDIAN_S = {Priority.P0: 60.0, Priority.P1: 150.0}
"""Median accept delay by priority (the urgent ones are picked up first); 240 s for the rest."""
ACCEPT_SIGMA = 0.8
DEFAULT_WORK_MIN = 30.0
RUN_ON = timedelta(hours=24)
"""How long after the last forecast the simulation goes on, for the truth of what was predicted."""
ACTIVE_TASKS_SQL = (
    "SELECT t.task_id::text, t.incident_id::text, t.assignee_id, t.created_at, t.accepted_at, "
    "i.category, i.priority FROM tasks t JOIN incidents i USING (incident_id) "
    "WHERE t.status = 'active' AND t.resolved_at IS NULL AND t.assignee_id IS NOT NULL"
)


@dataclass
class Held:
    """A task as its simulated holder sees it: when they will accept it and how long it takes."""

    task_id: str
    incident_id: str
    worker: str
    category: str
    priority: Priority
    created: datetime
    accept_after_s: float
    work_s: float
    accepted: datetime | None = None
    started: datetime | None = None


@dataclass
class World:
    rng: random.Random
    held: dict[str, Held] = field(default_factory=dict)
    busy: dict[str, str] = field(default_factory=dict)  # worker -> the task they are working on
    commands: int = 0
    refused: int = 0
    why: Counter[str] = field(default_factory=Counter)
    """Refusals by kind: the lifecycle's reasons."""


def reports(seed: int, history: int, day: int) -> list[Report]:
    """The simulator's payloads through the real adapters, each received at its simulated time."""
    sources, taxonomy = load_sources(), load_taxonomy()
    start = STORM_DAY - timedelta(days=HISTORY_DAYS)
    storm = Rainstorm(STORM_DAY + timedelta(hours=RAIN[0]), timedelta(hours=RAIN[1] - RAIN[0]))
    items = [
        *generate(
            seed, history, start=start, span=timedelta(days=HISTORY_DAYS), malformed_share=0.0, rain=False
        ),
        *generate(seed + 1, day, start=STORM_DAY, span=timedelta(days=1), malformed_share=0.0, rain=storm),
    ]
    out: list[Report] = []
    for item in items:
        probe = Context(sources[item.source], taxonomy, STORM_DAY + timedelta(days=7), Origin())
        for first in ADAPTERS[item.source](item.payload, probe):
            if isinstance(first, Report):  # received a little after it was reported
                at = max(first.reported_at, start) + timedelta(seconds=30)
                ctx = Context(sources[item.source], taxonomy, at, Origin())
                out.extend(r for r in ADAPTERS[item.source](item.payload, ctx) if isinstance(r, Report))
                break
    return sorted(out, key=lambda r: r.received_at)


def through_broker(settings: Settings, made: list[Report]) -> list[tuple[datetime, Inbound]]:
    """Publish every report to its topic and read them all back: what the intake consumes."""
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=5)
    received = {str(r.report_id): r.received_at for r in made}
    for r in made:
        producer.send(
            settings.topic(f"reports.{r.source.value}"),
            key=r.source_ref.encode(),
            value=r.model_dump_json().encode(),
        )
    producer.flush()
    producer.close()
    out: list[tuple[datetime, Inbound]] = []
    for source in sorted({r.source.value for r in made}):
        for rec in records_to_end(settings.bootstrap_servers, settings.topic(f"reports.{source}")):
            report = Report.model_validate_json(rec.value)
            inbound = Inbound(rec.topic, rec.partition, rec.offset, rec.key, rec.value, rec.timestamp)
            out.append((received[str(report.report_id)], inbound))
    return sorted(out, key=lambda pair: pair[0])


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0, sigma))


async def work(conn: AsyncConnection[Any], flows: CaseFlows, world: World, now: datetime) -> None:
    """The simulated holders at `now`: accept what is due, start the most urgent, resolve what is done."""
    active = await held_now(conn, world)
    for worker, task_id in list(world.busy.items()):
        if task_id not in active:  # withdrawn, reassigned or closed under them
            del world.busy[worker]
    for held in active.values():
        due = held.created + timedelta(seconds=held.accept_after_s)
        if held.accepted is None and now >= due and await command(conn, flows, world, held, Action.ACCEPT):
            held.accepted = now
    by_worker: dict[str, list[Held]] = defaultdict(list)
    for held in active.values():
        if held.accepted is not None:
            by_worker[held.worker].append(held)
    for worker, accepted in by_worker.items():
        current = active.get(world.busy.get(worker, ""))
        waiting = accepted
        if current is not None and current.started is not None:
            if now < current.started + timedelta(seconds=current.work_s):
                continue
            await command(conn, flows, world, current, Action.RESOLVE)
            del world.busy[worker]
            waiting = [h for h in accepted if h is not current]
        if waiting:
            nxt = min(waiting, key=lambda h: (h.priority.rank, h.created, h.task_id))
            nxt.started = now
            world.busy[worker] = nxt.task_id


async def held_now(conn: AsyncConnection[Any], world: World) -> dict[str, Held]:
    """The active tasks with a holder (a grid's assist beside a leading agency too: it is accepted
    like any); one seen for the first time draws its times."""
    cur = await conn.execute(ACTIVE_TASKS_SQL)
    active: dict[str, Held] = {}
    for task_id, incident_id, worker, created, accepted, category, priority in await cur.fetchall():
        held = world.held.get(task_id)
        if held is None:
            minutes = CATEGORIES.get(category, (0.0, DEFAULT_WORK_MIN))[1]
            held = Held(
                task_id,
                incident_id,
                worker,
                category,
                Priority(priority),
                created,
                lognormal(world.rng, ACCEPT_MEDIAN_S.get(Priority(priority), 240.0), ACCEPT_SIGMA),
                lognormal(world.rng, minutes * 60, WORK_SIGMA),
            )
            world.held[task_id] = held
        held.accepted = accepted
        active[task_id] = held
    return active


async def command(
    conn: AsyncConnection[Any], flows: CaseFlows, world: World, held: Held, action: Action
) -> bool:
    try:
        note = "已处理（回测模拟）" if action is Action.RESOLVE else None  # a resolve says what was done
        actor = Actor(Role.GRID_WORKER, held.worker)
        await flows.transition(conn, held.incident_id, Command(action, actor, note=note))
    except LifecycleError as exc:
        world.refused += 1  # the case moved on meanwhile (reassigned, escalated away)
        world.why[type(exc).__name__ + ": " + str(exc)[:60]] += 1
        return False
    world.commands += 1
    return True


@dataclass(frozen=True, slots=True)
class Prediction:
    incident_id: str
    deadline: datetime
    at_risk: bool
    finish: datetime
    naive: bool
    naive_finish: datetime


async def predict(
    conn: AsyncConnection[Any], rules: IntakeRules, flows: CaseFlows, now: datetime
) -> list[Prediction]:
    """The forecast the board gets at `now`, beside the baseline's answer for the same tasks."""
    policy = load_forecast_policy()
    made = await board_forecast(
        conn,
        tk=rules.tk,
        taxonomy=rules.taxonomy,
        near=flows.people.near,
        rosters=routing_rosters(),
        scope=Scope(),
        now=now,
        policy=policy,
    )
    medians, overall = grid_medians(await done_tasks(conn, now - policy.history))
    out = []
    for f in made.forecasts:
        if f.task.deadline is None:
            continue
        naive, naive_finish = naive_breach(f.task, medians, overall, now)
        at_risk = f.p_breach >= policy.params.at_risk
        out.append(Prediction(f.task.incident_id, f.task.deadline, at_risk, f.finish_at, naive, naive_finish))
    return out


async def replay(settings: Settings, args: argparse.Namespace) -> Run:
    t0 = time.perf_counter()
    run = Run(reports(args.seed, args.history, args.day), World(random.Random(args.seed)))
    inbound = through_broker(settings, run.made)
    run.t_broker = time.perf_counter() - t0
    rules = IntakeRules.load()
    engine = create_engine(settings.db_url)
    people = load_people(engine, rules.taxonomy)
    engine.dispose()
    clock = [STORM_DAY - timedelta(days=HISTORY_DAYS)]
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, enable_idempotence=True, acks="all"
    )
    await producer.start()

    async def send(topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        return await producer.send(topic, value, key=key, headers=headers)

    metrics = DispatchMetrics.create(CollectorRegistry())
    flows = CaseFlows(settings, rules, people, send, metrics=metrics, clock=lambda: clock[0])
    intake = IntakeRuntime(settings, PipelineMetrics.create(CollectorRegistry()), send)
    await intake.start()
    assert intake.service is not None
    intake.service.clock = lambda: clock[0]
    conn = await connect(settings, application_name="yiwang-backtest")
    t1 = time.perf_counter()
    try:
        await simulate(
            conn,
            rules=rules,
            flows=flows,
            intake=intake,
            tracker=SlaTracker(flows),
            inbound=inbound,
            clock=clock,
            run=run,
        )
    finally:
        await conn.close()
        await intake.close()
        await producer.stop()
    run.t_sim = time.perf_counter() - t1
    return run


async def simulate(
    conn: AsyncConnection[Any],
    *,
    rules: IntakeRules,
    flows: CaseFlows,
    intake: IntakeRuntime,
    tracker: SlaTracker,
    inbound: list[tuple[datetime, Inbound]],
    clock: list[datetime],
    run: Run,
) -> None:
    """Minute by simulated minute: the intake takes what arrived, the holders work, the SLA pass
    runs, and on the hour the forecast is asked; then the truth is read back."""
    hours = {STORM_DAY + timedelta(hours=h) for h in range(8, 23)}
    end = STORM_DAY + timedelta(hours=22) + RUN_ON
    i = 0
    while clock[0] <= end:
        now = clock[0]
        batch = []
        while i < len(inbound) and inbound[i][0] <= now:
            batch.append(inbound[i][1])
            i += 1
        if batch:
            await intake.handle(batch)
        await work(conn, flows, run.world, now)
        run.escalations += (await tracker.run_once(conn, now=now)).steps
        if now in hours:
            run.predictions.extend(await predict(conn, rules, flows, now))
        if now.minute == 0 and now.hour % 6 == 0:
            log.info(
                "backtest: simulated %s, %d commands, %d predictions",
                now,
                run.world.commands,
                len(run.predictions),
            )
        clock[0] = now + STEP
    cur = await conn.execute(
        "SELECT incident_id::text, min(resolved_at) FROM tasks WHERE resolved_at IS NOT NULL GROUP BY 1"
    )
    run.resolved = dict(await cur.fetchall())
    cur = await conn.execute("SELECT count(*) FROM incidents")
    ((run.cases,),) = await cur.fetchall()


@dataclass
class Run:
    """What one replay did and saw."""

    made: list[Report]
    world: World
    predictions: list[Prediction] = field(default_factory=list)
    resolved: dict[str, datetime] = field(default_factory=dict)
    cases: int = 0
    escalations: int = 0
    t_broker: float = 0.0
    t_sim: float = 0.0


def report(args: argparse.Namespace, run: Run) -> None:
    made, world, escalations, resolved = run.made, run.world, run.escalations, run.resolved
    est, base = Score(), Score()
    breached = unresolved = 0
    for p in run.predictions:
        done = resolved.get(p.incident_id)
        if done is None:
            unresolved += 1
            continue
        actual = done > p.deadline
        breached += actual
        est.add(p.at_risk, actual, p.finish, done)
        base.add(p.naive, actual, p.naive_finish, done)
    storm = sum(1 for r in made if r.received_at >= STORM_DAY)
    print(
        f"backtest through the pipeline: {len(made)} reports ({len(made) - storm} on {HISTORY_DAYS} "
        f"ordinary days, {storm} on the storm day, rain {RAIN[0]}:00–{RAIN[1]}:00), seed {args.seed}: "
        f"{run.cases} cases, "
        f"{world.commands} accept/resolve commands ({world.refused} refused: the case had moved on), "
        f"{escalations} SLA steps"
    )
    print(
        f"time: broker round trip {run.t_broker:.0f} s, "
        f"simulated {HISTORY_DAYS + 2} days in {run.t_sim:.0f} s"
    )
    print(
        f"predictions: hourly 08:00–22:00 on the storm day, {est.n} open tasks scored, {breached} breached "
        f"({unresolved} never resolved within {RUN_ON.total_seconds() / 3600:.0f} h, not scored)"
    )
    print_scores(est, base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=1500, help="reports over the two ordinary days")
    parser.add_argument("--day", type=int, default=3000, help="reports on the storm day")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("kafka").setLevel(logging.ERROR)
    with isolated(Settings(), "backtest") as settings:
        run = asyncio.run(replay(settings, args))
    report(args, run)


if __name__ == "__main__":
    main()
