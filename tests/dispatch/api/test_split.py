"""Splitting a report out of a case over HTTP, on the real database and broker: the report
becomes a case of its own, routed at once, with events on both cases; hostile bodies are
refused naming the field, never a 5xx."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from config.settings import Settings
from dispatch.intake.rules import incident_id_for
from geo.reference import ReferenceDistrict
from schemas.report import Report
from tests.casework import harness, report_in
from tests.dispatch.api.conftest import STREET_A, STREET_B, Tokens

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def _merged_pair(
    settings: Settings, engine: Engine, district: ReferenceDistrict
) -> tuple[str, Report, Report]:
    """A missing cover (hotline) and, 80 m away, a damaged one (citymgmt): one problem, one case."""
    grid = next(i for i, g in enumerate(district.grids) if g.street_code == STREET_A and i > 20)
    missing = report_in(district, grid, category="manhole_cover_missing", source="hotline")
    damaged = report_in(district, grid, category="manhole_cover_damaged", source="citymgmt", offset_m=80)

    async def go() -> list[str]:
        async with harness(settings, engine) as h:
            return await h.report([missing, damaged])

    first, second = asyncio.run(go())
    assert first == second, "the two covers should have merged"
    return first, missing, damaged


def test_split_opens_a_routed_case_with_events_on_both(
    client: TestClient, kafka: Settings, engine: Engine, district: ReferenceDistrict, tokens: Tokens
) -> None:
    iid, missing, damaged = _merged_pair(kafka, engine, district)
    op = tokens.operator(STREET_A)
    body = {"report_id": str(damaged.report_id), "reason": "另一处井盖，不是同一问题"}
    assert (
        client.post(f"/incidents/{iid}/split", headers=tokens.operator(STREET_B), json=body).status_code
        == 404
    )
    key = {"Idempotency-Key": f"split-{uuid.uuid4()}"}
    done = client.post(f"/incidents/{iid}/split", headers={**op, **key}, json=body)
    assert done.status_code == 200, done.text
    answer = done.json()
    left, new = answer["incident"], answer["split"]["incident"]
    assert (left["incident_id"], left["report_count"], left["sources"]) == (iid, 1, ["hotline"])
    [event] = answer["events"]
    assert (event["action"], event["actor_id"]) == ("split", "op-" + STREET_A)
    assert event["data"]["split"]["into"] == new["incident_id"] == incident_id_for(str(damaged.report_id))
    # the report's own case: opened, registered, routed and dispatched at once, at its own priority
    assert (new["state"], new["priority"], new["sources"], new["report_count"]) == (
        "dispatched",
        "P3",
        ["citymgmt"],
        1,
    )
    assert [e["action"] for e in answer["split"]["events"]] == ["report", "register", "dispatch"]
    assert answer["split"]["events"][0]["data"]["split_from"] == iid
    [task] = answer["split"]["tasks"]
    assert task["assignee_id"] == new["assignee_id"] and task["kind"] == "main"
    # a retry with the key answers the same and applies nothing
    again = client.post(f"/incidents/{iid}/split", headers={**op, **key}, json=body)
    assert again.json() == answer and again.headers.get("Idempotent-Replayed") == "true"
    # each case shows its own reports; each source is told the outcome of the case its report is in
    detail = client.get(f"/incidents/{iid}", headers=op).json()
    assert [r["report_id"] for r in detail["reports"]] == [str(missing.report_id)]
    assert [e["action"] for e in detail["events"]][-1] == "split"
    other = client.get(f"/incidents/{new['incident_id']}", headers=op).json()
    assert [r["report_id"] for r in other["reports"]] == [str(damaged.report_id)]
    with engine.connect() as conn:
        home = conn.execute(
            text("SELECT incident_id::text, merged FROM reports WHERE report_id = :r"),
            {"r": str(damaged.report_id)},
        ).one()
    assert tuple(home) == (new["incident_id"], False)
    # it is no longer in the first case; the report that opened a case cannot be split out of it
    gone = client.post(f"/incidents/{iid}/split", headers=op, json=body)
    assert gone.status_code == 422 and gone.json()["field"] == "report_id"
    founding = client.post(
        f"/incidents/{iid}/split", headers=op, json={"report_id": str(missing.report_id), "reason": "x"}
    )
    assert founding.status_code == 422 and "opened the case" in founding.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"report_id": "not-a-uuid", "reason": "x"},
        {"report_id": str(uuid.uuid4())},
        {"report_id": str(uuid.uuid4()), "reason": ""},
        {"report_id": str(uuid.uuid4()), "reason": "x" * 2001},
        {"report_id": str(uuid.uuid4()), "reason": "x", "extra": 1},
        {"report_id": [], "reason": {}},
    ],
)
def test_hostile_split_bodies_are_refused_naming_the_field(
    client: TestClient, tokens: Tokens, body: dict[str, object]
) -> None:
    response = client.post(f"/incidents/{uuid.uuid4()}/split", headers=tokens.operator(), json=body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "nasty", ["'; DROP TABLE reports; --", "\u0000", "<script>alert(1)</script>", "A" * 1999]
)
def test_nasty_reasons_never_break_the_split(client: TestClient, tokens: Tokens, nasty: str) -> None:
    """An unknown case answers 404 whatever the reason says (nothing reaches SQL as text)."""
    response = client.post(
        f"/incidents/{uuid.uuid4()}/split",
        headers=tokens.operator(),
        json={"report_id": str(uuid.uuid4()), "reason": nasty},
    )
    assert response.status_code in (404, 422), response.text
