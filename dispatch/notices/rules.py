"""The pure rules of notices: which notices a case event makes, what a desk may do to a notice,
and where an unreceived notice climbs. `now` is always an argument; nothing here does I/O.

Which events make notices (an `escalate` or `reassign` event on `dispatch.events`):
- an SLA step whose target is a desk (催办 to the community lead, 提级 to the street center,
  督办 to the district center) → one notice of that kind to that desk; a step flagged
  `overtaken` (a later one was due too, after an outage) makes none: only the highest level is
  told, as the ladder says;
- a 督办 copied to the unit leader → a 吹哨 notice to the category's lead department;
- an operator's escalation by hand → a `manual` notice to the desk of the chosen level;
- a reassignment → a `reassign` notice to the community lead of the case's community.
The assignee's own reminder (提醒) is the worker's, not a desk's: it makes no notice.

The district center is the case's own district's (`incidents.district_code`, which the flow
passes in): a case no grid covers has no street or community to read it from, and a case outside
every district belongs to the city desk (`district_center:city`, 城市运行管理中心). Such a case
has no desk below its center, so a step to the community lead or the street center makes none.

Ids derive from the event (`<incident>:<sequence>`) and the desk, so a redelivered event
makes the same ids and the insert changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict

from config.policy import CONFIG_DIR, Duration, PolicyError, read_toml
from dispatch.notices.models import Desk, DeskLevel, NoticeAction, NoticeKind, NoticeState

UNIT = {"min": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
RUNGS = (DeskLevel.COMMUNITY_LEAD, DeskLevel.STREET_CENTER, DeskLevel.DISTRICT_CENTER)
STEP_KINDS = {"urge": NoticeKind.URGE, "escalate": NoticeKind.ESCALATE, "supervise": NoticeKind.SUPERVISE}
TITLES = {
    NoticeKind.URGE: "催办",
    NoticeKind.ESCALATE: "提级",
    NoticeKind.SUPERVISE: "督办",
    NoticeKind.MANUAL: "人工提级",
    NoticeKind.REASSIGN: "改派",
    NoticeKind.WHISTLE: "吹哨报到",
}
NOTICE_ACTIONS = frozenset({"escalate", "reassign"})
"""The only event actions that can make a notice (`notices_for`): the notices agent skips every
other event unread."""
CLOCK_ZH = {"register": "立案派遣", "accept": "签收", "on_site": "到场", "resolve": "处置", "verify": "核查"}
LEVEL_ZH = {
    DeskLevel.COMMUNITY_LEAD: "社区",
    DeskLevel.STREET_CENTER: "街道",
    DeskLevel.DISTRICT_CENTER: "区中心",
    DeskLevel.DEPARTMENT: "牵头部门",
}


class NoticeError(Exception):
    """The root of the notices' errors."""


class NoticeRefused(NoticeError):
    """A desk action the notice's state does not allow (409 at the API)."""

    def __init__(self, state: NoticeState, action: NoticeAction) -> None:
        self.state = state
        self.action = action
        super().__init__(f"a notice that is {state.value} cannot take {action.value}")


class NoticeInputError(NoticeError):
    """A desk's input that cannot be taken, naming its field (422 at the API)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class NoticePolicy(BaseModel):
    """`config/notices.toml` as read: receive limits per kind, which kinds climb."""

    model_config = ConfigDict(frozen=True)
    receive_within: dict[NoticeKind, timedelta]
    climbing: frozenset[NoticeKind]
    answer_within: timedelta


def _duration(text: object, where: str) -> timedelta:
    if not isinstance(text, str):
        raise PolicyError(f'{where}: expected a duration such as "30min", "2h" or "1d"')
    d = Duration.parse(text)
    return d.value * UNIT[d.unit]


def parse_notice_policy(doc: Mapping[str, Any], origin: str = "notices") -> NoticePolicy:
    within = doc.get("receive_within", {})
    receive: dict[NoticeKind, timedelta] = {}
    for kind in NoticeKind:
        if kind.value not in within:
            raise PolicyError(f"{origin}: receive_within.{kind.value} is missing")
        receive[kind] = _duration(within[kind.value], f"{origin}: receive_within.{kind.value}")
    unknown = set(within) - {k.value for k in NoticeKind}
    if unknown:
        raise PolicyError(f"{origin}: receive_within: unknown kind(s) {', '.join(sorted(unknown))}")
    kinds = doc.get("climb", {}).get("kinds", [])
    if not isinstance(kinds, list):
        raise PolicyError(f"{origin}: climb.kinds must be a list")
    try:
        climbing = frozenset(NoticeKind(str(k)) for k in kinds)
    except ValueError:
        raise PolicyError(f"{origin}: climb.kinds: each must be one of {', '.join(NoticeKind)}") from None
    answer = _duration(doc.get("answer", {}).get("within", "1d"), f"{origin}: answer.within")
    return NoticePolicy(receive_within=receive, climbing=climbing, answer_within=answer)


def load_notice_policy(path: Path = CONFIG_DIR / "notices.toml") -> NoticePolicy:
    return parse_notice_policy(read_toml(path), origin=str(path))


class Escalation(BaseModel):
    """The part of an `escalate` event's escalation document the notices read."""

    model_config = ConfigDict(extra="ignore")
    step: str
    action: str
    target: str
    overtaken: bool = False
    clock: str | None = None
    fraction: float | None = None
    copy_to_ids: list[str] = []
    community_code: str | None = None
    street_code: str | None = None
    category: str | None = None
    priority: str | None = None


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    escalation: Escalation | None = None


