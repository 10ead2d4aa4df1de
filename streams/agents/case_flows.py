"""The case flows the worker's small agents (alerts, surge, 12345 replies) write cases through.

Each agent's runtime builds its own on first use, the same way: the intake's rules, the people
read once from PostgreSQL, the worker's producer for single and batched sends, and the settings'
clock (a `YIWANG_CLOCK_FROM` replay runs every agent on the same time).
"""

from __future__ import annotations

from config.settings import Settings
from dispatch.cases.boot import rules_and_people
from dispatch.cases.flows import CaseFlows
from dispatch.kpi.metrics import DispatchMetrics
from streams.outputs import Outputs


async def case_flows(settings: Settings, outputs: Outputs, metrics: DispatchMetrics) -> CaseFlows:
    rules, people = await rules_and_people(settings.db_url)
    cases = CaseFlows(settings, rules, people, outputs.send, metrics=metrics, clock=settings.clock())
    cases.send_many = outputs.send_many
    return cases
