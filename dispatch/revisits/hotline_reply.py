"""12345's own documents for the reply loop: pure, so the publisher, the reply agent, the API
and the tests share one shape.

What we send on `feedback.hotline` is the hotline's native reply document, the mirror of the
work orders its intake reads (producers/adapters/hotline.py: the same envelope, the same
`workOrderNo` key, local times in the intake's `acceptTime` format):

    {"platform": "一网统管 区级指挥中心", "exportedAt": "2025-06-02T17:40:00+08:00",
     "replies": [{"workOrderNo": "CQ12345-20250601-000123",   工单编号 ← source_ref
                  "replyType": "办结",                          办结 (closed) / 退回 (rejected)
                  "handleResult": "已更换灯泡；核查通过",          办理结果 ← resolution; closing note
                  "finishTime": "2025-06-02 17:40:00",          办结时间, Asia/Shanghai
                  "handleUnit": "童家桥街道",                     承办单位 ← the street (or 区级指挥中心)
                  "onTime": true,                               按期办结
                  "visitResult": "待回访",                       回访结果: 待回访 | 满意 | 基本满意 |
                                                                 不满意 | 未回访成功
                  "visitReason": null,                          the reason of a 不满意 (the policy's words)
                  "visitTime": null,                            when the answer was given
                  "reworked": false}]}                          a 不满意 reopened the case (返工)

A closing sends `待回访`; an answer to the return visit sends the same order again with its
回访结果 (a receipt when 12345 itself called the citizen, the result when our own channel did), and
so does the sweep when nobody answered in time (`未回访成功`, `visitTime` null).

What 12345 sends back (`replies.hotline`, or `POST /agency/replies`) after calling the
citizen: its return-visit result, read by `read_visits`:

    {"platform": "...", "exportedAt": "...",
     "visits": [{"workOrderNo": "CQ12345-20250601-000123", "visitTime": "2025-06-03 10:05:00",
                 "visitResult": "不满意", "dissatisfiedReason": "问题未解决", "visitNote": "..."}]}

`dissatisfiedReason` is one of config/revisits.toml's reasons, by its words or its code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from dispatch.revisits.errors import FieldError
from dispatch.revisits.policy import RevisitPolicy
from dispatch.revisits.values import ZH, Satisfaction, Visit, parse_satisfaction

LOCAL = ZoneInfo("Asia/Shanghai")  # the hotline's zone (config/sources.toml [source.hotline])
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"  # the intake's acceptTime format
PLATFORM = "一网统管 区级指挥中心"
DISTRICT_CENTER = "区级指挥中心"
PENDING = "待回访"
NOT_REACHED = "未回访成功"
REPLY_TYPES = {
    "closed": "办结",
    "rejected": "退回",
    # the outcomes of dispatch.cases.documents.FEEDBACK_ACTIONS that end a case otherwise
    "voided": "作废",
    "cancelled by the source": "撤销",
    "expired": "过期",
}
MAX_REF = 128
MAX_NOTE = 500
FUTURE_SLACK = timedelta(minutes=10)


def local_time(at: datetime | str) -> str:
    """An aware time (or ISO text) as the hotline writes it.

    >>> local_time("2025-06-02T09:40:00+00:00")
    '2025-06-02 17:40:00'
    """
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when.isoformat()}; pass a timezone-aware one")
    return when.astimezone(LOCAL).strftime(LOCAL_FORMAT)


def _envelope(reply: dict[str, Any], at: datetime | str) -> bytes:
    """One reply in the export's envelope, stamped with the time of what it reports (so a
    document published again by the outbox relay is the same bytes)."""
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    exported = when.astimezone(LOCAL).isoformat()
    return orjson.dumps({"platform": PLATFORM, "exportedAt": exported, "replies": [reply]})


def _result(resolution: Any, note: Any, outcome: str) -> str:
    """办理结果: the worker's resolution, then the closing note (each once)."""
    texts = [str(t) for t in (resolution, note) if t]
    return "；".join(dict.fromkeys(texts)) or REPLY_TYPES[outcome]


def outcome_reply(feedback: Mapping[str, Any], *, unit: str | None) -> bytes:
    """The native reply to one work order from the outcome record of its closing or rejection
    (`dispatch.cases.documents.feedback_doc`): 回访结果 is 待回访."""
    reply = {
        "workOrderNo": str(feedback["source_ref"]),
        "replyType": REPLY_TYPES[str(feedback["outcome"])],
        "handleResult": _result(feedback.get("resolution"), feedback.get("note"), str(feedback["outcome"])),
        "finishTime": local_time(feedback["closed_at"]),
        "handleUnit": unit or DISTRICT_CENTER,
        "onTime": feedback.get("on_time"),
        "visitResult": PENDING,
        "visitReason": None,
        "visitTime": None,
        "reworked": False,
    }
    return _envelope(reply, feedback["closed_at"])


