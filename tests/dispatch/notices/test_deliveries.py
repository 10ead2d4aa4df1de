"""The channels against real local receivers (an HTTP server capturing requests, aiosmtpd):
one message per notice, channel and person, however often the notice is recorded or the sender
runs; a receiver that refuses or is down is retried with backoff and counted, without touching
the other channels; no phone or address in the logs; and a sender killed while the receiver
holds its request sends the same key again, so the SMS gateway takes exactly one message."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.cases.commands import Command
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.notices.channels import ChannelConfig, load_channels
from dispatch.notices.deliveries import DeliveryMetrics, DeliverySender
from dispatch.notices.flows import NoticeFlows
from dispatch.notices.rules import CaseEventDoc, load_notice_policy
from dispatch.sla.ladder import LadderTarget
from geo.reference import ReferenceDistrict
from tests.casework import Harness, harness, later, report_in
from tests.dispatch.notices.receivers import http_receiver, smtp_receiver
from tests.streams.harness import REPO, worker_env

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
OPERATOR = Actor(Role.OPERATOR, "op-district")
PHONE, EMAIL = "13912345678", "lead@example.invalid"


def channels_file(path: Path, http: str, smtp_port: int, desk: str, *, lease_s: float = 60) -> Path:
    path.write_text(
        f"""
[retry]
attempts = 3
first_s = 30
max_s = 60
lease_s = {lease_s}

[[channel]]
name = "sms"
kind = "http_sms"
url = "{http}/sms"
[[channel]]
name = "wecom"
kind = "wecom"
url = "{http}/cgi-bin/webhook/send?key=test"
[[channel]]
name = "dingtalk"
kind = "dingtalk"
url = "{http}/robot/send?access_token=test"
[[channel]]
name = "mail"
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
sender = "yiwang@example.invalid"

[[route]]
level = "community_lead"
channels = ["sms", "wecom", "dingtalk", "mail"]

[[person]]
id = "lead-1"
desk = "{desk}"
sms = "{PHONE}"
email = "{EMAIL}"

