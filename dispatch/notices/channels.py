"""Notification channels as data (`config/channels.toml`): which messages a notice makes, what
they say, and when a failed one is tried again. Pure: the sinks that send are in
`dispatch.notices.sinks`, the delivery flow in `dispatch.notices.deliveries`.

A message is one (notice, channel, recipient); that triple is its idempotency key, stored as
the primary key of `notice_deliveries` and sent to the receiver, so a step never makes two
messages on one channel to one person, however often the notice is recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.policy import CONFIG_DIR, PolicyError, read_toml
from dispatch.notices.models import Desk, DeskError, DeskLevel, NoticeKind
from dispatch.notices.rules import TITLES

SH = ZoneInfo("Asia/Shanghai")
GROUP = "group"  # the recipient of a robot's message: its group, not a person


class ChannelKind(StrEnum):
    HTTP_SMS = "http_sms"
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    SMTP = "smtp"

    @property
    def robot(self) -> bool:
        return self in (ChannelKind.WECOM, ChannelKind.DINGTALK)


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    kind: ChannelKind
    url: str | None = None
    host: str | None = None
    port: int = 25
    sender: str | None = None
    starttls: bool = False
    user: str | None = None
    password_env: str | None = None
    timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    desk: str
    sms: str | None = None
    email: str | None = None

    def address(self, kind: ChannelKind) -> str | None:
        return self.sms if kind is ChannelKind.HTTP_SMS else self.email if kind is ChannelKind.SMTP else None


@dataclass(frozen=True, slots=True)
class Retry:
    attempts: int = 6
    first: timedelta = timedelta(seconds=10)
    longest: timedelta = timedelta(minutes=15)
    lease: timedelta = timedelta(minutes=2)  # a claimed message whose sender died is sent again after this

    def after(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed tries (None: give up). Doubling from
        `first`, capped at `longest`."""
        if attempts >= self.attempts:
            return None
        wait: timedelta = min(self.first * (2 ** max(attempts - 1, 0)), self.longest)
        return now + wait


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    channels: dict[str, Channel] = field(default_factory=dict)
    by_level: dict[DeskLevel, tuple[str, ...]] = field(default_factory=dict)
    by_desk: dict[str, tuple[str, ...]] = field(default_factory=dict)
    people: tuple[Person, ...] = ()
    templates: dict[str, str] = field(default_factory=dict)
    retry: Retry = Retry()


@dataclass(frozen=True, slots=True)
class Planned:
    """One message to send: the delivery's key (notice, channel, recipient) and its address."""

    notice_id: str
    channel: str
    recipient: str  # a person's id, or GROUP for a robot
    address: str | None  # a phone or an email; None for a robot

    @property
    def key(self) -> str:
        """The idempotency key sent to the receiver (stable for the triple, no personal data)."""
        raw = f"{self.notice_id}\x1f{self.channel}\x1f{self.recipient}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]


def plan(notice: Mapping[str, Any], config: ChannelConfig) -> list[Planned]:
    """The messages a stored notice makes under `config`."""
    desk = Desk.parse(str(notice["desk"]))
    names = dict.fromkeys([*config.by_level.get(desk.level, ()), *config.by_desk.get(str(desk), ())])
    out: list[Planned] = []
    for name in names:
        channel = config.channels[name]
        if channel.kind.robot:
            out.append(Planned(str(notice["notice_id"]), name, GROUP, None))
            continue
        for person in config.people:
            address = person.address(channel.kind)
            if person.desk == str(desk) and address:
                out.append(Planned(str(notice["notice_id"]), name, person.id, address))
    return out


class SafeFields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(notice: Mapping[str, Any], config: ChannelConfig) -> str:
    """The text of a notice's message, from the template of its kind (or the default)."""
    kind = NoticeKind(str(notice["kind"]))
    template = config.templates.get(kind.value) or config.templates.get("default") or "{kind}：{title}"
    receive_by = notice["receive_by"]
    fields = SafeFields(
        kind=TITLES[kind],
        title=str(notice.get("title") or ""),
        category=str(notice.get("category") or ""),
        priority=str(notice.get("priority") or ""),
        description=str(notice.get("description") or "")[:200],
        place=str(notice.get("address") or notice.get("grid_code") or ""),
        receive_by=receive_by.astimezone(SH).strftime("%m-%d %H:%M")
        if isinstance(receive_by, datetime)
        else "",
        desk=str(notice.get("desk") or ""),
    )
    return template.format_map(fields)


