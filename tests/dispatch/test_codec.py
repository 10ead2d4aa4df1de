from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from config.policy import Duration
from dispatch.codec import case_columns, case_from, clocks_doc, clocks_from, event_doc, event_from
from dispatch.lifecycle.case import Actor, CaseEvent, CaseSnapshot
from dispatch.lifecycle.states import Action, CaseState, Role
from dispatch.scope import Scope
from dispatch.sla.calendar import ClockKind
from dispatch.sla.clocks import ClockName, ClockState, ClockStatus

T = datetime(2025, 3, 4, 1, 2, 3, 456789, tzinfo=UTC)


def roundtrip(doc: dict[str, object]) -> dict[str, object]:
    return orjson.loads(orjson.dumps(doc))  # type: ignore[no-any-return]


def test_case_snapshot_roundtrips_through_its_row() -> None:
    case = CaseSnapshot(
        case_id="c1",
        state=CaseState.EXTENSION_REQUESTED,
        street_code="500106001",
        sources=frozenset({"police", "hotline"}),
        version=7,
        updated_at=T,
        assignee_id="W1",
        previous_state=CaseState.ON_SITE,
        returns=1,
        returned_by=frozenset({"W0"}),
        reworks=1,
        reopens=0,
        extension_requests=1,
        requested_extension=Duration(5, "d"),
        merged_into=None,
    )
    row = {"incident_id": "c1", "street_code": "500106001", "updated_at": T, **case_columns(case)}
    assert case_from(roundtrip(row)) == case
    assert not set(row["case"]) & set(row), "the case document holds only what no column does"


def test_event_roundtrips_through_json() -> None:
    event = CaseEvent(
        case_id="c1",
        sequence=3,
        action=Action.DISPATCH,
        from_state=CaseState.REGISTERED,
        to_state=CaseState.DISPATCHED,
        actor=Actor(Role.OPERATOR, "op-7", Scope(street="500106002")),
        at=T,
        reason="manual",
        assignee_id="W9",
        extension=Duration(2, "d"),
        sources=frozenset({"fire"}),
    )
    back = event_from(roundtrip(event_doc(event)))
    assert back == event and back.event_id == "c1:3"


def test_clocks_roundtrip_through_json() -> None:
    clocks = {
        ClockName.ACCEPT: ClockState(
            ClockName.ACCEPT,
            ClockKind.WORKING,
            timedelta(hours=1),
            T,
            ClockStatus.PAUSED,
            T + timedelta(minutes=5),
            timedelta(minutes=5),
            timedelta(0),
            1,
        ),
        ClockName.RESOLVE: ClockState.start(ClockName.RESOLVE, ClockKind.NATURAL, timedelta(hours=2), T),
    }
    assert clocks_from(roundtrip(clocks_doc(clocks))) == clocks
