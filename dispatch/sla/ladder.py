"""The escalation ladder of `config/escalation.toml` (README, escalation) as a frozen, storable value.

小事不出村、大事不出镇、矛盾不上交: an overdue item climbs grid → community → street → district.

Why a document and a fingerprint: the policy in force when a task is created stays with the task
(as in Grafana OnCall's escalation snapshots), so editing the ladder never changes what happens
to tasks already open. The caller stores `policy.to_document()` once per distinct
`policy.fingerprint` and keeps the fingerprint on the task; `parse_escalation(document)` gives the
same policy back after a restart.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from config.policy import CONFIG_DIR, PolicyError, read_toml
from dispatch.sla.clocks import ClockName


class EscalationAction(StrEnum):
    REMIND = "remind"  # 提醒: the assignee is told the clock is running out
    URGE = "urge"  # 催办: the next level up is told to chase it
    ESCALATE = "escalate"  # 提级: the next level up takes charge
    SUPERVISE = "supervise"  # 督办: formal supervision notice


class LadderTarget(StrEnum):
    ASSIGNEE = "assignee"
    COMMUNITY_LEAD = "community_lead"
    STREET_CENTER = "street_center"
    DISTRICT_CENTER = "district_center"
    UNIT_LEADER = "unit_leader"  # the responsible unit's leader, copied on 督办


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    at: float  # fraction of the clock's budget: 0.8 yellow, 1.0 red, 2.0 = one more limit overdue
    action: EscalationAction
    target: LadderTarget
    copy_to: tuple[LadderTarget, ...] = ()
    reassign_unaccepted: bool = False  # on the accept clock: take the task from its assignee


@dataclass(frozen=True, slots=True)
class Ladder:
    name: str
    clocks: frozenset[ClockName]
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    ladders: tuple[Ladder, ...]
    returns_to_lead: int  # a case returned this many times goes to the community lead
    _by_clock: dict[ClockName, Ladder] = field(init=False, repr=False, compare=False)
    fingerprint: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        by_clock: dict[ClockName, Ladder] = {}
        for ladder in self.ladders:
            for clock in ladder.clocks:
                if clock in by_clock:
                    raise PolicyError(f"escalation: clock {clock} is on two ladders")
                by_clock[clock] = ladder
        object.__setattr__(self, "_by_clock", by_clock)
        canonical = json.dumps(self.to_document(), sort_keys=True, separators=(",", ":"))
        object.__setattr__(self, "fingerprint", hashlib.sha256(canonical.encode()).hexdigest()[:16])

    def ladder_for(self, clock: ClockName) -> Ladder | None:
        return self._by_clock.get(clock)

    def to_document(self) -> dict[str, Any]:
        """Plain JSON-able data in the shape of the TOML file, for storing with a task."""
        return {
            "returns": {"to_community_lead_after": self.returns_to_lead},
            "ladder": [
                {
                    "name": ladder.name,
                    "clocks": sorted(ladder.clocks),
                    "step": [
                        {
                            "name": s.name,
                            "at": s.at,
                            "action": s.action.value,
                            "target": s.target.value,
                            "copy_to": [t.value for t in s.copy_to],
                            "reassign_unaccepted": s.reassign_unaccepted,
                        }
                        for s in ladder.steps
                    ],
                }
                for ladder in self.ladders
            ],
        }


E = TypeVar("E", bound=StrEnum)


def _enum(kind: type[E], value: object, where: str) -> E:
    try:
        return kind(str(value))
    except ValueError:
        raise PolicyError(f"{where}: {value!r} is not one of {', '.join(kind)}") from None


def _step(entry: dict[str, Any], where: str) -> Step:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{where}: 'name' must be a non-empty string")
    at = entry.get("at")
    if isinstance(at, bool) or not isinstance(at, int | float) or at <= 0:
        raise PolicyError(f"{where}: 'at' must be a positive fraction of the limit (0.8, 1, 2)")
    copy_to = entry.get("copy_to", [])
    if not isinstance(copy_to, list):
        raise PolicyError(f"{where}: 'copy_to' must be a list")
    reassign = entry.get("reassign_unaccepted", False)
    if not isinstance(reassign, bool):
        raise PolicyError(f"{where}: 'reassign_unaccepted' must be true or false")
    return Step(
        name=name,
        at=float(at),
        action=_enum(EscalationAction, entry.get("action"), f"{where}: action"),
        target=_enum(LadderTarget, entry.get("target"), f"{where}: target"),
        copy_to=tuple(_enum(LadderTarget, t, f"{where}: copy_to") for t in copy_to),
        reassign_unaccepted=reassign,
    )


def parse_escalation(doc: dict[str, Any], origin: str = "escalation") -> EscalationPolicy:
    ladders: list[Ladder] = []
    for i, entry in enumerate(doc.get("ladder", [])):
        where = f"{origin}: ladder[{i}]"
        clocks = entry.get("clocks")
        if not isinstance(clocks, list) or not clocks:
            raise PolicyError(f"{where}: 'clocks' must be a non-empty list")
        steps = tuple(_step(s, f"{where}.step[{j}]") for j, s in enumerate(entry.get("step", [])))
        if not steps:
            raise PolicyError(f"{where}: no steps")
        if any(b.at <= a.at for a, b in pairwise(steps)):
            raise PolicyError(f"{where}: steps must be in strictly increasing order of 'at'")
        ladders.append(
            Ladder(
                name=str(entry.get("name", i)),
                clocks=frozenset(_enum(ClockName, c, f"{where}: clocks") for c in clocks),
                steps=steps,
            )
        )
    returns = doc.get("returns", {}).get("to_community_lead_after")
    if isinstance(returns, bool) or not isinstance(returns, int) or returns < 1:
        raise PolicyError(f"{origin}: returns.to_community_lead_after must be a whole number >= 1")
    return EscalationPolicy(ladders=tuple(ladders), returns_to_lead=returns)


def load_escalation(path: Path = CONFIG_DIR / "escalation.toml") -> EscalationPolicy:
    return parse_escalation(read_toml(path), origin=str(path))
