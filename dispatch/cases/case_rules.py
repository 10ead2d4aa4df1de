"""The rules one stored case is computed with: its limits (category, priority, area) and the
escalation ladder frozen with it (`policy_id`), loaded once per process and kept.

Shared by the case flows (API commands, the SLA tracker) and the intake's urgency raises, so a
case's clocks are always read with the same limits whoever touches it.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from config.policy import Priority
from dispatch.cases import queries as q
from dispatch.cases.work import CaseRules
from dispatch.intake.rules import IntakeRules, area_of
from dispatch.lifecycle.errors import LifecycleError
from dispatch.sla.ladder import EscalationPolicy, parse_escalation
from dispatch.sla.policy import Area

Row = dict[str, Any]


class CaseRulesLoader:
    """`CaseRules` of a stored incident row; frozen ladders and street areas cached."""

    def __init__(self, rules: IntakeRules) -> None:
        self.rules = rules
        self._policies: dict[str, EscalationPolicy] = {rules.escalation.fingerprint: rules.escalation}
        self._areas: dict[str, Area] = {}

    async def __call__(self, conn: AsyncConnection[Any], incident: Row) -> CaseRules:
        policy_id = str(incident["policy_id"])
        policy = self._policies.get(policy_id)
        if policy is None:
            body = await q.policy_body(conn, policy_id)
            if body is None:
                raise LifecycleError(
                    f"incident {incident['incident_id']}: escalation policy {policy_id} is missing"
                )
            policy = self._policies[policy_id] = parse_escalation(body, origin=f"sla_policies/{policy_id}")
        street = incident.get("street_code")
        area = Area.CITY
        if street:
            if street not in self._areas:
                self._areas[street] = area_of(await q.street_name(conn, street))
            area = self._areas[street]
        limits = self.rules.deadlines.limits(incident["category"], Priority(incident["priority"]), area)
        return CaseRules(limits, policy, self.rules.tk, self.rules.sla.extension)