def _uuid_text(text: str) -> str:
    return str(UUID(text))


class CaseEventDoc(BaseModel):
    """A `dispatch.events` record's event, as far as notices need it."""

    model_config = ConfigDict(extra="ignore")
    incident_id: Annotated[str, AfterValidator(_uuid_text)]
    """A UUID, checked here: the flow looks the case up by it (a bad one goes to the DLQ)."""
    sequence: int
    action: str
    actor_id: str
    at: datetime
    reason: str | None = None
    grid_code: str | None = None
    street_code: str | None = None
    data: EventData = EventData()

    @property
    def event_id(self) -> str:
        return f"{self.incident_id}:{self.sequence}"


class EventRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event: CaseEventDoc


@dataclass(frozen=True, slots=True)
class Notice:
    notice_id: str
    event_id: str
    incident_id: str
    kind: NoticeKind
    desk: Desk
    community_code: str | None
    street_code: str | None
    title: str
    created_at: datetime
    receive_by: datetime
    rung: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {
            "notice_id": self.notice_id,
            "event_id": self.event_id,
            "incident_id": self.incident_id,
            "kind": self.kind.value,
            "state": NoticeState.SENT.value,
            "desk": str(self.desk),
            "rung": self.rung,
            "community_code": self.community_code,
            "street_code": self.street_code,
            "title": self.title,
            "created_at": self.created_at,
            "receive_by": self.receive_by,
            "data": self.data,
        }


def desk_at(
    level: DeskLevel, community: str | None, street: str | None, district: str | None = None
) -> Desk | None:
    """The desk of `level` over a case in `community` / `street` of `district` (None when the
    case lacks the code). The district center is `district`'s (`city`: the city desk); without
    it, the district the codes begin with (a climbed notice keeps only its codes).

    >>> str(desk_at(DeskLevel.DISTRICT_CENTER, None, None, "city"))
    'district_center:city'
    >>> str(desk_at(DeskLevel.DISTRICT_CENTER, None, "500107003"))
    'district_center:500107'
    >>> desk_at(DeskLevel.STREET_CENTER, None, None, "500107") is None
    True
    """
    if level is DeskLevel.COMMUNITY_LEAD:
        return Desk(level, community) if community else None
    if level is DeskLevel.STREET_CENTER:
        return Desk(level, street) if street else None
    if level is DeskLevel.DISTRICT_CENTER:
        code = district or (street or community or "")[:6]
        return Desk(level, code) if district or len(code) == 6 else None
    return None


def _notice(
    event: CaseEventDoc,
    kind: NoticeKind,
    *,
    desk: Desk,
    policy: NoticePolicy,
    community: str | None,
    street: str | None,
    why: str,
) -> Notice:
    return Notice(
        notice_id=f"{event.event_id}>{desk}",
        event_id=event.event_id,
        incident_id=event.incident_id,
        kind=kind,
        desk=desk,
        community_code=community,
        street_code=street,
        title=f"{TITLES[kind]}：{why}",
        created_at=event.at,
        receive_by=event.at + policy.receive_within[kind],
        rung=RUNGS.index(desk.level) if desk.level in RUNGS else 0,
        data={"reason": event.reason, "by": event.actor_id},
    )


