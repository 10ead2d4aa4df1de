"""Shared fixtures for the pure dispatch rules: the shipped policies, loaded once per session."""

from __future__ import annotations

import pytest

from config.policy import Taxonomy, Workforce, load_taxonomy, load_workforce
from dispatch.routing.rosters import Roster, load_rosters
from dispatch.sla.calendar import Timekeeper, WorkingCalendar
from dispatch.sla.deadlines import Deadlines, timekeeper_for
from dispatch.sla.ladder import EscalationPolicy, load_escalation
from dispatch.sla.policy import SlaPolicy, load_sla


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="session")
def workforce() -> Workforce:
    return load_workforce()


@pytest.fixture(scope="session")
def sla(taxonomy: Taxonomy) -> SlaPolicy:
    return load_sla(taxonomy=taxonomy)


@pytest.fixture(scope="session")
def tk(sla: SlaPolicy) -> Timekeeper:
    return timekeeper_for(sla)


@pytest.fixture(scope="session")
def calendar(tk: Timekeeper) -> WorkingCalendar:
    return tk.working


@pytest.fixture(scope="session")
def deadlines(sla: SlaPolicy, taxonomy: Taxonomy, tk: Timekeeper) -> Deadlines:
    return Deadlines(sla, taxonomy, tk)


@pytest.fixture(scope="session")
def escalation() -> EscalationPolicy:
    return load_escalation()


@pytest.fixture(scope="session")
def rosters() -> dict[str, Roster]:
    return load_rosters()
