"""The dead-letter desk: a police record refused for an unmapped category code lands on the
real `reports.dlq`; after the category map is fixed, replaying it sends it through the police
adapter again and the real intake makes a case of it. Discarding needs a reason and is kept.
Letters of the agents' stages go back where their agent reads (`alerts.cap`,
`replies.hotline`); the stages with no way back are refused with a reason that names them."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import Engine

from config.settings import Settings
from deploy.cli import main
from deploy.processes.desk import FeederReplay, command_ports
from dispatch.deadletters.desk import Decided, DeskFilter, Entry, counts_by_reason, select_letters, unique
from dispatch.deadletters.flows import DeskError, decisions, read_entries, record, replay
from dispatch.deadletters.models import Decision
from dispatch.intake.decode import Inbound
from geo import service as geo_service
from geo.reference import load_reference
from producers.dlq import dead_letter
from producers.feed import Feeder
from producers.ledger import Ledger
from producers.publisher import Publisher
from producers.sources import load_sources
from schemas.cap_record import CAP_RECORD_SCHEMA, CAP_TOPIC
from schemas.dead_letter import Origin, Stage
from schemas.report import Source
from streams.read import records_to_end
from tests.casework import harness

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _record(ref: str, code: str) -> bytes:
    return orjson.dumps(
        {
            "jjdbh": ref,
            "bjsj": "2026-11-25 09:40:00",
            "ajlb": code,
            "jqjb": "3",
            "bjnr": "夜间施工噪声扰民，持续两小时。",
            "afdz": "重庆市沙坪坝区小龙坎正街 168 号",
            "zbx": 106.45791,
            "zby": 29.55263,
            "zbxt": "CGCS2000",
        }
    )


def _entry(source: str, field: str, reason: str, at: datetime, raw: bytes = b"{}") -> Entry:
    letter = dead_letter(source, "adapter", raw + at.isoformat().encode(), field, reason, received_at=at)
    return Entry(letter, at)


def test_filters_counts_and_reopening() -> None:
    a = _entry("police", "ajlb", "ajlb: unknown 警情类别 code '0699'", T0)
    b = _entry("police", "ajlb", "ajlb: unknown 警情类别 code '0700'", T0 + timedelta(hours=1))
    c = _entry("hotline", "location.lat", "location.lat: 95.2 is out of range", T0 + timedelta(hours=2))
    entries = unique(
        [(a.letter, a.last_seen), (b.letter, b.last_seen), (c.letter, c.last_seen), (a.letter, T0)]
    )
    assert entries[a.letter.dlq_id].times == 2
    decided = {c.letter.dlq_id: Decided("discarded", "test feed", "district", T0 + timedelta(hours=3))}
    assert [(r.source, r.field, r.open) for r in counts_by_reason(entries, decided)] == [
        ("police", "ajlb", 2)
    ]
    police = select_letters(entries, decided, DeskFilter(source="police", since=T0 + timedelta(minutes=30)))
    assert [e.letter.dlq_id for e in police] == [b.letter.dlq_id]
    assert select_letters(entries, decided, DeskFilter(reason="LOCATION.lat")) == []
    assert len(select_letters(entries, decided, DeskFilter(reason="location.lat", include_decided=True))) == 1
    # the same letter put on the topic again after the decision is open again
    again = unique([(c.letter, T0 + timedelta(hours=4))])
    assert len(select_letters(again, decided, DeskFilter())) == 1
    with pytest.raises(ValueError, match="since: naive"):
        DeskFilter(since=datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


@pytest.mark.kafka
@pytest.mark.db
@pytest.mark.anyio
async def test_a_letter_replayed_after_a_config_fix_ends_as_a_case(
    desk_settings: Settings, desk_engine: Engine
) -> None:
    ref = f"5001062026{uuid.uuid4().int % 10**8:08d}"
    publisher = Publisher(desk_settings)
    try:
        before = Feeder(publisher, Ledger(None))
        before.feed(
            Source.POLICE, _record(ref, "0699"), Origin(file="cad-export.json", record="incidents[0]")
        )
        assert len(before.finish().rejected) == 1

        read_to_end = command_ports(desk_settings).read_to_end
        entries = read_entries(desk_settings, read_to_end)
        (entry,) = [e for e in entries.values() if e.letter.source_ref == ref or ref in e.letter.raw]
        assert "0699" in entry.letter.reason
        with desk_engine.connect() as conn:
            assert entry.letter.dlq_id not in decisions(conn)

        # replayed with the configuration unchanged, it is refused again and stays open
        again = replay(entry, FeederReplay(Feeder(publisher, Ledger(None))).ports())
        assert not again.ok and "0699" in again.outcome

        police = load_sources()[Source.POLICE]
        fixed = {
            **load_sources(),
            Source.POLICE: replace(police, categories={**police.categories, "0699": "noise_nuisance"}),
        }
        result = replay(entry, FeederReplay(Feeder(publisher, Ledger(None), sources=fixed)).ports())
        assert result.ok, result.outcome
        with desk_engine.begin() as conn:
            record(
                conn,
                entry.letter.dlq_id,
                Decision.REPLAYED,
                reason="0699 mapped",
                actor="district",
                outcome=result.outcome,
            )
            with pytest.raises(DeskError, match="reason: required"):
                record(conn, uuid.uuid4(), Decision.DISCARDED, reason="  ", actor="district")
    finally:
        publisher.close()

    topic = desk_settings.topic("reports.police")
    replayed = [r for r in records_to_end(desk_settings.bootstrap_servers, topic) if ref.encode() in r.value]
    assert len(replayed) == 1
    r = replayed[0]
    async with harness(desk_settings, desk_engine) as h:
        result_batch = await h.intake.handle(
            [Inbound(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp)]
        )
        assert result_batch.dead_letters == 0
        cur = await h.conn.execute(
            "SELECT i.category, i.current_task_id IS NOT NULL FROM reports r "
            "JOIN incidents i USING (incident_id) WHERE r.source = 'police' AND r.source_ref = %s",
            (ref,),
        )
        assert await cur.fetchone() == ("noise_nuisance", True)

    entries = read_entries(desk_settings, read_to_end)
    with desk_engine.connect() as conn:
        decided = decisions(conn)
    assert decided[entry.letter.dlq_id].decision == "replayed"
    assert entry.letter.dlq_id not in {
        e.letter.dlq_id for e in select_letters(entries, decided, DeskFilter())
    }


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


@pytest.mark.kafka
@pytest.mark.db
def test_the_command_line_desk_is_one_districts_or_the_citys(
    desk_settings: Settings,
    desk_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`yiwang dlq --district CODE` holds that district's letters only, placed as the API places
    them (letters with only an address by the district it names); without it, every letter."""
    jlp = load_reference("jiulongpo")
    with desk_engine.begin() as conn:  # 九龙坡's layers beside 沙坪坝's (the names are what count)
        layers = geo_service.reference_layers(jlp)
        geo_service.import_layers(conn, layers, effective_from=jlp.effective_from, source=jlp.source)
    mark = f"probe_{uuid.uuid4().hex[:10]}"
    order = {
        "workOrderNo": f"CQ12345-{mark}",
        "address": "重庆市沙坪坝区小龙坎正街168号",
        "classification": "?",
    }
    named = orjson.dumps({"location": {"address": "杨家坪街道梅岭街5号"}, "m": mark})
    letters = {
        "500107": dead_letter("hotline", Stage.INTAKE, named, mark, f"{mark}: a probe"),
        "500106": dead_letter("hotline", Stage.ADAPTER, orjson.dumps(order), mark, f"{mark}: a probe"),
        "city": dead_letter(
            "hotline", Stage.INTAKE, orjson.dumps({"location": {"address": "梅岭街1号1栋"}, "m": mark}),
            mark, f"{mark}: a probe",
        ),
    }  # fmt: skip
    ids = {where: str(x.dlq_id)[:8] for where, x in letters.items()}
    publisher = Publisher(desk_settings)
    try:
        for letter in letters.values():
            publisher.send_dead_letter(letter).get(timeout=30)
    finally:
        publisher.close()
    monkeypatch.setenv("YIWANG_TOPIC_PREFIX", desk_settings.topic_prefix)
    monkeypatch.setenv("YIWANG_PG_DATABASE", desk_settings.pg_database)
    if desk_settings.database_url:
        monkeypatch.setenv("DATABASE_URL", desk_settings.database_url)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["dlq", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = run("list", "--reason", mark)
    assert code == 0 and "dead letters of the city (城市运行管理中心)" in err
    listed = {line.split("\t")[0]: line.split("\t")[6] for line in out.splitlines()}
    assert listed == {ids[w]: w for w in letters}
    for district, name in (("500107", "九龙坡区"), ("500106", "沙坪坝区")):
        code, out, err = run("list", "--reason", mark, "--district", district)
        assert code == 0 and f"dead letters of district {district} ({name}): its letters only" in err
        assert [line.split("\t")[0] for line in out.splitlines()] == [ids[district]]
    code, out, _ = run("show", ids["city"])
    assert code == 0 and "district: city (the address names no district, street or community" in out
    code, _, err = run("show", ids["500107"], "--district", "500106")  # another district's: none here
    assert code == 1 and "no dead letter(s) match" in err
    assert run("discard", ids["500106"], "--why", "a probe", "--district", "500107")[0] == 1
    assert run("discard", ids["500106"], "--why", "a probe", "--district", "500106", "--by", "op-spb")[0] == 0
    with desk_engine.connect() as conn:
        assert decisions(conn)[letters["500106"].dlq_id].actor == "op-spb"
    code, _, err = run("counts", "--district", "500199")
    assert code == 2
    assert "--district: '500199' is not a district here; known: 500106 (沙坪坝区), 500107 (九龙坡区)" in err
