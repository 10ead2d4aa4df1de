"""Urgency is monotone: for any sequence of reports, no incident is handled below the highest
priority among its reports.

The pure intake decision (`IntakeRules.decide`) and the pure raise (`dispatch.cases.urgency`)
run over an in-memory store of the very rows the worker writes (`dispatch.rows`), batch after
batch, as the intake would; after every batch each incident's priority, its running owner
clocks and its task kind are checked against the most urgent report it holds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.policy import Priority, load_taxonomy
from dispatch.cases.urgency import raise_case, raised_row
from dispatch.cases.work import CaseRules, CaseWork
from dispatch.intake.rules import IntakeRules, LocatedReport, Merged, Opened
from dispatch.merging import OpenIncident
from dispatch.routing.values import Candidate
from dispatch.rows import incident_row, task_row
from dispatch.sla.clocks import ClockName
from dispatch.sla.policy import Area
from schemas.report import Crs, Location, Raw, RawFormat, Report, report_id_for

NOW = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
GRID, COMMUNITY, STREET = "500106001001001", "500106001001", "500106001"
M = 1 / 111_195
TAXONOMY = load_taxonomy()
CATEGORIES = [
    "public_disturbance",
    "violent_crime",
    "manhole_cover_damaged",
    "manhole_cover_missing",
    "streetlight_out",
]
PEOPLE = [
    Candidate("W1", "grid_worker", GRID, COMMUNITY, STREET, "duty_24h"),
    Candidate("P1", "community_police", None, COMMUNITY, STREET, "duty_24h"),
    Candidate("S1", "safety_patrol", GRID, COMMUNITY, STREET, "duty_24h"),
    Candidate("L1", "community_lead", None, COMMUNITY, STREET, "duty_24h"),
]
OWNER = (ClockName.ACCEPT, ClockName.ON_SITE, ClockName.RESOLVE)
Row = dict[str, Any]


@pytest.fixture(scope="module")
def rules() -> IntakeRules:
    return IntakeRules.load()


def _report(
    n: int, category: str, priority: Priority | None, dlat_m: float, minutes: int
) -> tuple[LocatedReport, Report]:
    cat = TAXONOMY.category(category)
    at = NOW - timedelta(minutes=40 - minutes)
    ref = f"u-{n}"
    report = Report(
        report_id=report_id_for("hotline", ref),
        source="hotline",
        source_ref=ref,
        reported_at=at,
        received_at=at,
        category=category,
        priority=priority or cat.priority,
        location=Location(lon=106.45, lat=29.55 + dlat_m * M, crs=Crs.WGS84),
        description="x",
        raw=Raw(format=RawFormat.JSON, text="{}"),
    )
    located = LocatedReport(
        report_id=str(report.report_id),
        source="hotline",
        category=cat,
        priority=report.priority,
        received_at=at,
        reported_at=at,
        lon=106.45,
        lat=29.55 + dlat_m * M,
        district_code="500106",
        street_code=STREET,
        street_name="小龙坎街道",
        community_code=COMMUNITY,
        grid_code=GRID,
        placement_reason=None,
    )
    return located, report


reports_st = st.lists(
    st.tuples(
        st.sampled_from(CATEGORIES),
        st.none() | st.sampled_from(list(Priority)),
        st.floats(0, 300),
        st.integers(0, 35),
    ),
    min_size=1,
    max_size=12,
)


class Store:
    """The rows the worker would hold: incidents, their tasks, the merge window, who is in what."""

    def __init__(self, rules: IntakeRules) -> None:
        self.rules = rules
        self.incidents: dict[str, Row] = {}
        self.tasks: dict[str, list[Row]] = {}
        self.window: dict[str, OpenIncident] = {}
        self.reports: dict[str, list[Priority]] = {}

    def case_rules(self, row: Row) -> CaseRules:
        r = self.rules
        limits = r.deadlines.limits(row["category"], Priority(row["priority"]), Area.CITY)
        return CaseRules(limits, r.escalation, r.tk, r.sla.extension)

    def apply(self, d: Merged | Opened, report: Report) -> None:
        if isinstance(d, Opened):
            row = incident_row(d, report, now=NOW, policy_id=self.rules.escalation.fingerprint)
            task = task_row(d, now=NOW)
            self.incidents[d.incident_id] = row
            self.tasks[d.incident_id] = [task] if task else []
            where = d.report
            assert where.lon is not None and where.lat is not None
            self.window[d.incident_id] = OpenIncident(
                d.incident_id,
                self.rules.merge.problem_of(where.category.code),
                where.lon,
                where.lat,
                where.reported_at,
                where.reported_at,
                where.priority,
                where.category.lead_department,
            )
            self.reports[d.incident_id] = [where.priority]
            return
        self.reports[d.incident_id].append(d.report.priority)
        held = self.window[d.incident_id]
        self.window[d.incident_id] = replace(held, last_at=max(held.last_at, d.report.reported_at))
        if d.raised_from is None:
            return
        row = raised_row(self.incidents[d.incident_id], d.report.category, d.priority)
        work = CaseWork(row, self.tasks[d.incident_id], self.case_rules(row), NOW)
        raise_case(work, d)
        changes = work.finish()
        self.incidents[d.incident_id] = changes.incident
        by_id = {t["task_id"]: t for t in self.tasks[d.incident_id]}
        by_id.update({t["task_id"]: t for t in changes.tasks})
        self.tasks[d.incident_id] = list(by_id.values())
        self.window[d.incident_id] = replace(
            self.window[d.incident_id], priority=d.priority, lead=d.report.category.lead_department
        )

    def check(self) -> None:
        for iid, row in self.incidents.items():
            handled = Priority(row["priority"])
            top = min(self.reports[iid], key=lambda p: p.rank)
            assert handled is top, (iid, handled, self.reports[iid])
            limits = self.case_rules(row).limits
            for name, clock in row["clocks"].items():
                if ClockName(name) in OWNER and clock["status"] == "running":
                    assert clock["budget_s"] == limits.budget(ClockName(name)).total_seconds(), (
                        name,
                        handled,
                    )
            if handled is Priority.P0:
                assert ClockName.RESOLVE.value not in row["clocks"]
                assert all(t["kind"] == "assist" for t in self.tasks[iid] if t["status"] == "active")


@settings(max_examples=60, deadline=None)
@given(items=reports_st, cuts=st.lists(st.integers(1, 4), min_size=1, max_size=12))
def test_no_incident_is_handled_below_its_most_urgent_report(
    rules: IntakeRules, items: list[tuple[str, Priority | None, float, int]], cuts: list[int]
) -> None:
    store = Store(rules)
    pairs = [_report(n, *item) for n, item in enumerate(items)]
    pairs.sort(key=lambda p: p[0].reported_at)
    i = 0
    for cut in [*cuts, len(pairs)]:
        batch = pairs[i : i + cut]
        i += cut
        if not batch:
            break
        stored = list(store.window.values())
        decisions = rules.decide(
            [b[0] for b in batch], nearby=[stored for _ in batch], candidates=lambda _: PEOPLE, now=NOW
        )
        for d, (_, report) in zip(decisions, batch, strict=True):
            store.apply(d, report)
        store.check()


def test_a_p0_fight_raises_the_p2_case_and_the_task_becomes_an_assist(rules: IntakeRules) -> None:
    store = Store(rules)
    fight, fight_r = _report(1, "public_disturbance", None, 0, 0)
    crime, crime_r = _report(2, "violent_crime", None, 100, 5)
    [opened] = rules.decide([fight], nearby=[[]], candidates=lambda _: PEOPLE, now=NOW)
    store.apply(opened, fight_r)
    [merged] = rules.decide(
        [crime], nearby=[list(store.window.values())], candidates=lambda _: PEOPLE, now=NOW
    )
    assert isinstance(merged, Merged)
    assert (merged.priority, merged.raised_from) == (Priority.P0, Priority.P2)
    store.apply(merged, crime_r)
    store.check()
    row = store.incidents[opened.incident_id]
    assert (row["category"], row["agency_led"]) == ("violent_crime", True)
    [task] = store.tasks[opened.incident_id]
    assert task["kind"] == "assist" and "区公安分局 leads" in task["routing_reason"]


def test_a_less_urgent_report_never_lowers_the_case(rules: IntakeRules) -> None:
    missing, _ = _report(1, "manhole_cover_missing", None, 0, 0)
    damaged, _ = _report(2, "manhole_cover_damaged", None, 50, 1)
    opened, merged = rules.decide([missing, damaged], nearby=[[], []], candidates=lambda _: PEOPLE, now=NOW)
    assert isinstance(opened, Opened) and isinstance(merged, Merged)
    assert (merged.priority, merged.raised_from) == (Priority.P1, None)


def test_a_raise_within_one_batch_is_seen_by_the_next_report(rules: IntakeRules) -> None:
    """A P2 fight, a P0 report of it, then a P1 report: the third report sees the incident at
    P0 (as raised earlier in the batch), so it neither raises nor lowers it."""
    fight, _ = _report(1, "public_disturbance", None, 0, 0)
    crime, _ = _report(2, "violent_crime", None, 20, 1)
    again, _ = _report(3, "public_disturbance", Priority.P1, 40, 2)
    _, b, c = rules.decide([fight, crime, again], nearby=[[], [], []], candidates=lambda _: PEOPLE, now=NOW)
    assert isinstance(b, Merged) and b.priority is Priority.P0
    assert isinstance(c, Merged) and (c.priority, c.raised_from) == (Priority.P0, None)


def test_a_p0_of_another_problem_in_the_family_is_its_own_p0_case(rules: IntakeRules) -> None:
    """Violent crime next to an open theft (same family, not the same problem): no merge, and
    the new case is handled at P0 with an assist task beside the police."""
    theft, _ = _report(1, "theft", None, 0, 0)
    crime, _ = _report(2, "violent_crime", None, 50, 2)
    a, b = rules.decide([theft, crime], nearby=[[], []], candidates=lambda _: PEOPLE, now=NOW)
    assert isinstance(a, Opened) and isinstance(b, Opened)
    assert b.report.priority is Priority.P0 and b.decision.kind.value == "assist"
    assert b.decision.lead_department == "区公安分局" and ClockName.RESOLVE not in b.clocks
