"""The return-visit policy as checked data (config/revisits.toml): the time to answer, the
reasons a reporter may give for 不满意 (and which are about the handling), the rework steps.

A broken file is refused at load time naming the entry, never discovered on an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from config.policy import CONFIG_DIR, Duration, PolicyError, read_toml
from dispatch.revisits.values import ReworkTarget

_MINUTES = {"min": 1, "h": 60, "d": 24 * 60}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    zh: str
    handling: bool  # about how the case was handled: 不满意 for it reopens the case
    en: str = ""  # the resident page's English (the zh when not given)


@dataclass(frozen=True, slots=True)
class RevisitPolicy:
    answer_within: timedelta
    reasons: dict[str, Reason]
    rework: tuple[ReworkTarget, ...]  # the n-th reopening for the handling goes to rework[n - 1]

    def rework_step(self, reworks_so_far: int) -> ReworkTarget | None:
        """Where the next rework goes, or None when the policy allows no more.

        >>> policy = load_revisit_policy()
        >>> [policy.rework_step(n) for n in range(3)]
        [<ReworkTarget.SAME_UNIT: 'same_unit'>, <ReworkTarget.STREET_CENTER: 'street_center'>, None]
        """
        return self.rework[reworks_so_far] if reworks_so_far < len(self.rework) else None

    def reason_code(self, text: str) -> str | None:
        """The code of a reason given by its code or its words (12345 writes the words).

        >>> policy = load_revisit_policy()
        >>> policy.reason_code("问题未解决"), policy.reason_code("not_fixed"), policy.reason_code("好")
        ('not_fixed', 'not_fixed', None)
        """
        word = text.strip()
        return next((r.code for r in self.reasons.values() if word in (r.code, r.zh)), None)


def parse_revisit_policy(doc: dict[str, Any], origin: str = "revisits") -> RevisitPolicy:
    within = Duration.parse(str(doc.get("answer_within", "")))
    reasons: dict[str, Reason] = {}
    for i, entry in enumerate(doc.get("reason", [])):
        where = f"{origin}: reason[{i}]"
        code, zh, handling, en = entry.get("code"), entry.get("zh"), entry.get("handling"), entry.get("en")
        if not isinstance(code, str) or not code or not isinstance(zh, str) or not zh:
            raise PolicyError(f"{where}: needs a non-empty 'code' and 'zh'")
        if not isinstance(handling, bool):
            raise PolicyError(f"{where}: 'handling' must be true or false")
        if code in reasons:
            raise PolicyError(f"{where}: reason {code!r} defined twice")
        if en is not None and (not isinstance(en, str) or not en):
            raise PolicyError(f"{where}: 'en' must be a non-empty text when given")
        reasons[code] = Reason(code, zh, handling, en or zh)
    if not reasons:
        raise PolicyError(f"{origin}: at least one [[reason]] is needed")
    steps: list[ReworkTarget] = []
    for i, entry in enumerate(doc.get("rework", [])):
        target = entry.get("target")
        if target not in {t.value for t in ReworkTarget}:
            choices = ", ".join(t.value for t in ReworkTarget)
            raise PolicyError(f"{origin}: rework[{i}]: target must be one of {choices}, not {target!r}")
        steps.append(ReworkTarget(target))
    return RevisitPolicy(timedelta(minutes=_MINUTES[within.unit] * within.value), reasons, tuple(steps))


def load_revisit_policy(path: Path = CONFIG_DIR / "revisits.toml") -> RevisitPolicy:
    return parse_revisit_policy(read_toml(path), origin=str(path))
