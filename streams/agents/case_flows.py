"""The case flows the worker's small agents (alerts, surge, 12345 replies) write cases through.

Each agent's runtime builds its own on first use, the same way: the intake's rules, the people
read once from PostgreSQL, the worker's producer for single and batched sends, and the settings'
clock (a `YIWANG_CLOCK_FROM` replay runs every agent on the same time).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import create_engine

from config.settings import Settings
from dispatch.cases.boot import load_people
from dispatch.cases.flows import CaseFlows
from dispatch.intake.rules import IntakeRules
from dispatch.kpi.metrics import DispatchMetrics
from streams.outputs import Outputs


async def case_flows(settings: Settings, outputs: Outputs, metrics: DispatchMetrics) -> CaseFlows:
    rules = await asyncio.to_thread(IntakeRules.load)
    engine = create_engine(settings.db_url, pool_size=1)
    try:
        people = await asyncio.to_thread(load_people, engine, rules.taxonomy)
    finally:
        engine.dispose()
    cases = CaseFlows(settings, rules, people, outputs.send, metrics=metrics, clock=settings.clock())
    cases.send_many = outputs.send_many
    return cases