def _str(entry: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise PolicyError(f"{where}.{key}: a non-empty string is required")
    return value


def _channel(entry: Mapping[str, Any], where: str) -> Channel:
    name = _str(entry, "name", where)
    try:
        kind = ChannelKind(str(entry.get("kind")))
    except ValueError:
        raise PolicyError(f"{where}.kind: one of {', '.join(ChannelKind)}") from None
    timeout = entry.get("timeout_s", 5.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise PolicyError(f"{where}.timeout_s: a positive number of seconds")
    if kind is ChannelKind.SMTP:
        port = entry.get("port", 25)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise PolicyError(f"{where}.port: a TCP port")
        return Channel(
            str(name),
            kind,
            host=_str(entry, "host", where),
            port=port,
            sender=_str(entry, "sender", where),
            starttls=bool(entry.get("starttls", False)),
            user=_str(entry, "user", where, required=False),
            password_env=_str(entry, "password_env", where, required=False),
            timeout_s=float(timeout),
        )
    url = _str(entry, "url", where)
    if not str(url).startswith(("http://", "https://")):
        raise PolicyError(f"{where}.url: an http:// or https:// address")
    return Channel(str(name), kind, url=url, timeout_s=float(timeout))


def _routes(
    doc: Mapping[str, Any], channels: Mapping[str, Channel], origin: str
) -> tuple[dict[DeskLevel, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    by_level: dict[DeskLevel, tuple[str, ...]] = {}
    by_desk: dict[str, tuple[str, ...]] = {}
    for i, entry in enumerate(doc.get("route", [])):
        where = f"{origin}: route[{i}]"
        names = entry.get("channels")
        if not isinstance(names, list) or not names or any(n not in channels for n in names):
            raise PolicyError(f"{where}.channels: a list of declared channel names")
        if "level" in entry:
            try:
                level = DeskLevel(str(entry["level"]))
            except ValueError:
                raise PolicyError(f"{where}.level: one of {', '.join(DeskLevel)}") from None
            by_level[level] = (*by_level.get(level, ()), *names)
        elif "desk" in entry:
            try:
                desk = str(Desk.parse(str(entry["desk"])))
            except DeskError as exc:
                raise PolicyError(f"{where}.desk: {exc}") from None
            by_desk[desk] = (*by_desk.get(desk, ()), *names)
        else:
            raise PolicyError(f"{where}: name a 'level' or a 'desk'")
    return by_level, by_desk


def parse_channels(doc: Mapping[str, Any], origin: str = "channels") -> ChannelConfig:
    channels: dict[str, Channel] = {}
    for i, entry in enumerate(doc.get("channel", [])):
        channel = _channel(entry, f"{origin}: channel[{i}]")
        if channel.name in channels:
            raise PolicyError(f"{origin}: channel[{i}].name: {channel.name!r} is used twice")
        channels[channel.name] = channel
    by_level, by_desk = _routes(doc, channels, origin)
    people = []
    for i, entry in enumerate(doc.get("person", [])):
        where = f"{origin}: person[{i}]"
        try:
            desk = str(Desk.parse(str(_str(entry, "desk", where))))
        except DeskError as exc:
            raise PolicyError(f"{where}.desk: {exc}") from None
        people.append(
            Person(
                str(_str(entry, "id", where)),
                desk,
                _str(entry, "sms", where, required=False),
                _str(entry, "email", where, required=False),
            )
        )
    templates = doc.get("templates", {})
    if not isinstance(templates, dict) or any(not isinstance(v, str) for v in templates.values()):
        raise PolicyError(f"{origin}: templates: text per notice kind")
    unknown = set(templates) - {k.value for k in NoticeKind} - {"default"}
    if unknown:
        raise PolicyError(f"{origin}: templates: unknown kind(s) {', '.join(sorted(unknown))}")
    retry_doc = doc.get("retry", {})
    try:
        retry = Retry(
            int(retry_doc.get("attempts", 6)),
            timedelta(seconds=float(retry_doc.get("first_s", 10))),
            timedelta(seconds=float(retry_doc.get("max_s", 900))),
            timedelta(seconds=float(retry_doc.get("lease_s", 120))),
        )
    except (TypeError, ValueError):
        raise PolicyError(f"{origin}: retry: attempts, first_s and max_s are numbers") from None
    if retry.attempts < 1 or retry.first <= timedelta(0) or retry.longest < retry.first:
        raise PolicyError(f"{origin}: retry: attempts >= 1 and 0 < first_s <= max_s")
    if retry.lease <= timedelta(0):
        raise PolicyError(f"{origin}: retry.lease_s: a positive number of seconds")
    return ChannelConfig(channels, by_level, by_desk, tuple(people), dict(templates), retry)


def load_channels(path: Path | None = None) -> ChannelConfig:
    where = path or CONFIG_DIR / "channels.toml"
    return parse_channels(read_toml(where), origin=str(where))
