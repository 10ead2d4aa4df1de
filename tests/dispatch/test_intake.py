"""The intake's batch decisions: merging, opening, routing with in-batch load, ids, clocks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from config.policy import Priority, load_taxonomy
from dispatch.intake.rules import (
    ID_NAMESPACE,
    IntakeRules,
    LocatedReport,
    Merged,
    Opened,
    area_of,
    incident_id_for,
    task_id_for,
)
from dispatch.lifecycle.states import Action, CaseState
from dispatch.merging import OpenIncident
from dispatch.routing.values import Candidate, DecisionKind, RoutingRule
from dispatch.sla.clocks import ClockName
from dispatch.sla.policy import Area

NOW = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai, a working day
GRID, COMMUNITY, STREET = "500106001001001", "500106001001", "500106001"
M = 1 / 111_195  # a metre of latitude, in degrees


@pytest.fixture(scope="module")
def rules() -> IntakeRules:
    return IntakeRules.load()


def report(
    n: int,
    category: str = "manhole_cover_missing",
    *,
    dlat_m: float = 0,
    minutes: int = 0,
    source: str = "citymgmt",
    grid: str | None = GRID,
    point: bool = True,
) -> LocatedReport:
    cat = load_taxonomy().category(category)
    at = NOW - timedelta(minutes=5) + timedelta(minutes=minutes)
    return LocatedReport(
        report_id=f"00000000-0000-0000-0000-{n:012d}",
        source=source,
        category=cat,
        priority=cat.priority,
        received_at=at,
        reported_at=at,
        lon=106.45 if point else None,
        lat=(29.55 + dlat_m * M) if point else None,
        district_code="500106",
        street_code=STREET if grid else None,
        street_name="小龙坎街道" if grid else None,
        community_code=COMMUNITY if grid else None,
        grid_code=grid,
        placement_reason=None if grid else "outside every grid",
    )


def people(*, load: int = 0) -> list[Candidate]:
    return [
        Candidate("W1", "grid_worker", GRID, COMMUNITY, STREET, "duty_24h", open_tasks=load),
        Candidate("W2", "grid_worker", GRID, COMMUNITY, STREET, "duty_24h", open_tasks=load),
        Candidate("L1", "community_lead", None, COMMUNITY, STREET, "duty_24h"),
        Candidate("S1", "street_center", None, None, STREET, "duty_24h"),
        Candidate("D1", "district_center", None, None, None, "duty_24h"),
    ]


def decide(
    rules: IntakeRules,
    reports: list[LocatedReport],
    nearby: list[list[OpenIncident]] | None = None,
    who: list[Candidate] | None = None,
) -> list[Merged | Opened]:
    return rules.decide(
        reports,
        nearby=nearby or [[] for _ in reports],
        candidates=lambda r: who if who is not None else people(),
        now=NOW,
    )


def test_a_new_report_opens_a_dispatched_case_with_running_clocks(rules: IntakeRules) -> None:
    [d] = decide(rules, [report(1)])
    assert isinstance(d, Opened)
    assert d.incident_id == incident_id_for(d.report.report_id)
    assert [e.action for e in d.events] == [Action.REPORT, Action.REGISTER, Action.DISPATCH]
    assert d.case.state is CaseState.DISPATCHED and d.case.assignee_id in {"W1", "W2"}
    assert d.task_id == task_id_for(d.incident_id, 3)
    assert d.decision.rule is RoutingRule.ELIGIBLE_WORKER and d.decision.kind is DecisionKind.MAIN
    assert ClockName.ACCEPT in d.clocks and ClockName.RESOLVE in d.clocks
    # P1: accept within 15 natural minutes; the tracker's first look is the 80 % reminder
    assert d.next_sla_at == NOW + timedelta(minutes=12)
    assert d.sla_note is None


def test_the_same_input_gives_the_same_ids_and_assignee(rules: IntakeRules) -> None:
    a, b = decide(rules, [report(1)]), decide(rules, [report(1)])
    assert a == b


def test_in_batch_duplicates_merge_and_load_spreads(rules: IntakeRules) -> None:
    batch = [
        report(1),
        report(2, dlat_m=100, source="patrol"),
        report(3, dlat_m=5000),
        report(4, "exposed_garbage", dlat_m=20),
    ]
    first, second, third, fourth = decide(rules, batch)
    assert isinstance(first, Opened) and isinstance(second, Merged)
    assert second.incident_id == first.incident_id
    assert isinstance(third, Opened) and isinstance(fourth, Opened)
    # the first case went to one of the two eligible workers; the next goes to the other
    assert first.case.assignee_id != third.case.assignee_id


def test_a_stored_open_incident_absorbs_the_report(rules: IntakeRules) -> None:
    stored = OpenIncident(
        "old",
        "problem:manhole_cover",
        106.45,
        29.55 + 200 * M,
        NOW - timedelta(minutes=20),
        NOW - timedelta(minutes=20),
        Priority.P1,
        "区城市管理局",
    )
    [d] = decide(rules, [report(1)], nearby=[[stored]])
    assert d == Merged(report(1), "old", Priority.P1)


def test_agency_led_p0_gives_the_grid_an_assist_task(rules: IntakeRules) -> None:
    [d] = decide(rules, [report(1, "fire", source="fire")])
    assert isinstance(d, Opened)
    assert d.decision.kind is DecisionKind.ASSIST
    assert ClockName.RESOLVE not in d.clocks  # the fire brigade leads; no grid resolve clock


def test_nobody_on_shift_falls_back_up_the_ladder(rules: IntakeRules) -> None:
    off = [
        Candidate("W1", "grid_worker", GRID, COMMUNITY, STREET, "night"),
        Candidate("S1", "street_center", None, None, STREET, "duty_24h"),
    ]
    [d] = decide(rules, [report(1)], who=off)
    assert isinstance(d, Opened) and d.decision.rule is RoutingRule.STREET_CENTER
    assert d.case.assignee_id == "S1"


def test_nobody_at_all_leaves_the_case_registered_for_the_board(rules: IntakeRules) -> None:
    [d] = decide(rules, [report(1)], who=[])
    assert isinstance(d, Opened)
    assert d.decision.rule is RoutingRule.UNROUTED and d.task_id is None
    assert d.case.state is CaseState.REGISTERED


def test_outside_every_grid_goes_to_the_district_center(rules: IntakeRules) -> None:
    [d] = decide(rules, [report(1, grid=None)])
    assert isinstance(d, Opened) and d.decision.rule is RoutingRule.DISTRICT_CENTER


def test_address_not_found_opens_a_case_without_merging(rules: IntakeRules) -> None:
    a, b = decide(rules, [report(1, point=False, grid=None), report(2, point=False, grid=None)])
    assert isinstance(a, Opened) and isinstance(b, Opened)


def test_limits_past_the_calendar_are_flagged_not_guessed(rules: IntakeRules) -> None:
    horizon = rules.tk.working.horizon
    late = horizon - timedelta(days=2)
    r = report(1, "illegal_construction")  # P4, 20 working days
    r = LocatedReport(**{**{f: getattr(r, f) for f in r.__slots__}, "received_at": late, "reported_at": late})
    [d] = rules.decide([r], nearby=[[]], candidates=lambda _: people(), now=late)
    assert isinstance(d, Opened)
    assert d.next_sla_at is not None and d.next_sla_at <= horizon
    assert d.sla_note is not None and "calendar" in d.sla_note


@pytest.mark.parametrize(
    ("name", "area"), [("青木关镇", Area.RURAL), ("小龙坎街道", Area.CITY), (None, Area.CITY)]
)
def test_area_of_street(name: str | None, area: Area) -> None:
    assert area_of(name) is area


def test_priority_is_taken_from_the_report(rules: IntakeRules) -> None:
    r = report(1, "exposed_garbage")
    raised = LocatedReport(**{**{f: getattr(r, f) for f in r.__slots__}, "priority": Priority.P1})
    [d] = decide(rules, [raised])
    assert isinstance(d, Opened)
    assert d.clocks[ClockName.ACCEPT].budget == timedelta(minutes=15)


def test_derived_ids_are_uuid5_of_the_namespace() -> None:
    for report_id in ("r-1", "a" * 40, "报告-7", str(uuid.UUID(int=12345))):
        incident = incident_id_for(report_id)
        assert incident == str(uuid.uuid5(ID_NAMESPACE, f"incident\x1f{report_id}"))
        assert task_id_for(incident, 3) == str(uuid.uuid5(ID_NAMESPACE, f"task\x1f{incident}\x1f3"))
