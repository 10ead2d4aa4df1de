"""The alerts flow's pure decisions (dispatch/alerts/rules.py), on in-memory records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.policy import Priority
from dispatch.alerts import rules
from dispatch.alerts.models import AlertState
from dispatch.lifecycle.states import Action, CaseState
from schemas.cap_record import CapRecord, CapReference, MsgType
from schemas.report import Report, report_id_for

AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def record(kind: MsgType, **extra: object) -> CapRecord:
    return CapRecord.model_validate(
        {
            "sender": "s",
            "identifier": f"id-{kind.value}",
            "sent": AT,
            "msg_type": kind,
            "status": "Actual",
            "received_at": AT,
            **extra,
        }
    )


def test_initial_states_by_message_type() -> None:
    assert rules.initial_state(record(MsgType.ALERT)) is AlertState.RECORDED
    assert rules.initial_state(record(MsgType.ALERT, expires=AT)) is AlertState.ACTIVE
    for kind in (MsgType.UPDATE, MsgType.CANCEL):
        assert rules.initial_state(record(kind)) is AlertState.PENDING
    for kind in (MsgType.ACK, MsgType.ERROR):
        assert rules.initial_state(record(kind)) is AlertState.RECORDED


def test_references_resolve_through_any_known_message() -> None:
    refs = [CapReference(sender="s", identifier=i, sent="") for i in ("a", "b")]
    cancel = record(MsgType.CANCEL, references=refs)
    assert rules.resolved_report(cancel, {}) is None
    assert rules.resolved_report(cancel, {("s", "a"): None, ("s", "b"): "r-1"}) == "r-1"
    assert rules.resolved_report(cancel, {("s", "a"): "r-0", ("s", "b"): "r-1"}) == "r-0"
    policy = rules.LifePolicy(timedelta(hours=1))
    assert not rules.gives_up(cancel, AT + timedelta(minutes=59), policy)
    assert rules.gives_up(cancel, AT + timedelta(minutes=61), policy)


def test_a_cancel_withdraws_only_a_case_no_other_report_keeps_open() -> None:
    cancel = record(MsgType.CANCEL, note="解除")
    alone = rules.withdrawal(cancel, report_count=1)
    assert alone.action is Action.WITHDRAW and alone.reason.startswith("cancelled by the source")
    assert alone.reason.endswith(": 解除")
    shared = rules.withdrawal(cancel, report_count=3)
    assert shared.action is None and "2 other report(s) keep the case open" in shared.reason


def test_expiry_closes_only_what_nobody_was_dispatched_to() -> None:
    assert rules.expiry(CaseState.REPORTED, report_count=1) is Action.EXPIRE
    assert rules.expiry(CaseState.REGISTERED, report_count=1) is Action.EXPIRE
    assert rules.expiry(CaseState.REGISTERED, report_count=2) is None
    for state in (CaseState.DISPATCHED, CaseState.ACCEPTED, CaseState.CLOSED, CaseState.RETURNED):
        assert rules.expiry(state, report_count=1) is None


def test_an_update_changes_priority_text_and_place_and_says_what_it_was() -> None:
    incident = {"priority": "P2", "description": "旧", "address": "甲", "geom": "SRID=4326;POINT(106.4 29.5)"}
    update = record(
        MsgType.UPDATE,
        priority=Priority.P1,
        description="新",
        location={"lon": 106.5, "lat": 29.6, "address": "乙", "area": {"circles": [], "polygons": []}},
    )
    amended = rules.amendment(update, incident)
    assert amended.changes == {
        "priority": "P1",
        "description": "新",
        "address": "乙",
        "geom": "SRID=4326;POINT(106.5 29.6)",
    }
    assert amended.raises_to is Priority.P1
    assert amended.data["update"]["before"]["description"] == "旧"  # type: ignore[index]
    lower = rules.amendment(record(MsgType.UPDATE, priority=Priority.P3), incident)
    assert lower.changes == {"priority": "P3"} and lower.raises_to is None
    same = rules.amendment(record(MsgType.UPDATE, priority=Priority.P2, description="旧"), incident)
    assert same.changes == {} and same.raises_to is None


def test_an_orphan_is_an_update_or_cancel_no_referenced_message_of_which_was_seen() -> None:
    policy = rules.LifePolicy(timedelta(days=1), timedelta(minutes=2))
    own = [CapReference(sender="s", identifier="a", sent="")]
    other = [CapReference(sender="cma", identifier="a", sent="")]
    for kind in (MsgType.UPDATE, MsgType.CANCEL):
        mine = record(kind, references=own)
        assert rules.orphaned(mine, {}, AT, policy)  # the sender's own Alert would have come first
        assert not rules.orphaned(mine, {("s", "a"): None}, AT, policy)  # seen: wait for its case
        theirs = record(kind, references=other)
        assert not rules.orphaned(theirs, {}, AT + timedelta(minutes=1), policy)
        assert rules.orphaned(theirs, {}, AT + timedelta(minutes=3), policy)
    assert not rules.orphaned(record(MsgType.ACK, references=own), {}, AT, policy)
    note = rules.orphan_note(record(MsgType.UPDATE, references=own))
    assert note == "CAP Update id-Update: its references (s,a) were never seen"


def test_an_update_gives_its_point_when_it_has_one() -> None:
    assert rules.point_of(record(MsgType.UPDATE, location={"lon": 106.4, "lat": 29.5})) == (106.4, 29.5)
    assert rules.point_of(record(MsgType.UPDATE, location={"address": "x"})) is None
    assert rules.point_of(record(MsgType.UPDATE)) is None


def test_an_orphan_update_opens_its_case_as_the_report_its_chains_alert_makes() -> None:
    own = report_id_for("emergency", "U1")
    doc = {
        "report_id": str(own),
        "source": "emergency",
        "source_ref": "U1",
        "reported_at": AT.isoformat(),
        "received_at": AT.isoformat(),
        "category": "gas_leak",
        "priority": "P0",
        "location": {"lon": 106.47, "lat": 29.55, "crs": "wgs84"},
        "description": "燃气泄漏范围扩大",
        "raw": {"format": "xml", "text": "<alert/>"},
    }
    refs = [
        CapReference(sender="s", identifier="U0", sent="2026-11-25T09:30:00+08:00"),
        CapReference(sender="s", identifier="A", sent="2026-11-25T09:00:00+08:00"),  # the earliest
    ]
    update = record(MsgType.UPDATE, references=refs, report=doc)
    report = rules.orphan_report(update)
    assert report is not None and (report.source_ref, report.description) == ("A", "燃气泄漏范围扩大")
    assert report.report_id == report_id_for("emergency", "A")  # as the adapter publishes Alert A
    assert rules.chain_report_id(update) == str(report.report_id)
    unreadable = [CapReference(sender="s", identifier=i, sent=t) for i, t in (("X", "?"), ("Y", "?"))]
    assert rules.chain_report_id(record(MsgType.CANCEL, references=unreadable)) == str(
        report_id_for("emergency", "X")
    )  # no readable times: the first listed
    assert rules.orphan_report(record(MsgType.UPDATE, report=doc)) == Report.model_validate(doc)
    assert rules.orphan_report(record(MsgType.CANCEL, references=refs)) is None
    assert rules.chain_report_id(record(MsgType.CANCEL)) is None
