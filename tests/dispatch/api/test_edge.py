"""The edge checks (dispatch/api/edge.py) and what /openapi.json promises, on the real app.

The document: every integer parameter is bounded to what PostgreSQL takes, every operation
describes its successful answer. The checks: a control character in a query, path or body
field is answered 422 naming the field, prose fields keep their line breaks, the hostile
values of the reliability tests never cause a 5xx, and a database refusal the checks let
through names its parameter.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from dispatch.api.edge import PG_BIGINT
from dispatch.api.errors import culprit
from tests.dispatch.api.conftest import Tokens, World

pytestmark = [pytest.mark.db, pytest.mark.kafka]
HOSTILE = ["\x00", "a\x00b", "\x1b[31m", "\u202e", "A" * 10_000, "'; DROP TABLE incidents; --", "%s%n", "NaN"]
SILENT = ("/live",)  # an event stream: its answer is a stream, described as text/event-stream


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    doc = client.get("/openapi.json").json()
    return [(method, path, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def test_every_integer_parameter_is_bounded_for_the_database(client: TestClient) -> None:
    unbounded = [
        f"{method.upper()} {path} {p['name']}"
        for method, path, op in _operations(client)
        for p in op.get("parameters", [])
        for schema in [p["schema"], *p["schema"].get("anyOf", [])]
        if schema.get("type") == "integer" and not schema.get("maximum", PG_BIGINT + 1) <= PG_BIGINT
    ]
    assert unbounded == []


def test_every_operation_describes_its_answer(client: TestClient) -> None:
    """A JSON answer has a schema; a file answer (a photo, a roster sheet) names its media
    types; 204 says there is no body."""
    silent = []
    for method, path, op in _operations(client):
        code, ok = next((k, v) for k, v in op["responses"].items() if k.startswith("2"))
        content = ok.get("content", {})
        files = [media for media in content if media != "application/json"]
        schemas = [m.get("schema") for m in content.values()]
        if code == "204" or path in SILENT or files or any(s and s != {} for s in schemas):
            continue
        silent.append(f"{method.upper()} {path}")
    assert silent == []


@pytest.mark.parametrize("value", ["\x00", "x\x07y", "\x7f", "a\nb"])
def test_a_control_character_in_a_query_is_refused_naming_it(
    client: TestClient, tokens: Tokens, value: str
) -> None:
    answer = client.get("/incidents", params={"q": value}, headers=tokens.operator())
    assert answer.status_code == 422, answer.text
    (issue,) = answer.json()["detail"]
    assert issue["loc"] == ["query", "q"] and "control character U+" in issue["msg"]


def test_a_control_character_in_a_path_is_refused_naming_it(client: TestClient, tokens: Tokens) -> None:
    answer = client.get("/photos/a%00b.jpg", headers=tokens.operator())
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["path", "key"]


def test_body_fields_refuse_control_characters_and_prose_keeps_line_breaks(
    client: TestClient, tokens: Tokens, world: World
) -> None:
    url = f"/incidents/{world.a1.incident_id}/verify"  # a1 is dispatched: verify is refused (409)
    for field, value, status in [
        ("reason", "first\nsecond\tthird", 409),  # prose: past the edge, refused by the lifecycle
        ("reason", "a\x00b", 422),
        ("assignee", "w\n1", 422),  # one line
        ("assignee", "w\x1b1", 422),
    ]:
        answer = client.post(url, json={field: value}, headers=tokens.operator())
        assert answer.status_code == status, (field, value, answer.text)
        if status == 422:
            assert answer.json()["detail"][0]["loc"] == ["body", field]


def test_hostile_values_in_every_query_parameter_never_cause_a_5xx(
    client: TestClient, tokens: Tokens
) -> None:
    headers = tokens.operator()
    seen = 0
    for method, path, op in _operations(client):
        if method != "get" or "{" in path or path in SILENT:
            continue
        for p in op.get("parameters", []):
            if p["in"] != "query":
                continue
            for value in HOSTILE:
                seen += 1
                answer = client.get(path, params={p["name"]: value}, headers=headers)
                assert answer.status_code < 500, (path, p["name"], value[:20], answer.text[:300])
    assert seen > 100


def _request(query: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/tasks", "query_string": query, "headers": []})


def test_a_database_refusal_names_the_parameter_it_concerns() -> None:
    nul = psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    assert culprit(_request(b"limit=5&grid=a%00b"), nul) == "grid"
    big = psycopg.errors.NumericValueOutOfRange("bigint out of range")
    assert culprit(_request(b"assignee=w1&offset=650172345897910952582933643264"), big) == "offset"
    quoted = psycopg.errors.InvalidTextRepresentation('invalid input syntax for type uuid: "nope"')
    assert culprit(_request(b"grid=g1&task=nope"), quoted) == "task"
    assert culprit(_request(b"grid=g1"), big) is None
