"""The channels as data: routes, recipients, templates, backoff, and the errors of a bad file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config.policy import PolicyError
from dispatch.notices.channels import GROUP, load_channels, parse_channels, plan, render

AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
PHONE = "13912345678"
DOC: dict[str, Any] = {
    "channel": [
        {"name": "sms", "kind": "http_sms", "url": "http://127.0.0.1:1/sms"},
        {"name": "wecom", "kind": "wecom", "url": "http://127.0.0.1:1/wecom"},
        {"name": "mail", "kind": "smtp", "host": "127.0.0.1", "port": 2525, "sender": "yw@example.invalid"},
    ],
    "route": [
        {"level": "community_lead", "channels": ["sms", "mail"]},
        {"desk": "community_lead:500106001001", "channels": ["wecom", "sms"]},
    ],
    "person": [
        {"id": "p1", "desk": "community_lead:500106001001", "sms": PHONE, "email": "p1@example.invalid"},
        {"id": "p2", "desk": "community_lead:500106001001", "sms": "13800000000"},
        {"id": "p3", "desk": "community_lead:500106001002", "sms": "13700000000"},
    ],
    "templates": {"default": "{kind}：{title}（{place}）{receive_by} 前签收", "supervise": "督办！{title}"},
}
NOTICE = {
    "notice_id": "n1",
    "desk": "community_lead:500106001001",
    "kind": "urge",
    "title": "催办：处置时限已用 100%",
    "grid_code": "500106001001003",
    "receive_by": AT,
}


def test_a_desk_hears_on_its_levels_and_its_own_channels_once_each() -> None:
    config = parse_channels(DOC)
    got = sorted((p.channel, p.recipient, p.address) for p in plan(NOTICE, config))
    assert got == [
        ("mail", "p1", "p1@example.invalid"),
        ("sms", "p1", PHONE),
        ("sms", "p2", "13800000000"),
        ("wecom", GROUP, None),
    ]
    other = plan({**NOTICE, "desk": "street_center:500106001"}, config)
    assert other == []


def test_the_key_is_stable_and_carries_no_personal_data() -> None:
    config = parse_channels(DOC)
    first = {p.key for p in plan(NOTICE, config)}
    assert first == {p.key for p in plan(NOTICE, config)} and len(first) == 4
    assert all(PHONE not in k and "p1" not in k for k in first)


def test_templates_per_kind_in_shanghai_time() -> None:
    config = parse_channels(DOC)
    assert render(NOTICE, config) == "催办：催办：处置时限已用 100%（500106001001003）11-25 10:00 前签收"
    assert render({**NOTICE, "kind": "supervise"}, config) == "督办！催办：处置时限已用 100%"


def test_backoff_doubles_to_its_cap_then_gives_up() -> None:
    retry = parse_channels({"retry": {"attempts": 5, "first_s": 10, "max_s": 30}}).retry
    waits = [retry.after(n, AT) for n in range(1, 6)]
    assert [w - AT for w in waits[:4] if w] == [timedelta(seconds=s) for s in (10, 20, 30, 30)]
    assert waits[4] is None


def test_the_shipped_file_configures_no_channel() -> None:
    config = load_channels()
    assert config.channels == {} and "default" in config.templates


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"channel": [{"name": "x", "kind": "pager", "url": "http://a"}]}, "kind"),
        ({"channel": [{"name": "x", "kind": "wecom", "url": "ftp://a"}]}, "url"),
        ({"channel": [{"name": "x", "kind": "smtp", "sender": "a@b"}]}, "host"),
        ({"channel": [{"name": "x", "kind": "smtp", "host": "h", "sender": "a@b", "port": 0}]}, "port"),
        ({"route": [{"level": "community_lead", "channels": ["nope"]}]}, "channels"),
        ({"channel": DOC["channel"], "route": [{"level": "mayor", "channels": ["sms"]}]}, "level"),
        ({"person": [{"id": "p", "desk": "mayor:1"}]}, "desk"),
        ({"templates": {"pager": "x"}}, "templates"),
        ({"retry": {"attempts": 0}}, "retry"),
    ],
)
def test_a_bad_file_names_its_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(PolicyError, match=field):
        parse_channels(doc)