def notices_for(event: CaseEventDoc, policy: NoticePolicy, *, district: str | None = None) -> list[Notice]:
    """The notices one case event makes (see the module doc); [] for every other event.
    `district`: the case's district code (`city` at the city desk); None: read from its codes."""
    grid = event.grid_code
    community = grid[:12] if grid and len(grid) >= 12 else None
    street = event.street_code or (grid[:9] if grid else None)
    esc = event.data.escalation
    if event.action == "reassign":
        desk = desk_at(DeskLevel.COMMUNITY_LEAD, community, street)
        why = "未按时签收，系统改派" if event.actor_id == "sla" else (event.reason or "任务改派")
        return (
            [
                _notice(
                    event,
                    NoticeKind.REASSIGN,
                    desk=desk,
                    policy=policy,
                    community=community,
                    street=street,
                    why=why,
                )
            ]
            if desk
            else []
        )
    if event.action != "escalate" or esc is None or esc.overtaken:
        return []
    community = esc.community_code or community
    street = esc.street_code or street
    if esc.step == "manual":
        kind = NoticeKind.MANUAL
    elif esc.action in STEP_KINDS:
        kind = STEP_KINDS[esc.action]
    else:
        return []  # a reminder: the assignee's, not a desk's
    try:
        level = DeskLevel(esc.target)
    except ValueError:
        return []
    if esc.clock in CLOCK_ZH and esc.fraction is not None:
        why = f"{CLOCK_ZH[esc.clock]}时限已用 {esc.fraction:.0%}"
    else:
        why = event.reason or esc.step
    out: list[Notice] = []
    desk = desk_at(level, community, street, district)
    if desk is not None:
        out.append(
            _notice(event, kind, desk=desk, policy=policy, community=community, street=street, why=why)
        )
    for unit in esc.copy_to_ids:
        if unit.startswith("unit:"):
            dept = Desk(DeskLevel.DEPARTMENT, unit.removeprefix("unit:"))
            out.append(
                _notice(
                    event,
                    NoticeKind.WHISTLE,
                    desk=dept,
                    policy=policy,
                    community=community,
                    street=street,
                    why=why,
                )
            )
    return out


TRANSITIONS: dict[tuple[NoticeState, NoticeAction], NoticeState] = {
    (NoticeState.SENT, NoticeAction.RECEIVE): NoticeState.RECEIVED,
    (NoticeState.RECEIVED, NoticeAction.ANSWER): NoticeState.ANSWERED,
    (NoticeState.SENT, NoticeAction.CLIMB): NoticeState.CLIMBED,
}
"""Every allowed (state, action) and the state it leads to; anything else is refused."""


def advance(state: NoticeState, action: NoticeAction) -> NoticeState:
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise NoticeRefused(state, action)
    return target


def check_answer(text: str, due: datetime, now: datetime) -> str:
    """The answer's text, trimmed; its promised date must be timezone-aware and not past."""
    what = text.strip()
    if not what:
        raise NoticeInputError("what", "say what the unit will do")
    if due.tzinfo is None:
        raise NoticeInputError("by", "a date with its time zone offset")
    if due < now:
        raise NoticeInputError("by", "the promised date has already passed")
    return what


def climbed(notice: Notice, policy: NoticePolicy, now: datetime) -> Notice | None:
    """The notice one rung up that replaces an unreceived `notice` at `now` (None: none due)."""
    if notice.kind not in policy.climbing or notice.receive_by > now or notice.desk.level not in RUNGS:
        return None
    rung = RUNGS.index(notice.desk.level) + 1
    if rung >= len(RUNGS):
        return None  # the district center is the top of the ladder
    desk = desk_at(RUNGS[rung], notice.community_code, notice.street_code)
    if desk is None:
        return None
    return Notice(
        notice_id=f"{notice.notice_id}^",
        event_id=notice.event_id,
        incident_id=notice.incident_id,
        kind=notice.kind,
        desk=desk,
        community_code=notice.community_code,
        street_code=notice.street_code,
        title=f"{notice.title}（{LEVEL_ZH[notice.desk.level]}未签收，提级）",
        created_at=now,
        receive_by=now + policy.receive_within[notice.kind],
        rung=rung,
        data={**notice.data, "climbed_from": notice.notice_id},
    )