[templates]
default = "{{title}}，{{receive_by}} 前签收"
""",
        encoding="utf-8",
    )
    return path


async def escalated(h: Harness, district: ReferenceDistrict, grid: int) -> tuple[CaseEventDoc, str]:
    (iid,) = await h.report([report_in(district, grid)])
    later(h, minutes=5)
    out = await h.flows.transition(
        h.conn, iid, Command(Action.ESCALATE, OPERATOR, reason="催办", level=LadderTarget.COMMUNITY_LEAD)
    )
    return CaseEventDoc.model_validate(out.events[0]), f"community_lead:{district.grids[grid].code[:12]}"


async def deliveries(h: Harness, notice_id: str) -> dict[str, tuple[str, int, str | None]]:
    cur = await h.conn.execute(
        "SELECT channel, state, attempts, last_error FROM notice_deliveries WHERE notice_id = %s",
        (notice_id,),
    )
    return {r[0]: (r[1], r[2], r[3]) for r in await cur.fetchall()}


async def test_one_message_per_step_on_every_channel_and_a_refusal_is_retried(
    kafka: Settings,
    engine: Engine,
    district: ReferenceDistrict,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    registry = CollectorRegistry()
    with http_receiver() as http, smtp_receiver() as mail:
        async with harness(kafka, engine) as h:
            event, desk = await escalated(h, district, 60)
            config = load_channels(channels_file(tmp_path / "channels.toml", http.url, mail.port, desk))
            flows = NoticeFlows(load_notice_policy(), channels=config, clock=lambda: h.now[0])
            (notice_id,) = await flows.record(h.conn, [event])
            assert await flows.record(h.conn, [event]) == []  # recorded again: nothing new planned
            http.refuse.add("/robot/send")  # DingTalk answers with an error code
            sender = DeliverySender(config, DeliveryMetrics.create(registry), clock=lambda: h.now[0])
            first = await sender.run_once(h.conn)
            assert (first.sent, first.retried, first.failed) == (3, 1, 0)
            again = await sender.run_once(h.conn)  # nothing due: the refusal waits for its backoff
            assert (again.sent, again.retried) == (0, 0)
            state = await deliveries(h, notice_id)
            assert {c: s[0] for c, s in state.items()} == {
                "sms": "sent",
                "wecom": "sent",
                "mail": "sent",
                "dingtalk": "pending",
            }
            assert "errcode 310000" in str(state["dingtalk"][2])
            http.refuse.clear()
            later(h, seconds=31)
            assert (await sender.run_once(h.conn)).sent == 1
            assert (await deliveries(h, notice_id))["dingtalk"][:2] == ("sent", 2)

    (sms,) = http.on("/sms")
    assert sms.body["to"] == PHONE and sms.body["request_id"] == sms.headers["Idempotency-Key"]
    assert sms.body["text"].startswith("人工提级：催办，")
    (wecom,) = http.on("/cgi-bin/webhook/send")
    assert wecom.body["msgtype"] == "text" and "人工提级" in wecom.body["text"]["content"]
    assert len(http.on("/robot/send")) == 2  # refused once, taken once
    (message,) = mail.messages
    assert message["To"] == EMAIL and message["Message-ID"].endswith("@yiwang.notices>")
    assert message["Message-ID"] != f"<{sms.body['request_id']}@yiwang.notices>"  # one key per channel
    counted = {
        (s.labels["channel"], s.labels["outcome"]): s.value
        for m in registry.collect()
        for s in m.samples
        if s.name == "yiwang_notice_deliveries_total"
    }
    assert counted[("dingtalk", "retry")] == 1 and counted[("sms", "sent")] == 1
    ours = [
        r.getMessage() for r in caplog.records if r.name.split(".")[0] in {"dispatch", "streams", "aiokafka"}
    ]
    assert ours and not [
        m for m in ours if PHONE in m or EMAIL in m
    ]  # the receiver's own log is its business


async def test_a_receiver_that_is_down_delays_only_its_own_messages(
    kafka: Settings, engine: Engine, district: ReferenceDistrict, tmp_path: Path
) -> None:
    with http_receiver() as http, smtp_receiver() as mail:
        async with harness(kafka, engine) as h:
            event, desk = await escalated(h, district, 61)
            path = channels_file(tmp_path / "channels.toml", http.url, mail.port, desk)
            down = path.read_text().replace(f'url = "{http.url}/sms"', 'url = "http://127.0.0.1:9/sms"')
            path.with_name("down.toml").write_text(down)
            config = load_channels(path.with_name("down.toml"))
            flows = NoticeFlows(load_notice_policy(), channels=config, clock=lambda: h.now[0])
            (notice_id,) = await flows.record(h.conn, [event])
            sender = DeliverySender(
                config, DeliveryMetrics.create(CollectorRegistry()), clock=lambda: h.now[0]
            )
            result = await sender.run_once(h.conn)
            assert (result.sent, result.retried) == (3, 1)
            state = await deliveries(h, notice_id)
            assert state["sms"][0] == "pending" and "unreachable" in str(state["sms"][2])
            assert PHONE not in str(state["sms"][2])
            for _ in range(2):  # out of attempts (3): failed, and counted
                later(h, seconds=61)
                await sender.run_once(h.conn)
            assert (await deliveries(h, notice_id))["sms"][:2] == ("failed", 3)
    assert len(mail.messages) == 1


def _sender(settings: Settings, home: Path, channels: Path) -> subprocess.Popen[bytes]:
    env = worker_env(settings, home) | {"YIWANG_CHANNELS_FILE": str(channels), "YIWANG_SLA_TICK_S": "0.2"}
    return subprocess.Popen(
        [sys.executable, "-m", "streams.agents.deliveries"],
        cwd=REPO,
        env=env,
        stdout=(home / "sender.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


async def test_a_sender_killed_mid_send_makes_exactly_one_message(
    kafka: Settings, engine: Engine, district: ReferenceDistrict, tmp_path: Path
) -> None:
    with http_receiver() as http, smtp_receiver() as mail:
        async with harness(kafka, engine) as h:
            event, desk = await escalated(h, district, 62)
            path = channels_file(tmp_path / "channels.toml", http.url, mail.port, desk, lease_s=2)
            sms_only = path.read_text().replace(
                'channels = ["sms", "wecom", "dingtalk", "mail"]', 'channels = ["sms"]'
            )
            path.write_text(sms_only)
            flows = NoticeFlows(load_notice_policy(), channels=load_channels(path))
            (notice_id,) = await flows.record(h.conn, [event])
            http.hang_s["/sms"] = 30  # the gateway holds the first request
            first = _sender(kafka, tmp_path, path)
            try:
                deadline = time.monotonic() + 30
                while not http.on("/sms") and time.monotonic() < deadline:
                    assert first.poll() is None, (tmp_path / "sender.log").read_text()
                    time.sleep(0.1)
                assert http.on("/sms"), (tmp_path / "sender.log").read_text()
            finally:
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)
            assert (await deliveries(h, notice_id))["sms"][:2] == ("sending", 1)
            http.hang_s.clear()
            second = _sender(kafka, tmp_path, path)
            try:
                deadline = time.monotonic() + 30
                while (await deliveries(h, notice_id))["sms"][0] != "sent" and time.monotonic() < deadline:
                    time.sleep(0.2)
            finally:
                second.terminate()
                second.wait(timeout=10)
            assert (await deliveries(h, notice_id))["sms"][:2] == ("sent", 2)
            await flows.record(h.conn, [event])  # and recording the step again sends nothing
    requests = http.on("/sms")
    assert len(requests) == 2 and len({r.body["request_id"] for r in requests}) == 1
    assert len(http.accepted_sms()) == 1


def test_channel_config_defaults_to_nothing() -> None:
    assert ChannelConfig().channels == {} and timedelta(0) < ChannelConfig().retry.lease
