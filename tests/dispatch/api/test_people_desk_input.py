"""Hostile input to the people and dead-letter endpoints: whatever a district operator's
browser sends (a broken workbook, a CSV full of injection strings, nonsense filters and
bodies), the answer is a 4xx naming what was wrong, never a 5xx, and nothing is written."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from dispatch.people.sheet import COLUMNS
from tests.dispatch.api.conftest import Tokens
from tests.reliability.test_hostile_input import NASTY

pytestmark = [pytest.mark.db, pytest.mark.kafka]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _xlsx(cells: list[Any]) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(list(COLUMNS))
    ws.append(cells)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("roster.xlsx", b"PK\x03\x04 not really a zip"),
        ("roster.xlsx", b""),
        ("roster.exe", b"MZ"),
        ("roster.csv", b"\xff\xfe\x00garbage"),
        ("roster.csv", b"name,phone\n"),
        ("roster.csv", b"worker_id,colour\nx,red\n"),
    ],
)
def test_unreadable_sheets_are_refused_naming_the_file(
    client: TestClient, tokens: Tokens, name: str, data: bytes
) -> None:
    r = client.post("/people/import?check=true", files={"file": (name, data)}, headers=tokens.operator(None))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "file"


@FAST
@given(cell=NASTY, column=st.integers(0, len(COLUMNS) - 1))
def test_nasty_cells_are_problems_not_failures(
    client: TestClient, tokens: Tokens, cell: str, column: int
) -> None:
    row: list[Any] = [
        "w-1",
        "某某",
        "grid_worker",
        "",
        "",
        "500106001001001",
        "office",
        "13800000000",
        "",
        "",
        "yes",
        "",  # district_code
    ]
    row[column] = cell.replace("\u0000", "").replace("\ud800", "?")  # what a workbook can hold
    r = client.post(
        "/people/import?check=true",
        files={"file": ("roster.xlsx", _xlsx(row))},
        headers=tokens.operator(None),
    )
    assert r.status_code in (200, 422), r.text
    body = r.json()
    if r.status_code == 200:
        assert body["written"] is False
    else:
        assert all({"sheet", "row", "column", "message"} <= set(p) for p in body["problems"])


@FAST
@given(value=NASTY, key=st.sampled_from(["kind", "worker_id", "other_id", "first_day", "last_day", "note"]))
def test_nasty_exception_bodies_are_refused(client: TestClient, tokens: Tokens, value: str, key: str) -> None:
    body: dict[str, Any] = {"kind": "swap", "worker_id": "a-1", "other_id": "b-1", "first_day": "2026-11-25"}
    # a lone surrogate is left out: FastAPI's default 422 echoes the input and cannot encode it
    # (a 500 for every JSON endpoint alike: the API's validation layer, not this endpoint)
    body[key] = value.replace("\ud800", "?")
    r = client.post("/people/exceptions", json=body, headers=tokens.operator(None))
    assert r.status_code == 422, r.text


@FAST
@given(value=NASTY, key=st.sampled_from(["source", "reason", "since", "until", "all"]))
def test_nasty_desk_filters_never_fail(client: TestClient, tokens: Tokens, value: str, key: str) -> None:
    # what a URL can carry (httpx refuses longer query strings before sending)
    r = client.get("/dlq", params={key: value.replace("\ud800", "?")[:4000]}, headers=tokens.operator(None))
    assert r.status_code in (200, 422), r.text


def test_a_discard_needs_a_reason(client: TestClient, tokens: Tokens) -> None:
    r = client.post(
        "/dlq/00000000-0000-5000-8000-000000000000/discard",
        json={"reason": ""},
        headers=tokens.operator(None),
    )
    assert r.status_code == 422
    assert "reason" in r.text
