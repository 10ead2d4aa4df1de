"""The API's error bodies carry a stable `code` beside the field (dispatch/api/errors.py), and
the pages word every code in both languages (dispatch/web/src/common/i18n.js `ERRORS`): a
Chinese page never has to show the English `detail`."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dispatch.api.errors import CODES, ISSUE_CODES, issue_field
from tests.dispatch.api.conftest import STREET_A, Tokens, World

REPO = Path(__file__).resolve().parents[3]
I18N = REPO / "dispatch/web/src/common/i18n.js"


def _page_codes() -> dict[str, set[str]]:
    """The codes each language of the pages' ERRORS table words."""
    text = I18N.read_text(encoding="utf-8")
    table = text[text.index("const ERRORS = {") : text.index("const BY_STATUS")]
    zh, en = table.split("\n  en: {")
    return {lang: set(re.findall(r"\b([a-z_]+): ['\"`]", part)) for lang, part in (("zh", zh), ("en", en))}


def test_every_code_the_api_gives_is_worded_in_both_languages() -> None:
    raised = set()
    for path in (REPO / "dispatch").rglob("*.py"):
        raised |= set(re.findall(r'\bcode="([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert raised and raised <= CODES, raised - CODES
    words = _page_codes()
    for lang in ("zh", "en"):
        missing = CODES - {"illegal_transition"} - words[lang]  # that one names its state and action
        assert not missing, (lang, missing)
    assert set(ISSUE_CODES.values()) <= CODES


def test_a_validation_issue_names_its_field_as_the_pages_name_it() -> None:
    assert issue_field(("body", "area", "geocodes", 0)) == "area.geocodes[0]"
    assert issue_field(("query", "limit")) == "limit"
    assert issue_field(("body",)) is None


@pytest.mark.db
@pytest.mark.kafka
def test_refusals_carry_code_and_field(client: TestClient, tokens: Tokens, world: World) -> None:
    op = tokens.operator(STREET_A)
    case = f"/incidents/{world.a1.incident_id}"
    unknown = client.post(f"{case}/reassign", headers=op, json={"assignee": "nobody-here", "reason": "试"})
    assert unknown.status_code == 422
    assert (unknown.json()["code"], unknown.json()["field"]) == ("unknown_worker", "assignee")
    no_reason = client.post(f"{case}/reassign", headers=op, json={})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "required"
    extra = client.post(f"{case}/reassign", headers=op, json={"reason": "试", "colour": "red"})
    assert (extra.status_code, extra.json()["code"], extra.json()["field"]) == (
        422,
        "unknown_field",
        "colour",
    )
    assert isinstance(extra.json()["detail"], list)  # pydantic's issues stay as they were
    too_long = client.get("/incidents", headers=op, params={"limit": "100000"})
    assert (too_long.json()["code"], too_long.json()["field"]) == ("out_of_range", "limit")
    illegal = client.post(f"{case}/verify", headers=op)
    body = illegal.json()
    assert illegal.status_code == 409 and body["code"] == "illegal_transition"
    assert (body["state"], body["action"]) == ("dispatched", "verify")
    absent = client.get(f"/incidents/{uuid.uuid4()}", headers=op)
    assert (absent.status_code, absent.json()["code"]) == (404, "not_found")
    assert client.get("/incidents").json()["code"] == "unauthorized"
    assert client.get("/incidents", headers=tokens.worker(world.a1.assignee)).json()["code"] == "forbidden"
    surge = client.post(
        "/surges",
        headers=tokens.operator(None),
        json={"warning": "暴雨", "level": "红色", "area": {}},
    )
    assert (surge.status_code, surge.json()["code"], surge.json()["field"]) == (422, "required", "area")
