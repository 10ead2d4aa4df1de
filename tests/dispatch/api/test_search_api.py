"""GET /search on the real database and broker: a case is found by its agency reference, a
report or case id, the reporter's phone (through the keyed hash only) or address text; a merged
report leads to the case it joined; a street operator never finds another street's case."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from config.settings import Settings
from dispatch.search.phones import phone_digest
from dispatch.search.reindex import rehash_phones
from geo.reference import ReferenceDistrict
from schemas.report import Location, Report, Reporter
from tests.casework import harness, report_in
from tests.dispatch.api.conftest import STREET_A, STREET_B, Tokens

pytestmark = [pytest.mark.db, pytest.mark.kafka]


@dataclass(frozen=True)
class Found:
    phone: str
    street: str  # text in both cases' addresses
    a: Report  # street A
    a_case: str
    b: Report  # street B, the same caller
    b_case: str
    merged: Report  # merged into a's case
    merged_case: str


def _with(report: Report, *, phone: str, address: str) -> Report:
    location = Location(**{**report.location.model_dump(), "address": address})
    return report.model_copy(update={"reporter": Reporter(name="李四", phone=phone), "location": location})


@pytest.fixture(scope="module")
def found(kafka: Settings, engine: Engine, district: ReferenceDistrict, client: TestClient) -> Found:
    a_grid = [i for i, g in enumerate(district.grids) if g.street_code == STREET_A][12]
    b_grid = [i for i, g in enumerate(district.grids) if g.street_code == STREET_B][6]
    digits = "139" + str(uuid.uuid4().int)[:8]
    street = f"检索路{uuid.uuid4().hex[:6]}号"
    a = _with(report_in(district, a_grid, source="police"), phone=digits, address=street + "东")
    b = _with(report_in(district, b_grid, source="hotline"), phone=digits, address=street + "西")
    merged = report_in(district, a_grid, category="manhole_cover_damaged", source="citymgmt", offset_m=60)
    merged = _with(merged, phone="13700000001", address="别处")

    async def go() -> list[str]:
        async with harness(kafka, engine) as h:
            return await h.report([a, b, merged])

    a_case, b_case, merged_case = asyncio.run(go())
    assert merged_case == a_case, "the damaged cover 60 m away should have joined a's case"
    return Found(digits, street, a, a_case, b, b_case, merged, merged_case)


def _ids(client: TestClient, q: str, headers: dict[str, str]) -> dict[str, list[str]]:
    answer = client.get("/search", params={"q": q}, headers=headers)
    assert answer.status_code == 200, answer.text
    return {item["incident_id"]: item["matched"] for item in answer.json()["items"]}


def test_a_case_is_found_by_its_agency_reference_and_ids(
    client: TestClient, tokens: Tokens, found: Found
) -> None:
    district = tokens.operator()
    assert _ids(client, found.a.source_ref, district) == {found.a_case: ["source_ref"]}
    assert _ids(client, f"  {found.a.source_ref} ", district) == {found.a_case: ["source_ref"]}
    assert _ids(client, str(found.a.report_id), district) == {found.a_case: ["report_id"]}
    assert _ids(client, found.a_case, district) == {found.a_case: ["incident_id"]}
    answer = client.get("/search", params={"q": found.a.source_ref}, headers=district).json()["items"][0]
    assert answer["report_ids"] == [str(found.a.report_id)] and answer["deadlines"]


def test_a_merged_report_leads_to_the_case_it_joined(
    client: TestClient, tokens: Tokens, found: Found
) -> None:
    hit = client.get("/search", params={"q": found.merged.source_ref}, headers=tokens.operator()).json()
    assert [i["incident_id"] for i in hit["items"]] == [found.a_case]
    assert hit["items"][0]["report_ids"] == [str(found.merged.report_id)]


def test_the_callers_phone_finds_their_cases_in_any_spelling(
    client: TestClient, tokens: Tokens, found: Found
) -> None:
    spaced = f"+86 {found.phone[:3]}-{found.phone[3:7]}-{found.phone[7:]}"
    for q in (found.phone, spaced):
        assert _ids(client, q, tokens.operator()) == {found.a_case: ["phone"], found.b_case: ["phone"]}
    items = client.get("/search", params={"q": found.phone}, headers=tokens.operator()).json()["items"]
    assert found.phone not in str(items)  # the answer shows no reporter's number


def test_the_phone_is_stored_only_as_its_keyed_hash(kafka: Settings, engine: Engine, found: Found) -> None:
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT reporter_phone_hash FROM reports WHERE report_id = :id"),
            {"id": str(found.a.report_id)},
        ).scalar_one()
    assert stored == phone_digest(kafka.search_key, found.phone) and found.phone not in stored


def test_address_text_finds_cases_and_scope_holds(client: TestClient, tokens: Tokens, found: Found) -> None:
    assert _ids(client, found.street, tokens.operator()) == {
        found.a_case: ["address"],
        found.b_case: ["address"],
    }
    for street, mine, theirs in (
        (STREET_A, found.a_case, found.b_case),
        (STREET_B, found.b_case, found.a_case),
    ):
        op = tokens.operator(street)
        for q in (found.phone, found.street):
            assert set(_ids(client, q, op)) == {mine}
        other = found.b if street == STREET_A else found.a
        assert _ids(client, other.source_ref, op) == {}
        assert _ids(client, theirs, op) == {}
        assert theirs not in client.get("/search", params={"q": str(other.report_id)}, headers=op).text


def test_a_blank_search_is_refused_naming_q(client: TestClient, tokens: Tokens) -> None:
    answer = client.get("/search", params={"q": "   "}, headers=tokens.operator())
    assert answer.status_code == 422 and answer.json()["field"] == "q"
    assert client.get("/search", headers=tokens.operator()).status_code == 422


def test_a_new_key_needs_a_reindex_and_finds_again(
    kafka: Settings, engine: Engine, client: TestClient, tokens: Tokens, found: Found
) -> None:
    """Rotating the key: the old hashes no longer match a number hashed with the new one until
    the reindex; then they do (and back, leaving the session's database as it was)."""
    new_key = "rotated-" + uuid.uuid4().hex
    try:
        with engine.begin() as conn:
            assert rehash_phones(conn, new_key) >= 3
            hit = conn.execute(
                text("SELECT count(*) FROM reports WHERE reporter_phone_hash = :h"),
                {"h": phone_digest(new_key, found.phone)},
            ).scalar_one()
        assert hit == 2
        assert _ids(client, found.phone, tokens.operator()) == {}  # the API still hashes with the old key
    finally:
        with engine.begin() as conn:
            rehash_phones(conn, kafka.search_key)
        with engine.begin() as conn:
            assert rehash_phones(conn, kafka.search_key) == 0  # idempotent
    assert set(_ids(client, found.phone, tokens.operator())) == {found.a_case, found.b_case}