def visit_reply(
    visit: Visit, policy: RevisitPolicy, *, closing: Mapping[str, Any], unit: str | None
) -> bytes:
    """The native reply carrying a settled return visit's 回访结果: its answer, or 未回访成功 when
    the sweep marked it not reached (`closing`: the closing's event row with its `resolution`, for
    办结时间 and 办理结果, as the closing's reply said)."""
    if visit.not_reached and visit.answer is None:
        return _envelope({**_closing_fields(visit, closing, unit), **_unanswered()}, visit.due_at)
    if visit.answer is None or visit.answered_at is None:
        raise ValueError(f"return visit {visit.visit_id} is not answered")
    reason = policy.reasons.get(visit.reason_code or "")
    words = [t for t in (reason.zh if reason else None, visit.reason) if t]
    reply = {
        **_closing_fields(visit, closing, unit),
        "visitResult": ZH[visit.answer],
        "visitReason": "：".join(words) or None,
        "visitTime": local_time(visit.answered_at),
        "reworked": visit.rework is not None,
    }
    return _envelope(reply, visit.answered_at)


def _closing_fields(visit: Visit, closing: Mapping[str, Any], unit: str | None) -> dict[str, Any]:
    return {
        "workOrderNo": visit.source_ref,
        "replyType": REPLY_TYPES["closed"],
        "handleResult": _result(closing.get("resolution"), closing.get("reason"), "closed"),
        "finishTime": local_time(closing["at"]),
        "handleUnit": unit or DISTRICT_CENTER,
        "onTime": (closing.get("data") or {}).get("on_time"),
    }


def _unanswered() -> dict[str, Any]:
    return {"visitResult": NOT_REACHED, "visitReason": None, "visitTime": None, "reworked": False}


@dataclass(frozen=True, slots=True)
class Reply:
    """One return-visit result from a reporting agency, checked."""

    source_ref: str
    answer: Satisfaction
    reason_code: str | None
    note: str | None
    at: datetime | None  # when the citizen answered (None: not given)


def reply_of(
    policy: RevisitPolicy,
    *,
    source_ref: Any,
    answer: Any,
    reason: Any = None,
    note: Any = None,
    at: datetime | None = None,
    natives: Mapping[str, str] | None = None,
) -> Reply:
    """Check one reply's values; a refusal names the field (its native name when given)."""
    name = dict(natives or {})

    def field(key: str) -> str:
        return name.get(key, key)

    if not isinstance(source_ref, str) or not source_ref.strip() or len(source_ref) > MAX_REF:
        raise FieldError(field("source_ref"), f"expected the work order number (1..{MAX_REF} characters)")
    satisfaction = parse_satisfaction(answer) if isinstance(answer, str) else None
    if satisfaction is None:
        raise FieldError(field("answer"), "expected 满意, 基本满意 or 不满意")
    code = None
    if reason is not None and reason != "":
        if not isinstance(reason, str):
            raise FieldError(field("reason"), "expected text")
        code = policy.reason_code(reason)
        if code is None:
            known = "、".join(r.zh for r in policy.reasons.values())
            raise FieldError(field("reason"), f"one of {known} (or their codes), not {reason[:40]!r}")
    if satisfaction is Satisfaction.DISSATISFIED and code is None:
        raise FieldError(field("reason"), "不满意 needs a reason")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise FieldError(field("note"), f"expected text of at most {MAX_NOTE} characters")
    return Reply(source_ref.strip(), satisfaction, code, (note or "").strip() or None, at)


_NATIVES = {
    "source_ref": "workOrderNo",
    "answer": "visitResult",
    "reason": "dissatisfiedReason",
    "note": "visitNote",
}


def _when(value: Any, where: str, now: datetime) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldError(where, "expected a time like 2025-06-03 10:05:00")
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            when = datetime.strptime(value.strip(), LOCAL_FORMAT)  # noqa: DTZ007 - local, zone below
        except ValueError:
            raise FieldError(where, f"{value[:40]!r} is not a time like 2025-06-03 10:05:00") from None
    when = when if when.tzinfo else when.replace(tzinfo=LOCAL)
    if when > now + FUTURE_SLACK:
        raise FieldError(where, f"{value[:40]!r} is in the future")
    return when.astimezone(UTC)


def read_visits(data: bytes, policy: RevisitPolicy, *, now: datetime) -> Iterator[Reply | FieldError]:
    """Each entry of 12345's return-visit document: a checked reply, or the error naming the
    field (`visits[i].visitResult`, ...); a document that is not one raises FieldError."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FieldError("$", f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("visits"), list):
        raise FieldError("visits", "expected an object with a list 'visits'")
    for i, entry in enumerate(doc["visits"]):
        prefix = f"visits[{i}]"
        if not isinstance(entry, dict):
            yield FieldError(prefix, "expected an object")
            continue
        try:
            yield reply_of(
                policy,
                source_ref=entry.get("workOrderNo"),
                answer=entry.get("visitResult"),
                reason=entry.get("dissatisfiedReason"),
                note=entry.get("visitNote"),
                at=_when(entry.get("visitTime"), f"{prefix}.visitTime", now),
                natives={k: f"{prefix}.{v}" for k, v in _NATIVES.items()},
            )
        except FieldError as exc:
            yield exc
