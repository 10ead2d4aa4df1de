"""The notices' pure rules: which notices an event makes, the state table, climbing, policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config.policy import PolicyError
from dispatch.lifecycle.states import Action
from dispatch.notices.models import Desk, DeskError, DeskLevel, NoticeAction, NoticeKind, NoticeState
from dispatch.notices.rules import (
    NOTICE_ACTIONS,
    TRANSITIONS,
    CaseEventDoc,
    EventData,
    NoticeInputError,
    NoticeRefused,
    advance,
    check_answer,
    climbed,
    load_notice_policy,
    notices_for,
    parse_notice_policy,
)

AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
GRID = "500106001001003"
POLICY = load_notice_policy()


def event(case_action: str = "escalate", **escalation: Any) -> CaseEventDoc:
    data = {"escalation": {"step": "red", "action": "urge", "target": "community_lead", **escalation}}
    return CaseEventDoc.model_validate(
        {
            "incident_id": "6f1c0e0e-0000-4000-8000-000000000001",
            "sequence": 7,
            "action": case_action,
            "actor_id": "sla",
            "at": AT.isoformat(),
            "reason": "red: resolve clock at 100% of its limit",
            "grid_code": GRID,
            "street_code": GRID[:9],
            "data": data if case_action == "escalate" else {},
        }
    )


def test_an_urge_is_one_notice_to_the_community_lead_with_its_receive_limit() -> None:
    (n,) = notices_for(event(), POLICY)
    assert n.desk == Desk(DeskLevel.COMMUNITY_LEAD, GRID[:12])
    assert n.kind is NoticeKind.URGE and n.notice_id == f"{n.event_id}>community_lead:{GRID[:12]}"
    assert n.receive_by == AT + POLICY.receive_within[NoticeKind.URGE]
    assert n.title == "催办：red: resolve clock at 100% of its limit"
    (timed,) = notices_for(event(clock="resolve", fraction=1.0), POLICY)
    assert timed.title == "催办：处置时限已用 100%"


def test_the_same_event_makes_the_same_ids() -> None:
    assert [n.notice_id for n in notices_for(event(), POLICY)] == [
        n.notice_id for n in notices_for(event(), POLICY)
    ]


@pytest.mark.parametrize(
    ("escalation", "expected"),
    [
        ({"overtaken": True}, []),  # after an outage only the highest level is told
        ({"action": "remind", "target": "assignee", "step": "yellow"}, []),  # the worker's, not a desk's
        ({"action": "escalate", "target": "street_center"}, [("escalate", f"street_center:{GRID[:9]}")]),
        (
            {
                "action": "supervise",
                "target": "district_center",
                "copy_to_ids": ["unit:城管局"],
            },
            [("supervise", "district_center:500106"), ("whistle", "department:城管局")],
        ),
        (
            {"step": "manual", "action": "escalate", "target": "street_center"},
            [("manual", f"street_center:{GRID[:9]}")],
        ),
    ],
)
def test_which_desks_hear_of_a_step(escalation: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(n.kind.value, str(n.desk)) for n in notices_for(event(**escalation), POLICY)] == expected


def unplaced(**escalation: Any) -> CaseEventDoc:
    """An escalation of a case no grid covers: no grid, community or street code anywhere."""
    doc = event(**escalation).model_dump(mode="json") | {"grid_code": None, "street_code": None}
    return CaseEventDoc.model_validate(doc)


SUPERVISE: dict[str, Any] = {
    "action": "supervise",
    "target": "district_center",
    "copy_to_ids": ["unit:城管局"],
}


@pytest.mark.parametrize(
    ("district", "desk"),
    [
        ("city", "district_center:city"),
        ("500107", "district_center:500107"),
        ("500106", "district_center:500106"),
    ],
)
def test_a_case_at_a_center_without_a_street_tells_its_own_districts_center(district: str, desk: str) -> None:
    made = notices_for(unplaced(**SUPERVISE), POLICY, district=district)
    assert [(n.kind.value, str(n.desk)) for n in made] == [
        ("supervise", desk),
        ("whistle", "department:城管局"),
    ]
    (manual,) = notices_for(
        unplaced(step="manual", action="escalate", target="district_center"), POLICY, district=district
    )
    assert (manual.kind, str(manual.desk), manual.street_code) == (NoticeKind.MANUAL, desk, None)
    assert climbed(made[0], POLICY, made[0].receive_by + timedelta(days=1)) is None  # the top already
    # no desk below the center: the steps to the community lead and the street center tell nobody
    assert notices_for(unplaced(), POLICY, district=district) == []
    assert notices_for(unplaced(action="escalate", target="street_center"), POLICY, district=district) == []


def test_without_its_district_a_case_at_a_center_tells_nobody_and_a_streets_case_its_codes_district() -> None:
    assert notices_for(unplaced(**SUPERVISE), POLICY)[0].desk.level is DeskLevel.DEPARTMENT  # 吹哨 only
    jlp = event(**SUPERVISE).model_dump(mode="json") | {"grid_code": "500107003002001", "street_code": None}
    (center, _) = notices_for(CaseEventDoc.model_validate(jlp), POLICY)
    assert str(center.desk) == "district_center:500107"  # a 九龙坡 case: never 沙坪坝's desk
    (told, _) = notices_for(CaseEventDoc.model_validate(jlp), POLICY, district="500107")
    assert told.desk == center.desk


def test_a_reassignment_tells_the_community_lead_and_other_events_nothing() -> None:
    (n,) = notices_for(event("reassign"), POLICY)
    assert n.kind is NoticeKind.REASSIGN and n.desk == Desk(DeskLevel.COMMUNITY_LEAD, GRID[:12])
    assert notices_for(event("accept"), POLICY) == []


def test_the_state_table_allows_exactly_receive_answer_and_climb() -> None:
    for state in NoticeState:
        for action in NoticeAction:
            if (state, action) in TRANSITIONS:
                assert advance(state, action) is TRANSITIONS[(state, action)]
            else:
                with pytest.raises(NoticeRefused):
                    advance(state, action)
    assert advance(NoticeState.SENT, NoticeAction.RECEIVE) is NoticeState.RECEIVED
    assert advance(NoticeState.RECEIVED, NoticeAction.ANSWER) is NoticeState.ANSWERED


def test_an_unreceived_supervision_climbs_one_rung_and_stops_at_the_district() -> None:
    (community,) = notices_for(event(action="supervise"), POLICY)
    assert climbed(community, POLICY, community.receive_by - timedelta(seconds=1)) is None
    street = climbed(community, POLICY, community.receive_by)
    assert street is not None and street.desk == Desk(DeskLevel.STREET_CENTER, GRID[:9]) and street.rung == 1
    assert (
        street.notice_id == community.notice_id + "^" and street.data["climbed_from"] == community.notice_id
    )
    district = climbed(street, POLICY, street.receive_by)
    assert district is not None and district.desk == Desk(DeskLevel.DISTRICT_CENTER, "500106")
    assert climbed(district, POLICY, district.receive_by + timedelta(days=1)) is None


def test_an_urge_does_not_climb() -> None:
    (n,) = notices_for(event(), POLICY)
    assert climbed(n, POLICY, n.receive_by + timedelta(days=1)) is None


def test_an_answer_names_what_and_a_future_aware_date() -> None:
    assert check_answer("  明早派人更换井盖 ", AT + timedelta(hours=1), AT) == "明早派人更换井盖"
    with pytest.raises(NoticeInputError, match="what"):
        check_answer(" ", AT + timedelta(hours=1), AT)
    with pytest.raises(NoticeInputError, match="by"):
        check_answer("x", AT - timedelta(hours=1), AT)
    with pytest.raises(NoticeInputError, match="by"):
        check_answer("x", datetime(2026, 11, 26, 10, 0), AT)  # noqa: DTZ001 - naive on purpose


def test_desk_names_parse_or_say_why() -> None:
    assert str(Desk.parse("department:城管局")) == "department:城管局"
    for bad in ("street_center", "mayor:1", "community_lead:"):
        with pytest.raises(DeskError):
            Desk.parse(bad)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"receive_within": {"urge": "2h"}}, "receive_within.escalate"),
        (
            {"receive_within": dict.fromkeys([k.value for k in NoticeKind], "2h") | {"urge": "soon"}},
            "bad duration",
        ),
        (
            {"receive_within": dict.fromkeys([k.value for k in NoticeKind], "2h"), "climb": {"kinds": ["x"]}},
            "climb.kinds",
        ),
    ],
)
def test_a_bad_policy_names_its_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(PolicyError, match=field):
        parse_notice_policy(doc)


def test_only_the_notice_actions_make_notices() -> None:
    # the notices agent skips every other event unread: no other action may make a notice,
    # even one carrying an escalation document
    data = {"escalation": {"step": "red", "action": "urge", "target": "community_lead"}}
    for action in Action:
        doc = event(action.value).model_copy(update={"data": EventData.model_validate(data)})
        made = notices_for(doc, POLICY)
        assert bool(made) == (action.value in NOTICE_ACTIONS), action
