"""The rules one stored case is computed with: its limits (category, priority, area) under its
district's policy (`dispatch.sla.policy_book`) and the escalation ladder frozen with it
(`policy_id`), loaded once per process and kept.

A clock keeps the budget it was started with, and the ladder is the one the case opened under:
a policy changed since (shared or the district's) applies to clocks started from then on.

Shared by the case flows (API commands, the SLA tracker) and the intake's urgency raises, so a
case's clocks are always read with the same limits whoever touches it.

A case opened under a surge or raised by one names it (`surge_id`): while that surge holds (and
the case is still of one of its categories), its limits are the surge's scaled ones, so a clock
started later — the verify clock at resolve, the owner clocks of a reassignment or a rework —
is scaled as the clocks running when it opened were (README: Surge mode). Once the surge has
ended, clocks start under the plain limits again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from psycopg import AsyncConnection

from config.policy import Priority
from dispatch.cases import queries as q
from dispatch.cases.work import CaseRules
from dispatch.intake.rules import IntakeRules, area_of
from dispatch.lifecycle.errors import LifecycleError
from dispatch.sla.ladder import EscalationPolicy, parse_escalation
from dispatch.sla.policy import Area
from dispatch.surge.overlay import scaled
from dispatch.surge.policy import SurgePolicy, load_surge_policy

Row = dict[str, Any]


class RulesFor(Protocol):
    """`CaseRules` of a stored incident row at `now` (default: the caller's clock)."""

    async def __call__(
        self, conn: AsyncConnection[Any], incident: Row, *, now: datetime | None = None
    ) -> CaseRules: ...


class CaseRulesLoader:
    """`CaseRules` of a stored incident row; frozen ladders and street areas cached."""

    def __init__(self, rules: IntakeRules, surges: SurgePolicy | None = None) -> None:
        self.rules = rules
        self.surges = surges if surges is not None else load_surge_policy()
        self._policies: dict[str, EscalationPolicy] = {p.fingerprint: p for p in rules.book.escalations()}
        self._areas: dict[str, Area] = {}
        self._factors: tuple[datetime | None, dict[str, float]] = (None, {})
        """Surge factors read at one `now` (an SLA pass asks for many cases at the same now)."""

    async def __call__(
        self, conn: AsyncConnection[Any], incident: Row, *, now: datetime | None = None
    ) -> CaseRules:
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
        district = self.rules.policy_of(incident.get("district_code"))
        limits = district.deadlines.limits(incident["category"], Priority(incident["priority"]), area)
        surge_id = incident.get("surge_id")
        if surge_id:
            factor = await self.surge_factor(
                conn, str(surge_id), incident["category"], now or datetime.now(UTC)
            )
            limits = scaled(limits, factor)
        return CaseRules(limits, policy, self.rules.tk, district.sla.extension)

    async def surge_factor(
        self, conn: AsyncConnection[Any], surge_id: str, category: str, now: datetime
    ) -> float:
        """The budgets' factor of surge `surge_id` for a case of `category` at `now`: its rule's
        `limits_factor` while it holds and lists the category, else 1 (ended, expired, not yet
        begun, its policy removed since, or a category it does not change)."""
        at, known = self._factors
        if at != now:
            known = {}
            self._factors = (now, known)
        key = f"{surge_id}/{category}"
        if key not in known:
            cur = await conn.execute(
                "SELECT warning, level, starts_at, LEAST(ends_at, COALESCE(ended_at, ends_at))"
                " FROM surges WHERE surge_id = %s",
                (surge_id,),
            )
            found = await cur.fetchone()
            factor = 1.0
            if found is not None:
                warning, level, starts_at, ends_at = found
                rule = self.surges.rule(warning, level)
                if rule is not None and category in rule.categories and starts_at <= now < ends_at:
                    factor = rule.limits_factor
            known[key] = factor
        return known[key]
