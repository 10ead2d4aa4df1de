"""config/sla.toml: the SLA table, per-category limits, overrides and the loader's checks."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from typing import Any

import pytest

from config.policy import CONFIG_DIR, Duration, PolicyError, Priority, Taxonomy
from dispatch.sla.calendar import ClockKind
from dispatch.sla.clocks import ClockName
from dispatch.sla.deadlines import Deadlines
from dispatch.sla.policy import Area, SlaPolicy, load_sla, parse_sla
from tests.dispatch.helpers import sh

H = timedelta(hours=1)
M = timedelta(minutes=1)


def _doc() -> dict[str, Any]:
    with (CONFIG_DIR / "sla.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_shipped_table_matches_the_design(sla: SlaPolicy) -> None:
    p0, p1, p2, p3, p4 = (sla.priorities[p] for p in Priority)
    assert (p0.clock, p0.register, p0.accept, p0.on_site, p0.resolve) == (
        ClockKind.NATURAL,
        Duration(1, "min"),
        Duration(3, "min"),
        Duration(10, "min"),
        None,
    )
    assert (p1.register, p1.accept, p1.on_site, p1.resolve) == (
        Duration(10, "min"),
        Duration(15, "min"),
        Duration(1, "h"),
        Duration(2, "h"),
    )
    assert (p2.clock, p2.on_site, p2.resolve) == (ClockKind.NATURAL, None, Duration(24, "h"))
    assert (p3.clock, p3.register, p3.accept, p3.resolve) == (
        ClockKind.WORKING,
        Duration(30, "min"),
        Duration(1, "h"),
        Duration(5, "d"),
    )
    assert (p4.clock, p4.register, p4.accept) == (ClockKind.WORKING, Duration(1, "d"), Duration(1, "d"))
    assert sla.verify == {Area.CITY: Duration(1, "h"), Area.RURAL: Duration(2, "h")}
    assert (sla.extension.max_count, sla.extension.max) == (1, Duration(10, "d"))
    assert sla.hours.day == 7 * H


@pytest.mark.parametrize(
    ("category", "priority", "kind", "expected"),
    [
        # category limits in the priority's clock: "1d" working is 7 h, "1d" natural 24 h
        (
            "exposed_garbage",
            Priority.P3,
            ClockKind.WORKING,
            {"resolve": 4 * H, "accept": H, "register": 30 * M},
        ),
        ("streetlight_out", Priority.P3, ClockKind.WORKING, {"resolve": 7 * H}),
        ("illegal_construction", Priority.P4, ClockKind.WORKING, {"resolve": 140 * H, "accept": 7 * H}),
        ("hotline_complaint", Priority.P4, ClockKind.WORKING, {"resolve": 105 * H}),
        ("facility_damaged", Priority.P3, ClockKind.WORKING, {"resolve": 35 * H}),  # P3 default 5d
        ("theft", Priority.P2, ClockKind.NATURAL, {"resolve": 24 * H, "on_site": None}),
        ("water_outage", Priority.P2, ClockKind.NATURAL, {"resolve": 24 * H, "accept": 30 * M}),
        ("manhole_cover_missing", Priority.P1, ClockKind.NATURAL, {"resolve": 2 * H, "on_site": H}),
        ("fire", Priority.P0, ClockKind.NATURAL, {"resolve": None, "accept": 3 * M, "on_site": 10 * M}),
        # a source raising the priority: the smaller of category and priority limits, new clock
        ("theft", Priority.P1, ClockKind.NATURAL, {"resolve": 2 * H}),
        ("exposed_garbage", Priority.P1, ClockKind.NATURAL, {"resolve": 2 * H}),
        ("illegal_construction", Priority.P3, ClockKind.WORKING, {"resolve": 35 * H}),
        ("exposed_garbage", Priority.P2, ClockKind.NATURAL, {"resolve": 4 * H}),
        # lowering keeps the category's own limit, read in the new clock
        ("theft", Priority.P3, ClockKind.WORKING, {"resolve": 7 * H}),
        # any P0 is agency-led: no grid resolve clock whatever the category says
        ("theft", Priority.P0, ClockKind.NATURAL, {"resolve": None}),
    ],
)
def test_case_limits(
    deadlines: Deadlines,
    category: str,
    priority: Priority,
    kind: ClockKind,
    expected: dict[str, timedelta | None],
) -> None:
    limits = deadlines.limits(category, priority)
    assert limits.kind is kind
    for name, budget in expected.items():
        assert limits.budget(ClockName(name)) == budget, name


def test_verification_depends_on_the_area(deadlines: Deadlines) -> None:
    assert deadlines.limits("exposed_garbage", Priority.P3).budget(ClockName.VERIFY) == H
    assert deadlines.limits("exposed_garbage", Priority.P3, Area.RURAL).budget(ClockName.VERIFY) == 2 * H
    # read in the priority's clock: resolved on Friday 17:30, verified by Monday 10:30 in a town
    due = deadlines.deadline(
        "exposed_garbage", Priority.P3, ClockName.VERIFY, sh(2025, 3, 7, 17, 30), Area.RURAL
    )
    assert due == sh(2025, 3, 10, 10, 30)


def test_deadlines_for_new_cases(deadlines: Deadlines) -> None:
    start = sh(2024, 9, 30, 16)  # the Monday before National Day 2024
    assert deadlines.deadline("exposed_garbage", Priority.P3, ClockName.RESOLVE, start) == sh(2024, 10, 8, 11)
    assert deadlines.deadline("illegal_construction", Priority.P4, ClockName.RESOLVE, start) == sh(
        2024, 11, 1, 16
    )
    assert deadlines.deadline("waterlogging", Priority.P1, ClockName.RESOLVE, start) == sh(2024, 9, 30, 18)
    assert deadlines.deadline("fire", Priority.P0, ClockName.RESOLVE, start) is None
    assert deadlines.deadline("water_outage", Priority.P2, ClockName.ON_SITE, start) is None
    clock = deadlines.start("fire", Priority.P0, ClockName.ACCEPT, start)
    assert clock is not None and clock.budget == 3 * M
    assert deadlines.start("fire", Priority.P0, ClockName.RESOLVE, start) is None


def test_limits_are_cached_per_case_kind(deadlines: Deadlines) -> None:
    assert deadlines.limits("road_dirt", Priority.P3) is deadlines.limits("road_dirt", Priority.P3)


def test_unknown_category_is_named(deadlines: Deadlines) -> None:
    with pytest.raises(PolicyError, match="unknown category 'ufo'"):
        deadlines.limits("ufo", Priority.P3)


@pytest.mark.parametrize(
    ("amount", "allowed"),
    [
        (Duration(10, "d"), True),
        (Duration(11, "d"), False),
        (Duration(70, "h"), True),
        (Duration(71, "h"), False),
    ],
)
def test_extension_cap_is_in_working_days(sla: SlaPolicy, amount: Duration, allowed: bool) -> None:
    assert sla.extension.allows(amount) is allowed


def _broken(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = _doc()
    table = doc
    for key in path[:-1]:
        table = table[key]
    if value is None:
        del table[path[-1]]
    else:
        table[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("priority", "P2"), None, "priority.P2: missing"),
        (("priority", "P3", "clock"), "sundial", "clock must be one of"),
        (("priority", "P3", "accept"), "soon", "bad duration"),
        (("priority", "P3", "accept"), 30, "must be a duration"),
        (("priority", "P1", "register"), None, "'register' is required"),
        (("priority", "P9"), {"clock": "natural"}, "unknown priorities"),
        (("verify", "rural"), None, "'rural' is required"),
        (("extension", "max_count"), -1, "max_count"),
        (("working_time", "timezone"), None, "timezone"),
        (("working_time", "hours"), [["14:00", "12:00"]], "end after"),
    ],
)
def test_loader_names_the_bad_field(path: tuple[str, ...], value: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_sla(_broken(path, value))


def test_a_category_left_without_resolve_limit_is_refused(taxonomy: Taxonomy) -> None:
    policy = parse_sla(_broken(("priority", "P3", "resolve"), None))
    with pytest.raises(PolicyError, match=r"P3 has no resolve limit.*'exposed_garbage' is not agency_led"):
        policy.check(taxonomy)


def test_load_refuses_broken_toml(tmp_path: Any) -> None:
    bad = tmp_path / "sla.toml"
    bad.write_text("[priority\n")
    with pytest.raises(PolicyError, match=r"sla\.toml"):
        load_sla(bad)
