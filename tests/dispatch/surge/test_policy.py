"""Surge policies: reading config/surge.toml, matching CAP alerts and operator picks, bad entries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from config.policy import PolicyError, load_taxonomy
from dispatch.surge.policy import load_surge_policy, parse_surge_policy

COLOURS = {"Red": "Extreme", "Orange": "Severe", "Yellow": "Moderate", "Blue": "Minor"}


def test_the_shipped_policy_has_the_red_rainstorm_rule() -> None:
    policy = load_surge_policy()
    rule = policy.rule("暴雨", "红色")
    assert rule is not None
    assert {"waterlogging", "landslide", "manhole_cover_missing"} <= rule.categories
    assert (rule.raise_by, rule.limits_factor, rule.community_forces, rule.exclude_volunteers) == (
        1,
        0.5,
        True,
        True,
    )
    assert policy.default_duration == timedelta(hours=12)


@pytest.mark.parametrize(
    ("event", "severity", "headline", "level"),
    [
        ("暴雨预警", "Extreme", "", "红色"),
        ("暴雨预警", "Severe", "", "橙色"),
        ("暴雨预警", "Severe", "沙坪坝区气象局发布暴雨红色预警信号", "红色"),  # the headline's colour wins
        ("Rainstorm", "Moderate", "发布暴雨黄色预警", "黄色"),  # the headline names the type
        ("地质灾害气象风险预警", "Extreme", "", "红色"),
    ],
)
def test_a_cap_alert_finds_its_rule(event: str, severity: str, headline: str, level: str) -> None:
    rule = load_surge_policy().rule_for(event, severity, headline)
    assert rule is not None and rule.level == level and rule.warning in event + headline


@pytest.mark.parametrize(
    ("event", "severity"), [("暴雨预警", "Minor"), ("高温预警", "Extreme"), ("暴雨预警", "Unknown")]
)
def test_no_rule_no_surge(event: str, severity: str) -> None:
    assert load_surge_policy().rule_for(event, severity) is None


def _doc(**change: Any) -> dict[str, Any]:
    entry = {
        "warning": "暴雨",
        "level": "红色",
        "categories": ["waterlogging"],
        "raise_by": 1,
        "limits_factor": 0.5,
        "community_forces": True,
        "exclude_volunteers": True,
    } | change
    return {"default_hours": 12, "policy": [entry]}


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"level": "紫色"}, "'level'"),
        ({"warning": ""}, "'warning'"),
        ({"categories": ["no_such"]}, "unknown category 'no_such'"),
        ({"categories": []}, "'categories'"),
        ({"limits_factor": 2}, "'limits_factor'"),
        ({"limits_factor": True}, "'limits_factor'"),
        ({"raise_by": -1}, "'raise_by'"),
        ({"community_forces": "yes"}, "'community_forces'"),
    ],
)
def test_a_bad_entry_is_an_error_naming_the_key(change: dict[str, Any], names: str) -> None:
    with pytest.raises(PolicyError, match=names):
        parse_surge_policy(_doc(**change), taxonomy=load_taxonomy(), colours=COLOURS)


def test_two_policies_for_one_warning_level_are_refused() -> None:
    doc = _doc()
    doc["policy"] = doc["policy"] * 2
    with pytest.raises(PolicyError, match="a second policy"):
        parse_surge_policy(doc, taxonomy=load_taxonomy(), colours=COLOURS)
