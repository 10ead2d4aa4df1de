"""What the pipeline publishes validates against the published JSON Schemas (schemas/*.v1.json):
the real intake opens and merges cases, the SLA pass escalates, the case flows close one, and
every document on every output topic is read back from the broker and checked."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import orjson
import pytest
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.cases.commands import Command
from dispatch.cases.sla_pass import SlaTracker
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from geo.reference import ReferenceDistrict
from schemas.documents import TOPIC_DOCUMENTS
from schemas.export import SCHEMAS_DIR
from tests.casework import harness, later, report_in
from tests.producers.helpers import read_topic

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
OPERATOR = Actor(Role.OPERATOR, "op-district")


def validator(stem: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / f"{stem}.v1.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def documents(settings: Settings, topic: str) -> list[dict[str, Any]]:
    return [orjson.loads(v) for _, v, _ in read_topic(settings, settings.topic(topic))]


async def test_every_published_document_matches_its_schema(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        a = report_in(district, 420, source="hotline", category="manhole_cover_missing")
        b = report_in(district, 420, source="citymgmt", category="manhole_cover_missing", offset_m=1000)
        keep, dup = await h.report([a, b])
        merged = report_in(district, 420, source="police", category="manhole_cover_missing", offset_m=5)
        (into,) = await h.report([merged], at=later(h, minutes=1))
        assert into == keep, "the third report merges into the first case"
        await h.flows.transition(h.conn, dup, Command(Action.MERGE, OPERATOR, merged_into=keep))
        at = later(h, hours=30)  # far past the accept limit: yellow, red and the ladder
        tracker = SlaTracker(h.flows)
        while (await tracker.run_once(h.conn, at)).claimed:
            pass
        row = await (
            await h.conn.execute("SELECT assignee_id FROM incidents WHERE incident_id = %s", (keep,))
        ).fetchone()
        assert row is not None
        me = Actor(Role.GRID_WORKER, row[0])
        for action, extra in (
            (Action.ACCEPT, {}),
            (Action.ARRIVE, {}),
            (Action.RESOLVE, {"note": "已补装井盖", "photos": ("obj://p/1.jpg",)}),
        ):
            later(h, minutes=10)
            await h.flows.transition(h.conn, keep, Command(action, me, **extra))
        await h.flows.transition(h.conn, keep, Command(Action.VERIFY, OPERATOR))
        await h.flows.transition(h.conn, keep, Command(Action.CLOSE, OPERATOR, reason="核查通过"))

    topics = [t for t in TOPIC_DOCUMENTS if not t.endswith(".")]
    topics += ["feedback.citymgmt", "feedback.police"]  # feedback.hotline: 12345's own reply format
    checked: dict[str, int] = {}
    for topic in topics:
        stem = TOPIC_DOCUMENTS["feedback." if topic.startswith("feedback.") else topic]
        check = validator(stem)
        docs = documents(kafka, topic)
        for doc in docs:
            errors = sorted(check.iter_errors(doc), key=lambda e: list(e.absolute_path))
            assert not errors, f"{topic}: {[(list(e.absolute_path), e.message) for e in errors[:5]]}"
        checked[topic] = len(docs)
    assert all(checked.values()), f"a topic had nothing to check: {checked}"
    events = documents(kafka, "dispatch.events")
    actions = {d["event"]["action"] for d in events}
    assert {"report", "dispatch", "merge", "escalate", "close"} <= actions, actions
    with_reports = [d for d in documents(kafka, "incidents") if d["reports"]]
    assert with_reports, "the intake publishes the reports with their case"
