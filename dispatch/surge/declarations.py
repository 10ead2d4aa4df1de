"""From a CAP notice or an operator's request to a surge declaration (pure).

A CAP alert's surge is keyed on its identifier (uuid5), so a redelivered alert declares the
same surge once. It starts at `<effective>` (else `<sent>`) and ends at `<expires>` (else the
policy's default length). An Update replaces the surges of the alerts it references; a Cancel
ends them. An alert whose type and level have no policy puts nothing in force.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from dispatch.surge.areas import WarningArea
from dispatch.surge.cap import CapNotice, MsgType
from dispatch.surge.models import SurgeOrigin
from dispatch.surge.policy import SurgePolicy, SurgeRule

SURGE_NAMESPACE = uuid.UUID("0c7f1b4e-5a2d-5c8e-9f31-7d6a2b4e8c10")


def cap_surge_id(identifier: str) -> str:
    return str(uuid.uuid5(SURGE_NAMESPACE, f"cap\x1f{identifier}"))


@dataclass(frozen=True, slots=True)
class Declaration:
    surge_id: str
    origin: SurgeOrigin
    reference: str | None
    rule: SurgeRule
    title: str
    area: WarningArea
    starts_at: datetime
    ends_at: datetime
    declared_by: str


@dataclass(frozen=True, slots=True)
class CapEffect:
    """What one CAP notice does: surges to end (by the alerts they came from), one to declare."""

    ends: tuple[str, ...]  # surge ids
    declare: Declaration | None
    why: str


def cap_effect(notice: CapNotice, policy: SurgePolicy) -> CapEffect:
    ends = tuple(cap_surge_id(r) for r in notice.references)
    if notice.msg_type is MsgType.CANCEL:
        return CapEffect(ends, None, f"CAP Cancel {notice.identifier}")
    rule = policy.rule_for(notice.event, notice.severity, notice.headline)
    why = f"CAP {notice.msg_type} {notice.identifier}"
    if rule is None or notice.area.empty:
        missing = "no surge policy for its warning and level" if rule is None else "no area"
        return CapEffect(ends if notice.msg_type is MsgType.UPDATE else (), None, f"{why}: {missing}")
    starts = notice.effective or notice.sent
    ends_at = (
        notice.expires if notice.expires and notice.expires > starts else starts + policy.default_duration
    )
    declaration = Declaration(
        surge_id=cap_surge_id(notice.identifier),
        origin=SurgeOrigin.CAP,
        reference=notice.identifier,
        rule=rule,
        title=notice.headline or rule.name,
        area=notice.area,
        starts_at=starts,
        ends_at=ends_at,
        declared_by="cap",
    )
    return CapEffect(ends if notice.msg_type is MsgType.UPDATE else (), declaration, why)
