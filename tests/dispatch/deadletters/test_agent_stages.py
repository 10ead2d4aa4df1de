"""Letters of the agents' stages go back where their agent reads: a CAP record the alerts agent
could not read back onto `alerts.cap`, a 12345 reply the replies agent could not apply back onto
`replies.hotline` (real broker, through `reports.dlq`); the stages with no way back are refused
with a reason that names them."""

from __future__ import annotations

import uuid

import orjson
import pytest

from config.settings import Settings
from deploy.processes.desk import FeederReplay, command_ports
from dispatch.deadletters.desk import Entry
from dispatch.deadletters.flows import DeskError, read_entries, replay
from producers.feed import Feeder
from producers.ledger import Ledger
from producers.publisher import Publisher
from schemas.cap_record import CAP_RECORD_SCHEMA, CAP_TOPIC
from schemas.dead_letter import Origin, Stage, dead_letter
from streams.read import records_to_end


@pytest.mark.kafka
def test_alerts_and_replies_letters_go_back_onto_their_agents_topics(desk_settings: Settings) -> None:
    mark = uuid.uuid4().hex
    ref = f"12345-{mark[:10]}"
    cap = orjson.dumps({"schema": CAP_RECORD_SCHEMA, "identifier": f"cap-{mark}"})
    reply = orjson.dumps({"visits": [{"workOrderNo": ref, "visitResult": "满意", "note": mark}]})
    letters = [
        dead_letter(
            "emergency", Stage.ALERTS, cap, "sender", "sender: Field required",
            origin=Origin(topic=desk_settings.topic(CAP_TOPIC), partition=0, offset=7),
        ),
        dead_letter(
            "hotline", Stage.REPLIES, reply, "visits[0].workOrderNo", "visits[0].workOrderNo: no such case",
            origin=Origin(topic=desk_settings.topic("replies.hotline"), partition=0, offset=3),
            source_ref=ref,
        ),
        dead_letter("hotline", Stage.OPEN311, b"{}" + mark.encode(), "$", "$: not JSON"),
        dead_letter("hotline", Stage.NOTICES, b"[]" + mark.encode(), "$", "$: not an event"),
    ]  # fmt: skip
    publisher = Publisher(desk_settings)
    try:
        for letter in letters:
            publisher.send_dead_letter(letter).get(timeout=30)
        entries = read_entries(desk_settings, command_ports(desk_settings).read_to_end)
        found: dict[Stage, Entry] = {e.letter.stage: e for e in entries.values() if mark in e.letter.raw}
        assert set(found) == set(Stage) - {Stage.ADAPTER, Stage.INTAKE}
        ports = FeederReplay(Feeder(publisher, Ledger(None))).ports()

        alerts = replay(found[Stage.ALERTS], ports)
        assert alerts.ok and desk_settings.topic(CAP_TOPIC) in alerts.outcome, alerts.outcome
        replies = replay(found[Stage.REPLIES], ports)
        assert replies.ok and desk_settings.topic("replies.hotline") in replies.outcome, replies.outcome

        with pytest.raises(DeskError, match="Open311 caller"):
            replay(found[Stage.OPEN311], ports)
        with pytest.raises(DeskError, match="notices agent") as refused:
            replay(found[Stage.NOTICES], ports)
        assert "Open311" not in str(refused.value)
    finally:
        publisher.close()

    (back,) = [r for r in records_to_end(desk_settings.bootstrap_servers, desk_settings.topic(CAP_TOPIC))]
    assert back.value == cap
    assert ("schema", CAP_RECORD_SCHEMA.encode()) in back.headers
    (answered,) = list(
        records_to_end(desk_settings.bootstrap_servers, desk_settings.topic("replies.hotline"))
    )
    assert answered.value == reply and answered.key == ref.encode()
