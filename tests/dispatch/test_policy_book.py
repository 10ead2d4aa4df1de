"""The policy book: the shared policy and each district's overrides, merged, checked and looked up."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from config.policy import CONFIG_DIR, Duration, PolicyError, Priority, Taxonomy, read_toml
from dispatch.sla.calendar import Timekeeper
from dispatch.sla.clocks import ClockName
from dispatch.sla.policy import Area
from dispatch.sla.policy_book import PolicyBook, build_policy_book, load_policy_book

SLA = read_toml(CONFIG_DIR / "sla.toml")
ESCALATION = read_toml(CONFIG_DIR / "escalation.toml")
H = timedelta(hours=1)


def book(districts: dict[str, Any], taxonomy: Taxonomy, tk: Timekeeper) -> PolicyBook:
    return build_policy_book(
        sla=SLA,
        escalation=ESCALATION,
        districts={"district": districts},
        taxonomy=taxonomy,
        origins=("sla.toml", "escalation.toml", "districts.toml"),
        tk=tk,
    )


def ladder(name: str, clocks: list[str], *steps: tuple[str, float, str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "clocks": clocks,
        "step": [
            {"name": n, "at": at, "action": action, "target": target} for n, at, action, target in steps
        ],
    }


def test_the_shipped_book_gives_jiulongpo_its_own_limits_and_ladder(taxonomy: Taxonomy) -> None:
    shipped = load_policy_book(taxonomy=taxonomy)
    jlp, spb = shipped.of("500107"), shipped.of("500106")
    assert (
        spb is shipped.shared and shipped.of("city") is shipped.shared and shipped.of(None) is shipped.shared
    )
    assert jlp.overrides == (
        "sla.priority.P3.accept",
        "sla.category.exposed_garbage.resolve",
        "escalation.ladder.assignee",
    )
    mine, shared = (p.deadlines.limits("exposed_garbage", Priority.P3) for p in (jlp, spb))
    assert (mine.budget(ClockName.ACCEPT), shared.budget(ClockName.ACCEPT)) == (H / 2, H)
    assert (mine.budget(ClockName.RESOLVE), shared.budget(ClockName.RESOLVE)) == (2 * H, 4 * H)
    # what 九龙坡 does not name is the shared policy's
    assert jlp.deadlines.limits("manhole_cover_missing", Priority.P1) == spb.deadlines.limits(
        "manhole_cover_missing", Priority.P1
    )
    assert jlp.sla.priorities[Priority.P4] == spb.sla.priorities[Priority.P4]
    street = {s.name: s.at for s in jlp.escalation.ladders[0].steps}
    assert (
        street["street"] == 1.5 and {s.name: s.at for s in spb.escalation.ladders[0].steps}["street"] == 2.0
    )
    assert jlp.escalation.ladder_for(ClockName.REGISTER) == spb.escalation.ladder_for(ClockName.REGISTER)
    assert jlp.escalation.fingerprint != spb.escalation.fingerprint
    assert [p.fingerprint for p in shipped.escalations()] == [
        spb.escalation.fingerprint,
        jlp.escalation.fingerprint,
    ]


def test_an_sla_override_merges_key_by_key(taxonomy: Taxonomy, tk: Timekeeper) -> None:
    b = book(
        {"500199": {"sla": {"priority": {"P1": {"accept": "5min"}}, "verify": {"rural": "3h"}}}}, taxonomy, tk
    )
    mine, shared = b.of("500199").sla, b.shared.sla
    assert mine.priorities[Priority.P1].accept == Duration(5, "min")
    assert mine.priorities[Priority.P1].register == shared.priorities[Priority.P1].register
    assert mine.priorities[Priority.P1].resolve == shared.priorities[Priority.P1].resolve
    assert mine.verify == {Area.CITY: shared.verify[Area.CITY], Area.RURAL: Duration(3, "h")}
    assert b.of("500199").escalation is b.shared.escalation  # no ladder named: the shared one
    assert b.of("500199").overrides == ("sla.priority.P1.accept", "sla.verify.rural")


def test_a_category_limit_of_a_district_keeps_the_more_urgent_rule(
    taxonomy: Taxonomy, tk: Timekeeper
) -> None:
    b = book({"city": {"sla": {"category": {"illegal_construction": {"resolve": "30d"}}}}}, taxonomy, tk)
    city, category = b.of("city").sla, taxonomy.category("illegal_construction")
    assert city.resolve_limit(category, category.priority) == Duration(30, "d")
    # raised to P3 by a source: the smaller of the category's and P3's (5 working days)
    assert city.resolve_limit(category, Priority.P3) == Duration(5, "d")
    assert b.shared.sla.resolve_limit(category, category.priority) == category.resolve


def test_a_district_ladder_replaces_the_shared_one_of_its_name_or_adds_one(
    taxonomy: Taxonomy, tk: Timekeeper
) -> None:
    shorter = ladder("command_center", ["register"], ("red", 1.0, "urge", "district_center"))
    own = ladder("verify_desk", ["verify"], ("half", 0.5, "remind", "street_center"))
    b = book({"500199": {"escalation": {"ladder": [shorter, own]}}}, taxonomy, tk)
    policy = b.of("500199").escalation
    assert [ld.name for ld in policy.ladders] == ["assignee", "command_center", "verify_desk"]
    register, verify = policy.ladder_for(ClockName.REGISTER), policy.ladder_for(ClockName.VERIFY)
    assert register is not None and [s.target.value for s in register.steps] == ["district_center"]
    assert verify is not None and verify.name == "verify_desk"
    assert policy.ladder_for(ClockName.ACCEPT) == b.shared.escalation.ladder_for(ClockName.ACCEPT)
    assert policy.returns_to_lead == b.shared.escalation.returns_to_lead


def _with(path: list[str], value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    here = out
    for key in path[:-1]:
        here = here.setdefault(key, {})
    here[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"500107": _with(["sla", "priorty", "P1", "accept"], "5min")},
            "district.500107.sla.priorty: unknown table (one of priority, verify, extension, category)",
        ),
        (
            {"500107": _with(["sla", "priority", "P1", "acept"], "5min")},
            "districts.toml: district.500107.sla.priority.P1.acept: unknown field",
        ),
        (
            {"500107": _with(["sla", "priority", "P9", "accept"], "5min")},
            "districts.toml: district.500107.sla.priority.P9: unknown field (one of P0, P1, P2, P3, P4)",
        ),
        (
            {"500107": _with(["sla", "priority", "P1", "accept"], "soon")},
            "districts.toml: district.500107.sla: priority.P1.accept: bad duration 'soon'",
        ),
        (
            {"500107": _with(["sla", "working_time", "hours"], [["08:00", "17:00"]])},
            "district.500107.sla.working_time: not per district (one working calendar",
        ),
        (
            {"500107": _with(["escalation", "returns", "to_community_lead_after"], 3)},
            "district.500107.escalation.returns: not per district",
        ),
        (
            {"500107": _with(["sla", "category", "unicorns", "resolve"], "1h")},
            "districts.toml: district.500107.sla: category: unknown categories ['unicorns']",
        ),
        (
            {"500107": _with(["sla", "category", "exposed_garbage", "accept"], "1h")},
            "district.500107.sla.category.exposed_garbage.accept: unknown field (one of resolve)",
        ),
        ({"jiulongpo": {"name": "九龙坡区"}}, "district.jiulongpo: a district is named by its 6-digit code"),
        ({"500107": {"ladder": []}}, "district.500107.ladder: unknown field (one of escalation, name, sla)"),
        (
            {"500107": {"escalation": {"ladder": [{"clocks": ["accept"]}]}}},
            "district.500107.escalation.ladder[0].name: a district's ladder needs the name",
        ),
        (
            {
                "500107": {
                    "escalation": {
                        "ladder": [ladder("mine", ["accept"], ("x", 1.0, "urge", "street_center"))]
                    }
                }
            },
            "district.500107.escalation: clock accept is on two ladders",
        ),
    ],
)
def test_a_bad_override_is_refused_naming_its_file_and_field(
    section: dict[str, Any], message: str, taxonomy: Taxonomy, tk: Timekeeper
) -> None:
    with pytest.raises(PolicyError) as refused:
        book(copy.deepcopy(section), taxonomy, tk)
    assert message in str(refused.value)
    assert str(refused.value).startswith("districts.toml: district.")
