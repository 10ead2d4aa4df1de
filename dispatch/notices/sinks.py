"""The sinks: one send per channel kind, each a thin edge over HTTP or SMTP (run in a thread,
with the channel's timeout, so a receiver that hangs costs one delivery its timeout and
nothing else).

Every request carries the delivery's idempotency key: the generic SMS API gets it as
`request_id` and an `Idempotency-Key` header, email as a stable `Message-ID`, the robots as the
header (WeCom and DingTalk ignore it; see README, "Channels"). Errors never carry the phone,
the address or the text: they are logged and stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage

from dispatch.notices.channels import Channel, ChannelKind, Planned
from dispatch.notices.rules import NoticeError


class SinkError(NoticeError):
    """A message the receiver did not take (retried with backoff)."""


def _post(url: str, body: Mapping[str, object], key: str, timeout_s: float) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked when the config is read
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        raise SinkError(f"HTTP {exc.code} from the receiver") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SinkError(f"receiver unreachable ({type(reason).__name__})") from None


def _robot(channel: Channel, text: str, key: str) -> None:
    assert channel.url is not None
    answer = _post(channel.url, {"msgtype": "text", "text": {"content": text}}, key, channel.timeout_s)
    try:
        code = json.loads(answer or b"{}").get("errcode", 0)
    except (ValueError, AttributeError):
        raise SinkError("the robot answered something that is not JSON") from None
    if code != 0:
        raise SinkError(f"the robot refused the message (errcode {code})")


def _sms(channel: Channel, planned: Planned, text: str) -> None:
    assert channel.url is not None
    body = {"request_id": planned.key, "to": planned.address, "text": text}
    _post(channel.url, body, planned.key, channel.timeout_s)


def _mail(channel: Channel, planned: Planned, text: str) -> None:
    assert channel.host is not None and channel.sender is not None and planned.address is not None
    message = EmailMessage()
    message["From"] = channel.sender
    message["To"] = planned.address
    message["Subject"] = text.split("。", 1)[0][:120]
    message["Message-ID"] = f"<{planned.key}@yiwang.notices>"
    message.set_content(text)
    try:
        with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_s) as smtp:
            if channel.starttls:
                smtp.starttls()
            if channel.user:
                smtp.login(channel.user, os.environ.get(channel.password_env or "", ""))
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise SinkError(f"SMTP failed ({type(exc).__name__})") from None


def _send(channel: Channel, planned: Planned, text: str) -> None:
    if channel.kind is ChannelKind.HTTP_SMS:
        _sms(channel, planned, text)
    elif channel.kind is ChannelKind.SMTP:
        _mail(channel, planned, text)
    else:
        _robot(channel, text, planned.key)


async def send(channel: Channel, planned: Planned, text: str) -> None:
    """Send one message; raises SinkError when the receiver did not take it."""
    await asyncio.to_thread(_send, channel, planned, text)
